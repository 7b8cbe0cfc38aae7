import type { EstimateContext } from "@dynosaur/core";

/**
 * Dynos for a time (queue or service, ms) against a target, from the dynos running now.
 * Above the target: more in proportion (current x time / target, rounded up: at least one
 * more). From half the target up to it: no change, a dead band so the count does not flap.
 * Under half: one fewer (never under one), as a queue time near 0 says little about how many
 * fewer would still do. Monotone in `ms` for any `current`.
 */
export function dynosForTime(ms: number, targetMs: number, context?: EstimateContext): number {
  // Before Heroku was read (or with web at 0), reason from one dyno.
  const current = Math.max(context?.current ?? 1, 1);
  if (ms > targetMs) return Math.max(current + 1, Math.ceil((current * ms) / targetMs));
  if (ms >= targetMs / 2) return current;
  return Math.max(current - 1, 1);
}
