/**
 * The `forecast` scaling policy: provision now for the load one boot time ahead.
 *
 * Design note (issue 14). Why each rule:
 *
 * - **Look one horizon ahead.** A dyno asked for now serves after `boot_seconds`, and the
 *   next decision comes one poll interval later, so this decision must cover the load until
 *   `boot_seconds + interval` from now (the horizon). Following the last reading is always
 *   one horizon late on a rise; that lag is where nearly all shortfall comes from.
 * - **Margin = a quantile of the rises seen, not a multiple of the level.** Each source's
 *   forecaster (./forecaster.ts) remembers, over about a day, how far the load rose within
 *   one horizon after each reading, and plans `last reading + q-quantile of those rises`:
 *   the newsvendor answer to "how much spare is worth paying for". A smooth load (taxi:
 *   changes every 30 min) gets no margin at all, a bursty one (web, tweets) a large one,
 *   from the same rule. A multiplicative margin cannot do both.
 * - **Conditioned on the trend.** Rises are learned separately for readings taken while the
 *   load was rising, falling or flat over the previous horizon: after a drop the load often
 *   comes back (the "dip" that should not shed dynos), after a jump it often rests. This is
 *   the down-side window and the burst rule in one, learned from the source's own history
 *   instead of fixed: a dip is only bridged when dips on this source have been followed by
 *   rebounds. (Tried while designing: a fixed 3–5 min down window on top cost +13–26 % on
 *   AWS, +6–12 % on GOOG, +0.3–0.5 % on taxi, for the same shortfall.)
 * - **Risk per minute of horizon.** `headroom` sets p, the accepted chance per minute that
 *   the load outgrows the plan; the quantile is q = 1 − p × horizon minutes, so a longer
 *   boot buys proportionally more cover, and the knob means the same at any boot time.
 * - **headroom 0 is the cheapest sensible point**: the median rise (usually no margin) and
 *   dynos allowed to run up to 2 % over their nominal capacity, as Kubernetes' HPA does with
 *   its 10 % tolerance (more cheaply: ours only trims, it never holds dynos on the way down).
 *   The trim fades out by the default headroom.
 * - **Up at once, down straight to the plan.** Dynos are billed by the minute and the plan
 *   already covers a rebound within the horizon, so waiting longer only costs. `blackout`
 *   and `scale_down_step` still apply when configured, and every safety rule of the seed
 *   policy holds (bounds, no scale-down on stale or missing data, hold when every source
 *   is out, a refused quantity caps scale-ups): the decision is made by the same `decide`.
 */
import { Forecaster } from "./forecaster.js";

/** The default `headroom`: dominates the seed policy (cost and shortfall) on the test traces. */
export const DEFAULT_HEADROOM = 0.2;
/** The default `boot_seconds`: a typical Heroku dyno boot. */
export const DEFAULT_BOOT_SECONDS = 60;

/** Accepted chance per minute of horizon that the load outgrows the plan, at headroom 0 (the median at 60 s boot). */
const RISK_AT_ZERO = 0.25;
/** How fast risk falls with headroom: e^-6 per unit, so 0.2 → 7.5 %/min, 0.5 → 1.2 %/min, 1 → 0.06 %/min. */
const RISK_DECAY = 6;
/** How far over nominal capacity dynos may run at headroom 0 (see the note above). */
const TRIM_AT_ZERO = 0.02;

/** The quantile of learned rises that `headroom` plans for, given the horizon. */
export function riskQuantile(headroom: number, horizonMs: number): number {
  const perMinute = RISK_AT_ZERO * Math.exp(-RISK_DECAY * Math.max(0, headroom));
  return Math.min(1, Math.max(0, 1 - (perMinute * horizonMs) / 60_000));
}

/** The factor on the plan: below 1 only between headroom 0 and the default. */
export function trimFactor(headroom: number): number {
  return 1 - TRIM_AT_ZERO * Math.max(0, 1 - Math.max(0, headroom) / DEFAULT_HEADROOM);
}

/** The horizon a source's decisions look ahead: boot time plus the source's poll interval. */
export function horizonMs(bootSeconds: number, intervalSeconds: number): number {
  return (Math.max(0, bootSeconds) + Math.max(0, intervalSeconds)) * 1000;
}

/** A forecaster for one source whose dynos boot in `bootSeconds`, polled every `intervalSeconds`. */
export function createForecaster(bootSeconds: number, intervalSeconds: number): Forecaster {
  return new Forecaster({ horizonMs: horizonMs(bootSeconds, intervalSeconds) });
}

/** The value (in the source's unit) to provision for; null before the first reading. */
export function plannedValue(forecaster: Forecaster, headroom: number): number | null {
  const plan = forecaster.plan(riskQuantile(headroom, forecaster.horizonMs));
  return plan === null ? null : plan * trimFactor(headroom);
}

/**
 * A source's planned estimate: its plugin's own capacity model applied to the planned
 * value, rounded up to whole dynos. Null before the first reading. `estimateDynos` must be
 * monotone; what it throws propagates (the loop treats that as a failed reading).
 */
export function plannedEstimate(
  forecaster: Forecaster,
  headroom: number,
  estimateDynos: (value: number) => number,
): number | null {
  const value = plannedValue(forecaster, headroom);
  if (value === null) return null;
  const dynos = estimateDynos(value);
  return Number.isFinite(dynos) && dynos >= 0 ? Math.ceil(dynos) : null;
}
