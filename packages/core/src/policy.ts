import type { SourceStatus } from "./report.js";

/** The settings a decision depends on (a process type's `min_dynos`, `max_dynos`, `blackout`, `scale_down_step`). */
export interface PolicySettings {
  minDynos: number;
  maxDynos: number;
  /** Seconds after a change during which no scale-down happens. */
  blackout: number;
  /** Most dynos removed at once; 0 = straight to the estimate. */
  scaleDownStep: number;
  /** Seconds a process type must stay idle before it goes to zero. @default blackout */
  idleSeconds?: number;
}

export interface Combined {
  /** Largest source estimate clamped to [min, max]; null when no source has a reading. */
  estimate: number | null;
  /** The largest estimate before clamping. */
  raw: number | null;
  /** Name of the source whose estimate won. */
  winner: string | null;
}

/** The seed's rule: the largest estimate over all sources wins, then it is clamped to [min, max]. */
export function combine(
  sources: readonly SourceStatus[],
  settings: Pick<PolicySettings, "minDynos" | "maxDynos">,
): Combined {
  let raw: number | null = null;
  let winner: string | null = null;
  for (const s of sources) {
    if (s.estimate !== null && (raw === null || s.estimate > raw)) {
      raw = s.estimate;
      winner = s.name;
    }
  }
  return { raw, winner, estimate: raw === null ? null : clamp(raw, settings.minDynos, settings.maxDynos) };
}

export function clamp(n: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, n));
}

export interface DecisionInput {
  now: number;
  current: number;
  combined: Combined;
  sources: readonly SourceStatus[];
  /** When the formation last changed (by us or by hand), or null if unknown. */
  lastChange: number | null;
  /** Heroku refused this quantity (e.g. a plan's limit): never ask for it or more. */
  refusedQuantity: number | null;
  settings: PolicySettings;
  /** Jobs running now, when the process type holds while busy (`hold_while_busy`); else 0. */
  busy?: number;
  /** Since when the process type has had nothing to do (no work waiting or running), or null. */
  idleSince?: number | null;
}

export interface Decision {
  target: number;
  /** A few words on why, for logs: `scale up`, `blackout (120 s left)`, ... */
  reason: string;
}

/**
 * Decides the quantity to ask for. Up at once; down only after the blackout, by at most
 * `scaleDownStep`, and never while any source is stale or out: missing data must not
 * shrink an app. The quantity is always kept within [min, max].
 */
export function decide(input: DecisionInput): Decision {
  const { current, combined, settings, now } = input;
  // A refused quantity only caps scale-ups: Heroku may refuse one size, but that is no
  // reason to shrink an app (nor to skip the blackout on the way down).
  const cap =
    input.refusedQuantity === null ? settings.maxDynos : Math.min(settings.maxDynos, input.refusedQuantity - 1);
  const floor = Math.min(settings.minDynos, cap);

  // Bounds come from the config, not from data, so they hold whatever the sources say.
  if (current < floor) {
    const short = floor < settings.minDynos ? `; Heroku refused ${input.refusedQuantity}: up to ${floor} only` : "";
    return { target: floor, reason: `below min_dynos (${settings.minDynos})${short}` };
  }
  if (current > settings.maxDynos)
    return { target: settings.maxDynos, reason: `above max_dynos (${settings.maxDynos})` };

  const unhealthy = input.sources.filter((s) => s.health !== "ok");
  if (combined.estimate === null) return { target: current, reason: "no readings yet" };
  if (input.sources.length > 0 && input.sources.every((s) => s.health === "outage")) {
    return { target: current, reason: "every source is out: holding" };
  }

  const wanted = clamp(combined.estimate, settings.minDynos, settings.maxDynos);
  if (wanted > current) {
    const target = Math.min(wanted, Math.max(cap, current));
    return target > current
      ? { target, reason: "scale up" }
      : { target: current, reason: `Heroku refused ${input.refusedQuantity}: holding` };
  }
  if (wanted === current) return { target: current, reason: "steady" };

  if (unhealthy.length > 0) {
    return { target: current, reason: `not scaling down: ${unhealthy.map((s) => `${s.name} ${s.health}`).join(", ")}` };
  }
  // Heroku stops a dyno with SIGTERM and 30 s to finish: a scale-down could kill running jobs.
  if ((input.busy ?? 0) > 0)
    return { target: current, reason: `holding: ${input.busy} job(s) running (hold_while_busy)` };
  if (input.lastChange !== null) {
    const left = input.lastChange + settings.blackout * 1000 - now;
    if (left > 0) return { target: current, reason: `blackout (${Math.ceil(left / 1000)} s left)` };
  }
  if (wanted === 0) {
    // To zero only once the queue has stayed empty and idle for the blackout: the next job would wait for a boot.
    const idle = input.idleSince === null || input.idleSince === undefined ? 0 : now - input.idleSince;
    const wait = settings.idleSeconds ?? settings.blackout;
    if (idle < wait * 1000)
      return { target: current, reason: `idle ${Math.floor(idle / 1000)} s of ${wait} s before scaling to zero` };
  }
  const step = settings.scaleDownStep === 0 ? current - wanted : Math.min(settings.scaleDownStep, current - wanted);
  return { target: current - step, reason: "scale down" };
}
