import type { EstimateContext } from "@dynosaur/core";
import type { EstimateRule } from "./options.js";

/**
 * Dynos a reading needs.
 *
 * depth: ceil(depth / jobs_per_dyno).
 *
 * latency (seconds the oldest runnable job has waited; 0 only when none waits), with c the
 * dynos running now (0 before Heroku was read):
 *   latency > target                 c + max(1, floor(latency / target)): one more dyno, and one
 *                                    per further latency_target of wait
 *   low_water <= latency <= target   max(c, 1): hold
 *   0 < latency < low_water          max(c - 1, 1): one fewer, but a job waits, so never 0
 *   latency = 0                      max(c - 1, 0): one fewer; core's blackout and
 *                                    scale_down_step pace the way down
 * So with no dyno and any job waiting, the estimate is at least 1 (wake from zero), and for a
 * given c it never falls as latency rises.
 */
export function estimateDynos(rule: EstimateRule, value: number, context?: EstimateContext): number {
  if (!(value > 0)) {
    if (rule.metric === "depth") return 0;
    return Math.max((context?.current ?? 0) - 1, 0);
  }
  if (rule.metric === "depth") return Math.ceil(value / rule.jobsPerDyno);
  const current = context?.current ?? 0;
  if (value > rule.target) return current + Math.max(1, Math.floor(value / rule.target));
  if (value >= rule.lowWater) return Math.max(current, 1);
  return Math.max(current - 1, 1);
}
