import type { Clock } from "./clock.js";
import type { DynosaurConfig, ProcessConfig } from "./config.js";
import { DynosaurError } from "./errors.js";
import type { ApplyResult, Change, FormationController } from "./formation/controller.js";
import { PolicyEstimates } from "./policy/estimators.js";
import { type Combined, combine, type Decision, decide } from "./policy.js";
import type { SourceStatus, TickReport } from "./report.js";
import { limitsAt } from "./schedule.js";
import type { Source } from "./source.js";

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

type Outcome = Pick<TickReport, "before" | "after" | "reason">;

/** One process type's view of a tick: its sources and combined estimate as the policy sees them from `current`. */
interface View {
  sources: SourceStatus[];
  combined: Combined;
}

interface Plan {
  type: string;
  /** The view of the last decision (or, when none was made, from the last known quantity). */
  view: () => View;
  decide: (current: number) => Decision;
}

/**
 * The scaler loop, one tick at a time: poll the sources → decide per process type → apply
 * the changes through the formation controller (one call) → one report per process type
 * to the listeners. Ticks never overlap.
 */
export class Loop {
  parts: LoopParts;
  lastReports: TickReport[] = [];
  readonly #deps: LoopDeps;
  #running: Promise<void> | null = null;
  readonly #stopping = new AbortController();
  #tickSignal = new AbortController();
  #ticking: Promise<TickReport[]> | null = null;
  /** Per process type: since when it has had nothing to do (for scaling to zero). */
  readonly #idleSince = new Map<string, number | null>();
  /** What the scaling policy learned from each source. */
  readonly #policy = new PolicyEstimates();

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
    if (this.#stopping.signal.aborted)
      throw new DynosaurError("DYNO_USAGE", "this runtime was stopped; create a new one");
    const { clock } = this.#deps;
    const signal = this.#stopping.signal;
    this.#running = (async () => {
      while (!signal.aborted) {
        const started = clock.now();
        await this.tick().catch(this.#deps.onUnexpected);
        if (signal.aborted) break;
        const wait = Math.max(0, this.parts.config.scaler.interval * 1000 - (clock.now() - started));
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

  /** Resolves when the tick under way (if any) has finished; starts none. */
  async idle(): Promise<void> {
    await this.#ticking?.catch(() => {});
  }

  /** Runs one tick now; a second call waits for the first. */
  tick(): Promise<TickReport[]> {
    const run = (this.#ticking ?? Promise.resolve()).catch(() => {}).then(() => this.#tick());
    this.#ticking = run;
    return run;
  }

  async #tick(): Promise<TickReport[]> {
    if (this.#tickSignal.signal.aborted) this.#tickSignal = new AbortController();
    const signal = this.#tickSignal.signal;
    const { config, sources, controller } = this.parts;

    // 1. Read the sources whose interval has passed, in parallel. A slow one is waited for
    // at most one tick; until its reading lands, its last good one stands.
    const now0 = this.#deps.clock.now();
    await Promise.all(
      sources.map((s) =>
        s.poll(this.limits(s.process, now0).max, config.scaler.interval * 1000, controller.current(s.process)),
      ),
    );
    const now = this.#deps.clock.now();
    this.#policy.observe(config.scaler.policy, config.scaler.boot_seconds, sources);
    const plans = Object.entries(config.processes).map(([type, p]) => this.#plan(type, p, now));

    // 2 + 3. Decide and act.
    const outcomes = await this.#act(now, plans, signal);

    // 4. Report.
    const events = controller.drainEvents();
    const reports = plans.map((plan, i): TickReport => {
      const view = plan.view();
      return {
        time: now,
        app: config.scaler.heroku_app_name ?? "(dry run)",
        processType: plan.type,
        dryRun: config.scaler.dry_run,
        ...(outcomes[i] as Outcome),
        estimate: view.combined.estimate,
        winner: view.combined.winner,
        sources: view.sources,
        // Events about the whole app (Heroku not answering) go with the first process type.
        events: events.filter((e) => e.processType === plan.type || (i === 0 && e.processType === null)),
      };
    });
    this.lastReports = reports;
    const calls = [
      ...reports.flatMap((r) => this.#deps.listeners.map((listener) => () => listener(r))),
      () => this.#deps.onTick?.(reports),
    ];
    for (const call of calls) {
      try {
        call();
      } catch (e) {
        this.#deps.onUnexpected(e);
      }
    }
    return reports;
  }

  /** The limits in force for `type` at `now`: a schedule window's, or the process type's own. */
  limits(type: string, now: number) {
    const p = this.parts.config.processes[type];
    if (!p) return { min: 0, max: 1, window: null };
    return limitsAt({ min: p.min_dynos, max: p.max_dynos }, p.schedule, this.parts.config.scaler.timezone, now);
  }

  /** A process type's sources, combined estimate and decision rule at `now`, with the limits in force. */
  #plan(type: string, p: ProcessConfig, now: number): Plan {
    const { config, sources: all, controller } = this.parts;
    const limits = this.limits(type, now);
    const { policy, boot_seconds } = config.scaler;
    // The seed waited the blackout before going to zero; the other policies default to no
    // blackout, so they wait at least a boot time: the next job would wait that long.
    const idleSeconds = policy === "seed" ? p.blackout : Math.max(p.blackout, boot_seconds);
    const settings = { ...p, min_dynos: limits.min, max_dynos: limits.max, idle_seconds: idleSeconds };
    const own = all.filter((s) => s.process === type);
    const readings = own.map((s) => s.status(now));
    const busy = readings.reduce((n, s) => n + (s.busy ?? 0), 0);
    // Idle: every source has a reading that asks for nothing, and nothing runs.
    const idle = readings.length > 0 && readings.every((s) => s.estimate === 0) && busy === 0;
    if (!idle) this.#idleSince.set(type, null);
    else if (!this.#idleSince.get(type)) this.#idleSince.set(type, now);
    const base = { now, settings, busy: p.hold_while_busy ? busy : 0, idleSince: this.#idleSince.get(type) ?? null };
    let last: View | null = null;
    const viewFrom = (current: number): View => {
      const sources = this.#policy.plan(own, readings, { now, current, headroom: p.headroom });
      last = { sources, combined: combine(sources, settings) };
      return last;
    };
    return {
      type,
      view: () => last ?? viewFrom(controller.current(type) ?? limits.min),
      decide: (current) => {
        const { sources, combined } = viewFrom(current);
        return decide({
          ...base,
          sources,
          combined,
          current,
          lastChange: controller.lastChange(type),
          refusedQuantity: controller.refusedQuantity(type, now),
        });
      },
    };
  }

  async #act(now: number, plans: Plan[], signal: AbortSignal): Promise<Outcome[]> {
    const { controller } = this.parts;
    const read = await controller.read(now, signal);
    if (!read.ok)
      return plans.map(() => ({ before: null, after: null, reason: `Heroku unavailable, holding (${read.code})` }));
    const before = read.quantities;
    let current = before;
    let decisions = plans.map((p) => p.decide(before.get(p.type) ?? 0));
    const changing = () => plans.some((p, i) => decisions[i]?.target !== current.get(p.type));

    // Always act on fresh quantities: someone may have scaled by hand since the last read.
    if (changing() && !controller.readIsFresh(now)) {
      const again = await controller.read(now, signal, true);
      if (!again.ok)
        return plans.map((p) => ({
          before: before.get(p.type) ?? null,
          after: before.get(p.type) ?? null,
          reason: `Heroku unavailable, holding (${again.code})`,
        }));
      current = again.quantities;
      decisions = plans.map((p) => p.decide(current.get(p.type) ?? 0));
    }

    const changes: Change[] = [];
    plans.forEach((p, i) => {
      const from = current.get(p.type) ?? 0;
      const target = decisions[i]?.target ?? from;
      if (target !== from) changes.push({ type: p.type, from, target });
    });
    const results = changes.length > 0 ? await controller.apply(changes, now, signal) : new Map<string, ApplyResult>();
    return plans.map((p, i) => {
      const decision = decisions[i] as Decision;
      const from = current.get(p.type) ?? 0;
      const result = results.get(p.type);
      const outcome = { before: before.get(p.type) ?? null, after: result?.quantity ?? from, reason: decision.reason };
      if (result?.kind === "standby") outcome.reason = `${decision.reason}; standing by: ${result.reason}`;
      else if (result && result.kind !== "applied" && result.quantity === from)
        outcome.reason = `${decision.reason}; not applied (${controller.errorCode ?? "refused"})`;
      return outcome;
    });
  }
}
