import type { Clock } from "./clock.js";
import { DynosaurError } from "./errors.js";

/**
 * Runs a task now (`tick()`) or every interval (`start()`), never two at once. `stop()` lets
 * the run under way finish, aborting its signal after a grace period.
 */
export class Ticker<T> {
  readonly #run: (signal: AbortSignal) => Promise<T>;
  readonly #clock: Clock;
  readonly #intervalMs: () => number;
  readonly #onError: (error: unknown) => void;
  #running: Promise<void> | null = null;
  readonly #stopping = new AbortController();
  #runSignal = new AbortController();
  #current: Promise<T> | null = null;

  constructor(
    run: (signal: AbortSignal) => Promise<T>,
    options: { clock: Clock; intervalMs: () => number; onError: (error: unknown) => void },
  ) {
    this.#run = run;
    this.#clock = options.clock;
    this.#intervalMs = options.intervalMs;
    this.#onError = options.onError;
  }

  get running(): boolean {
    return this.#running !== null;
  }

  /** Runs every interval (counted from the start of a run) until `stop()`. Returns at once. */
  start(): void {
    if (this.#running) return;
    const signal = this.#stopping.signal;
    if (signal.aborted) throw new DynosaurError("DYNO_USAGE", "this runtime was stopped; create a new one");
    const clock = this.#clock;
    this.#running = (async () => {
      while (!signal.aborted) {
        const started = clock.now();
        await this.tick().catch(this.#onError);
        if (signal.aborted) break;
        await clock.sleep(Math.max(0, this.#intervalMs() - (clock.now() - started)), signal).catch(() => {});
      }
    })();
  }

  /** Lets the run under way finish, abandoning its calls after `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    this.#stopping.abort();
    const timer = setTimeout(() => this.#runSignal.abort(new Error("stopping")), graceMs);
    timer.unref?.();
    try {
      await this.#running;
      await this.idle();
    } finally {
      clearTimeout(timer);
      this.#running = null;
    }
  }

  /** Resolves when the run under way (if any) has finished; starts none. */
  async idle(): Promise<void> {
    await this.#current?.catch(() => {});
  }

  /** Runs once now; a second call waits for the first. */
  tick(): Promise<T> {
    const run = (this.#current ?? Promise.resolve())
      .catch(() => {})
      .then(() => {
        if (this.#runSignal.signal.aborted) this.#runSignal = new AbortController();
        return this.#run(this.#runSignal.signal);
      });
    this.#current = run;
    return run;
  }
}
