import type { EstimateContext } from "@dynosaur/core";
import type { Rule } from "./options.js";

/**
 * Dynos a reading needs.
 *
 * depth: ceil(depth / jobs_per_dyno): the backlog each dyno can clear.
 *
 * latency: the wait of the oldest job says whether the dynos running now keep up, not how
 * many are needed, so the estimate moves relative to `current` within a band:
 * - above latency_target: max(current + 1, ceil(current x latency / latency_target)) —
 *   one more, or proportionally more when far above;
 * - from half the target up to the target: current (keeping up);
 * - below half the target (0 = nothing waiting): current - 1, so an idle fleet shrinks
 *   one step at a time (the engine's blackout and scale_down_step pace it further);
 * - with no dyno running (or the count unknown), any waiting job asks for 1: a queue
 *   whose workers are at zero has nobody to drain it, whatever its age.
 */
export function estimateDynos(rule: Rule, value: number, context?: EstimateContext): number {
  if (!(value > 0)) {
    // 0 (or a bad value core will refuse anyway): nothing waits.
    return rule.metric === "depth" ? 0 : Math.max(0, (context?.current ?? 0) - 1);
  }
  if (rule.metric === "depth") return Math.ceil(value / rule.jobsPerDyno);

  const current = Math.max(0, context?.current ?? 0);
  const target = rule.latencyTarget;
  let dynos: number;
  if (value > target) dynos = Math.max(current + 1, Math.ceil((current * value) / target));
  else if (value >= target / 2) dynos = current;
  else dynos = current - 1;
  // Wake from zero: a waiting job needs someone to run it.
  return Math.max(1, dynos);
}
