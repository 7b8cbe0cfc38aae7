import type { DynosaurConfig, ProcessConfig } from "./config.js";
import type { FormationController } from "./formation/controller.js";
import { PolicyEstimates } from "./policy/estimators.js";
import { type Combined, combine, type Decision, decide } from "./policy.js";
import type { SourceStatus } from "./report.js";
import { type Limits, limitsAt } from "./schedule.js";
import type { Source } from "./source.js";

/** One process type's sources and combined estimate, as the policy sees them from a quantity. */
export interface View {
  sources: SourceStatus[];
  combined: Combined;
}

/** What the loop needs of one process type at a tick. */
export interface Plan {
  type: string;
  /** The view of the last decision (or, when none was made, from the last known quantity). */
  view(): View;
  decide(current: number): Decision;
}

/** The limits in force for `type` at `now`: a schedule window's, or the process type's own. */
export function limitsFor(config: DynosaurConfig, type: string, now: number): Limits {
  const p = config.processes[type];
  if (!p) return { min: 0, max: 1, window: null };
  return limitsAt({ min: p.min_dynos, max: p.max_dynos }, p.schedule, config.scaler.timezone, now);
}

/**
 * Builds every process type's plan for a tick, and keeps what outlives a tick: since when
 * each process type has had nothing to do (for scaling to zero), and what the scaling
 * policy learned from each source.
 */
export class Planner {
  readonly #idleSince = new Map<string, number>();
  readonly #policy = new PolicyEstimates();

  /** The plans at `now`, once the sources were polled. */
  plans(config: DynosaurConfig, sources: readonly Source[], controller: FormationController, now: number): Plan[] {
    this.#policy.observe(config.scaler.policy, config.scaler.boot_seconds, sources);
    return Object.entries(config.processes).map(([type, p]) => this.#plan(config, type, p, sources, controller, now));
  }

  #plan(
    config: DynosaurConfig,
    type: string,
    p: ProcessConfig,
    all: readonly Source[],
    controller: FormationController,
    now: number,
  ): Plan {
    const limits = limitsFor(config, type, now);
    const { policy, boot_seconds } = config.scaler;
    // The seed waited the blackout before going to zero; the other policies default to no
    // blackout, so they wait at least a boot time: the next job would wait that long.
    const idleSeconds = policy === "seed" ? p.blackout : Math.max(p.blackout, boot_seconds);
    const settings = {
      minDynos: limits.min,
      maxDynos: limits.max,
      blackout: p.blackout,
      scaleDownStep: p.scale_down_step,
      idleSeconds,
    };
    const own = all.filter((s) => s.process === type);
    const readings = own.map((s) => s.status(now));
    const busy = readings.reduce((n, s) => n + (s.busy ?? 0), 0);
    // Idle: every source has a reading that asks for nothing, and nothing runs.
    const idle = readings.length > 0 && readings.every((s) => s.estimate === 0) && busy === 0;
    if (!idle) this.#idleSince.delete(type);
    else if (!this.#idleSince.has(type)) this.#idleSince.set(type, now);
    const idleSince = this.#idleSince.get(type) ?? null;
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
          now,
          settings,
          busy: p.hold_while_busy ? busy : 0,
          idleSince,
          sources,
          combined,
          current,
          lastChange: controller.lastChange(type),
          refusedQuantity: controller.refusedQuantity(type, now),
        });
      },
    };
  }
}
