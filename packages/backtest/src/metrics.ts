import { must } from "@dynosaur/core";

/** A change of the formation's quantity during a replay. */
export interface QuantityChange {
  /** Milliseconds since the start of the trace. */
  time: number;
  /** The quantity from then on. */
  quantity: number;
}

export interface MetricsInput {
  /** Dynos needed in each period of the trace (the oracle). */
  needed: ArrayLike<number>;
  /** Length of one period (ms). */
  stepMs: number;
  /** The formation's quantity before the first change (a dry run starts at `min_dynos`). */
  initial: number;
  /** Every change of the quantity, in time order. */
  changes: readonly QuantityChange[];
  /** A dyno added at time t serves from t + bootMs; a removed one stops at once. */
  bootMs: number;
}

/** How well a replay matched the load. Dyno-minutes may be fractional when ticks fall inside a period. */
export interface BacktestMetrics {
  /** Length of the trace, in minutes. */
  minutes: number;
  /** Dyno-minutes paid for: the formation's quantity over time, booting dynos included. */
  dyno_minutes: number;
  /** Dyno-minutes of dynos that were up and serving (booting ones excluded). */
  serving_dyno_minutes: number;
  /** Dyno-minutes of a perfect scaler: exactly the dynos needed in each period. */
  oracle_dyno_minutes: number;
  /** `dyno_minutes / oracle_dyno_minutes`; 1 is perfect, above 1 is over-provisioning. */
  cost_ratio: number;
  /** Dyno-minutes needed but not serving. */
  shortfall_dyno_minutes: number;
  /** Shortfall as a percentage of the oracle's dyno-minutes. */
  shortfall_percent: number;
  /** Minutes during which fewer dynos served than were needed. */
  under_provisioned_minutes: number;
  /** Number of changes of the formation. */
  scale_events: number;
  /** Scale events per 24 hours of trace: the churn (each event boots or stops dynos). */
  scale_events_per_day: number;
  scale_ups: number;
  scale_downs: number;
  /** Largest single change, up or down (dynos). */
  largest_step: number;
  largest_step_up: number;
  largest_step_down: number;
  /** Most dynos in the formation at any time. */
  peak_dynos: number;
}

/** Per-period figures of a replay, for charts. */
export interface MetricsSeries {
  /** Average dynos serving in each period. */
  running: Float64Array;
  /** Average quantity of the formation in each period (what is paid for). */
  formation: Float64Array;
}

// Sums of per-period averages carry float noise; a shortfall of 1e-12 dynos is none.
const EPSILON = 1e-9;

/**
 * Scores a replay against the oracle. Dynos serving at time t are the fewest the
 * formation held over `[t - boot, t]`: Heroku removes the newest dynos first, so that is
 * the number of dynos that have been up for the whole boot time.
 */
export function computeMetrics(input: MetricsInput): { metrics: BacktestMetrics; series: MetricsSeries } {
  const { needed, stepMs, initial, changes, bootMs } = input;
  const n = needed.length;
  const formationSteps = toSteps(initial, changes);
  const servingSteps = bootMs > 0 ? servingOf(formationSteps, bootMs) : formationSteps;
  const formation = averagePerPeriod(formationSteps, n, stepMs);
  const running = averagePerPeriod(servingSteps, n, stepMs);

  const stepMinutes = stepMs / 60_000;
  let billed = 0;
  let serving = 0;
  let oracle = 0;
  let shortfall = 0;
  let underPeriods = 0;
  for (const quantity of formation) billed += quantity;
  for (let i = 0; i < n; i++) {
    const need = must(needed[i], "a period's needed dynos");
    const served = must(running[i], "a period's serving dynos");
    serving += served;
    oracle += need;
    const missing = need - served;
    if (missing > EPSILON) {
      shortfall += missing;
      underPeriods++;
    }
  }

  let ups = 0;
  let downs = 0;
  let largestUp = 0;
  let largestDown = 0;
  let peak = initial;
  let previous = initial;
  for (const c of changes) {
    const delta = c.quantity - previous;
    if (delta > 0) {
      ups++;
      largestUp = Math.max(largestUp, delta);
    } else if (delta < 0) {
      downs++;
      largestDown = Math.max(largestDown, -delta);
    }
    peak = Math.max(peak, c.quantity);
    previous = c.quantity;
  }

  const oracleMinutes = oracle * stepMinutes;
  const shortfallMinutes = shortfall * stepMinutes;
  return {
    metrics: {
      minutes: n * stepMinutes,
      dyno_minutes: billed * stepMinutes,
      serving_dyno_minutes: serving * stepMinutes,
      oracle_dyno_minutes: oracleMinutes,
      cost_ratio:
        oracleMinutes === 0 ? (billed === 0 ? 1 : Number.POSITIVE_INFINITY) : (billed * stepMinutes) / oracleMinutes,
      shortfall_dyno_minutes: shortfallMinutes,
      shortfall_percent: oracleMinutes === 0 ? 0 : (100 * shortfallMinutes) / oracleMinutes,
      under_provisioned_minutes: underPeriods * stepMinutes,
      scale_events: ups + downs,
      scale_events_per_day: n === 0 ? 0 : ((ups + downs) * 1440) / (n * stepMinutes),
      scale_ups: ups,
      scale_downs: downs,
      largest_step: Math.max(largestUp, largestDown),
      largest_step_up: largestUp,
      largest_step_down: largestDown,
      peak_dynos: peak,
    },
    series: { running, formation },
  };
}

