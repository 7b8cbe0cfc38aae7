import type { Clock } from "./clock.js";
import type { ScalerConfig } from "./config.js";
import { DynosaurError } from "./errors.js";
import type { FormationController } from "./formation/controller.js";
import { type Combined, combine, decide } from "./policy.js";
import type { SourceStatus, TickReport } from "./report.js";
import type { Source } from "./source.js";

/** What one tick works with. The runtime swaps it between ticks when the config changes. */
export interface LoopParts {
  settings: ScalerConfig;
  sources: readonly Source[];
  controller: FormationController;
}

/** Receives every tick's report: the log, stats, alerts, an embedding program. */
export type TickListener = (report: TickReport) => void;

export interface LoopDeps {
  clock: Clock;
  listeners: readonly TickListener[];
  /** A listener or a tick threw: logged and alerted, never fatal. */
  onUnexpected: (error: unknown) => void;
}

/**
 * The scaler loop, one tick at a time: poll the sources → decide → apply through the
 * formation controller → one report to the listeners. Ticks never overlap.
 */
export class Loop {
  parts: LoopParts;
  lastReport: TickReport | null = null;
  readonly #deps: LoopDeps;
  #running: Promise<void> | null = null;
  readonly #stopping = new AbortController();
  #tickSignal = new AbortController();
  #ticking: Promise<TickReport> | null = null;

  constructor(parts: LoopParts, deps: LoopDeps) {
    this.parts = parts;
    this.#deps = deps;
  }

  get running(): boolean {
    return this.#running !== null;
  }

  /** Ticks every `interval` seconds until `stop()`. Returns at once. */
  start(): void {
    if (this.#running) return;
    if (this.#stopping.signal.aborted) throw new DynosaurError("DYNO_USAGE", "this runtime was stopped; create a new one");
    const { clock } = this.#deps;
    const signal = this.#stopping.signal;
    this.#running = (async () => {
      while (!signal.aborted) {
        const started = clock.now();
        await this.tick().catch(this.#deps.onUnexpected);
        if (signal.aborted) break;
        const wait = Math.max(0, this.parts.settings.interval * 1000 - (clock.now() - started));
        await clock.sleep(wait, signal).catch(() => {});
      }
    })();
  }

  /** Lets the tick under way finish, abandoning its calls after `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    this.#stopping.abort();
    const timer = setTimeout(() => this.#tickSignal.abort(new Error("stopping")), graceMs);
    timer.unref?.();
    try {
      await this.#running;
      await this.#ticking?.catch(() => {});
    } finally {
      clearTimeout(timer);
      this.#running = null;
    }
  }

  /** Runs one tick now; a second call waits for the first. */
  tick(): Promise<TickReport> {
    const run = (this.#ticking ?? Promise.resolve()).catch(() => {}).then(() => this.#tick());
    this.#ticking = run;
    return run;
  }

  async #tick(): Promise<TickReport> {
    if (this.#tickSignal.signal.aborted) this.#tickSignal = new AbortController();
    const signal = this.#tickSignal.signal;
    const { settings, sources, controller } = this.parts;

    // 1. Read the sources whose interval has passed, in parallel. A slow one is waited for
    // at most one tick; until its reading lands, its last good one stands.
    await Promise.all(sources.map((s) => s.poll(settings.max_dynos, settings.interval * 1000, controller.current)));
    const now = this.#deps.clock.now();
    const statuses = sources.map((s) => s.status(now));
    const combined = combine(statuses, settings);

    // 2 + 3. Decide and act.
    const { before, after, reason } = await this.#act(now, statuses, combined, signal);

    // 4. Report.
    const report: TickReport = {
      time: now,
      app: settings.heroku_app_name ?? "(dry run)",
      processType: settings.process_type,
      dryRun: settings.dry_run,
      before,
      after,
      estimate: combined.estimate,
      winner: combined.winner,
      reason,
      sources: statuses,
      events: controller.drainEvents(),
    };
    this.lastReport = report;
    for (const listener of this.#deps.listeners) {
      try {
        listener(report);
      } catch (e) {
        this.#deps.onUnexpected(e);
      }
    }
    return report;
  }

  async #act(now: number, sources: SourceStatus[], combined: Combined, signal: AbortSignal) {
    const { settings, controller } = this.parts;
    const decideFor = (current: number) =>
      decide({ now, current, combined, sources, lastChange: controller.lastChange, refusedQuantity: controller.refusedQuantity(now), settings });
    const unavailable = (code: string) => `Heroku unavailable, holding (${code})`;

    const read = await controller.read(now, signal);
    if (!read.ok) return { before: null, after: null, reason: unavailable(read.code) };
    const before = read.quantity;
    let decision = decideFor(before);
    if (decision.target === before) return { before, after: before, reason: decision.reason };

    // Always act on a fresh quantity: someone may have scaled by hand since the last read.
    let fresh = before;
    if (!controller.readIsFresh(now)) {
      const again = await controller.read(now, signal, true);
      if (!again.ok) return { before, after: before, reason: unavailable(again.code) };
      fresh = again.quantity;
      if (fresh !== before) decision = decideFor(fresh);
      if (decision.target === fresh) return { before, after: fresh, reason: decision.reason };
    }

    const result = await controller.apply(fresh, decision.target, now, signal);
    if (result.kind === "standby") return { before, after: fresh, reason: `${decision.reason}; standing by: ${result.reason}` };
    const notApplied = result.quantity === fresh && result.kind !== "applied";
    return { before, after: result.quantity, reason: notApplied ? `${decision.reason}; not applied (${controller.errorCode ?? "refused"})` : decision.reason };
  }
}
