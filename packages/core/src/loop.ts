import type { Clock } from "./clock.js";
import type { DynosaurConfig } from "./config.js";
import type { ApplyResult, Change, FormationController } from "./formation/controller.js";
import { limitsFor, type Plan, Planner } from "./plan.js";
import type { EngineEvent, TickReport } from "./report.js";
import type { Source } from "./source.js";
import { Ticker } from "./ticker.js";

/** What one tick works with. The runtime swaps it between ticks when the config changes. */
export interface LoopParts {
  config: DynosaurConfig;
  sources: readonly Source[];
  controller: FormationController;
}

/** Receives each process type's report of every tick: the log, stats, alerts, an embedding program. */
export type TickListener = (report: TickReport) => void;

export interface LoopDeps {
  clock: Clock;
  listeners: readonly TickListener[];
  /** Called once per tick with every process type's report, after the listeners. */
  onTick?: (reports: readonly TickReport[]) => void;
  /** A listener or a tick threw: logged and alerted, never fatal. */
  onUnexpected: (error: unknown) => void;
}

/**
 * The scaler loop, one tick at a time: poll the sources → plan and decide per process type
 * → apply the changes through the formation controller (one call) → one report per process
 * type to the listeners. Ticks never overlap.
 */
export class Loop {
  parts: LoopParts;
  lastReports: TickReport[] = [];
  readonly #deps: LoopDeps;
  readonly #planner = new Planner();
  readonly #ticker: Ticker<TickReport[]>;

  constructor(parts: LoopParts, deps: LoopDeps) {
    this.parts = parts;
    this.#deps = deps;
    this.#ticker = new Ticker((signal) => this.#tick(signal), {
      clock: deps.clock,
      intervalMs: () => this.parts.config.scaler.interval * 1000,
      onError: deps.onUnexpected,
    });
  }

  get running(): boolean {
    return this.#ticker.running;
  }

  /** Ticks every `interval` seconds until `stop()`. Returns at once. */
  start(): void {
    this.#ticker.start();
  }

  /** Lets the tick under way finish, abandoning its calls after `graceMs`. */
  stop(graceMs: number): Promise<void> {
    return this.#ticker.stop(graceMs);
  }

  /** Resolves when the tick under way (if any) has finished; starts none. */
  idle(): Promise<void> {
    return this.#ticker.idle();
  }

  /** Runs one tick now; a second call waits for the first. */
  tick(): Promise<TickReport[]> {
    return this.#ticker.tick();
  }

  async #tick(signal: AbortSignal): Promise<TickReport[]> {
    const { config, sources, controller } = this.parts;
    const { clock } = this.#deps;

    // 1. Read the sources whose interval has passed, in parallel. A slow one is waited for
    // at most one tick; until its reading lands, its last good one stands.
    const polled = clock.now();
    const waitMs = config.scaler.interval * 1000;
    await Promise.all(
      sources.map((s) => s.poll(limitsFor(config, s.process, polled).max, waitMs, controller.current(s.process))),
    );
    const now = clock.now();

    // 2 + 3. Plan and decide per process type, then act in one batch.
    const plans = this.#planner.plans(config, sources, controller, now);
    const outcomes = await act(controller, plans, now, signal);

    // 4. Report.
    const reports = tickReports(config, now, outcomes, controller.drainEvents());
    this.lastReports = reports;
    const { listeners, onTick, onUnexpected } = this.#deps;
    const calls = [...reports.flatMap((r) => listeners.map((listener) => () => listener(r))), () => onTick?.(reports)];
    for (const call of calls) {
      try {
        call();
      } catch (e) {
        onUnexpected(e);
      }
    }
    return reports;
  }
}

/**
 * Decides every process type on the formation as read (fresh before a change: someone may
 * have scaled by hand since the last read) and makes the changes in one call.
 */
async function act(
  controller: FormationController,
  plans: readonly Plan[],
  now: number,
  signal: AbortSignal,
): Promise<{ plan: Plan; outcome: Outcome }[]> {
  const holding = (code: string, before: (type: string) => number | null) =>
    plans.map((plan) => {
      const quantity = before(plan.type);
      return { plan, outcome: { before: quantity, after: quantity, reason: `Heroku unavailable, holding (${code})` } };
    });
  const read = await controller.read(now, signal);
  if (!read.ok) return holding(read.code, () => null);
  const before = read.quantities;
  let current = before;
  const decideAll = () => plans.map((plan) => ({ plan, decision: plan.decide(current.get(plan.type) ?? 0) }));
  let decided = decideAll();
  const changing = decided.some(({ plan, decision }) => decision.target !== current.get(plan.type));
  if (changing && !controller.readIsFresh(now)) {
    const again = await controller.read(now, signal, true);
    if (!again.ok) return holding(again.code, (type) => before.get(type) ?? null);
    current = again.quantities;
    decided = decideAll();
  }

  const changes: Change[] = [];
  for (const { plan, decision } of decided) {
    const from = current.get(plan.type) ?? 0;
    if (decision.target !== from) changes.push({ type: plan.type, from, target: decision.target });
  }
  const results = changes.length > 0 ? await controller.apply(changes, now, signal) : new Map<string, ApplyResult>();
  return decided.map(({ plan, decision }) => {
    const from = current.get(plan.type) ?? 0;
    const result = results.get(plan.type);
    let reason = decision.reason;
    if (result?.kind === "standby") reason = `${reason}; standing by: ${result.reason}`;
    else if (result?.kind === "held") reason = `${reason}; held: ${result.reason}`;
    else if (result && result.kind !== "applied" && result.quantity === from)
      reason = `${reason}; not applied (${controller.errorCode ?? "refused"})`;
    return { plan, outcome: { before: before.get(plan.type) ?? null, after: result?.quantity ?? from, reason } };
  });
}

/** What a tick did to one process type's formation. */
type Outcome = Pick<TickReport, "before" | "after" | "reason">;

/** One report per process type, with its outcome and events. */
function tickReports(
  config: DynosaurConfig,
  time: number,
  outcomes: ReadonlyArray<{ plan: Plan; outcome: Outcome }>,
  events: readonly EngineEvent[],
): TickReport[] {
  return outcomes.map(({ plan, outcome }, i): TickReport => {
    const { sources, combined } = plan.view();
    return {
      time,
      app: config.scaler.heroku_app_name ?? "(dry run)",
      processType: plan.type,
      dryRun: config.scaler.dry_run,
      ...outcome,
      estimate: combined.estimate,
      winner: combined.winner,
      sources,
      // Events about the whole app (Heroku not answering) go with the first process type.
      events: events.filter((e) => e.processType === plan.type || (i === 0 && e.processType === null)),
    };
  });
}