/** A step function: `values[k]` holds from `times[k]` until `times[k + 1]`; `times[0]` is -Infinity. */
interface Steps {
  times: number[];
  values: number[];
}

/** The time where piece `k` of `s` starts, for a `k` the caller keeps in range. */
function timeAt(s: Steps, k: number): number {
  return must(s.times[k], "a step's time");
}

/** The value piece `k` of `s` holds, for a `k` the caller keeps in range. */
function valueAt(s: Steps, k: number): number {
  return must(s.values[k], "a step's value");
}

function toSteps(initial: number, changes: readonly QuantityChange[]): Steps {
  const times = [Number.NEGATIVE_INFINITY];
  const values = [initial];
  for (const c of changes) {
    if (c.time === times.at(-1)) values[values.length - 1] = c.quantity;
    else {
      times.push(c.time);
      values.push(c.quantity);
    }
  }
  return { times, values };
}

/** `serving(t) = min of q over [t - boot, t]`, as a step function. */
function servingOf(q: Steps, bootMs: number): Steps {
  // serving can only change where q changes, or where a piece of q leaves the window.
  const count = q.times.length;
  const breaks: number[] = [];
  let a = 1;
  let b = 1;
  while (a < count || b < count) {
    const next =
      a < count && (b >= count || timeAt(q, a) <= timeAt(q, b) + bootMs) ? timeAt(q, a++) : timeAt(q, b++) + bootMs;
    if (next !== breaks.at(-1)) breaks.push(next);
  }
  const times = [Number.NEGATIVE_INFINITY];
  const values = [valueAt(q, 0)];
  let lo = 0; // first piece still inside the window
  let hi = 0; // piece holding at time p
  for (const p of breaks) {
    while (hi + 1 < count && timeAt(q, hi + 1) <= p) hi++;
    // Piece k covers [times[k], times[k+1]); it is in the window while times[k+1] > p - boot.
    while (lo < hi && timeAt(q, lo + 1) <= p - bootMs) lo++;
    let min = valueAt(q, lo);
    for (let k = lo + 1; k <= hi; k++) min = Math.min(min, valueAt(q, k));
    if (min !== values.at(-1)) {
      times.push(p);
      values.push(min);
    }
  }
  return { times, values };
}

/** The time-weighted average of a step function over each period `[i * step, (i + 1) * step)`. */
function averagePerPeriod(s: Steps, n: number, stepMs: number): Float64Array {
  const count = s.times.length;
  const out = new Float64Array(n);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const from = i * stepMs;
    const to = from + stepMs;
    while (k + 1 < count && timeAt(s, k + 1) <= from) k++;
    // Most periods hold one value throughout: skip the weighting.
    if (k + 1 >= count || timeAt(s, k + 1) >= to) {
      out[i] = valueAt(s, k);
      continue;
    }
    let sum = 0;
    let at = from;
    let j = k;
    while (at < to) {
      const until = j + 1 < count ? Math.min(timeAt(s, j + 1), to) : to;
      sum += valueAt(s, j) * (until - at);
      at = until;
      j++;
    }
    out[i] = sum / stepMs;
  }
  return out;
}
