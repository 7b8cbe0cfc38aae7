import type { Clock } from "../../src/clock.js";

/**
 * The soak's virtual clock. The driver moves it from tick to tick; anything that sleeps on
 * it in between (the Heroku client spacing requests when its budget runs low) is woken by
 * jumping time to the sleeper's deadline, since in a simulation nothing else would move it.
 */
export class SoakClock implements Clock {
  #now: number;
  #sleepers: { until: number; resolve: () => void }[] = [];
  #wakeScheduled = false;
  /** Virtual ms jumped over to wake sleepers (time spent waiting inside ticks). */
  slept = 0;

  constructor(start: number) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const sleeper = {
        until: this.#now + Math.max(0, ms),
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.#sleepers = this.#sleepers.filter((s) => s !== sleeper);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#sleepers.push(sleeper);
      this.#scheduleWake();
    });
  }

  /** Moves time to `time` (never backwards), waking every sleeper whose time has come. */
  set(time: number): void {
    if (time > this.#now) this.#now = time;
    const due = this.#sleepers.filter((s) => s.until <= this.#now);
    if (due.length === 0) return;
    this.#sleepers = this.#sleepers.filter((s) => s.until > this.#now);
    for (const s of due) s.resolve();
  }

  #scheduleWake(): void {
    if (this.#wakeScheduled) return;
    this.#wakeScheduled = true;
    setImmediate(() => {
      this.#wakeScheduled = false;
      const next = Math.min(...this.#sleepers.map((s) => s.until));
      if (!Number.isFinite(next)) return;
      this.slept += Math.max(0, next - this.#now);
      this.set(next);
    });
  }
}
