// The `forecast` policy before issue 26 (rise quantiles per trend), kept only so
// policy-eval.ts can put it beside the new default. Not part of any package.
/**
 * Per-source load forecaster of the old `forecast` policy (issue 14).
 *
 * It learns, from the source's own reading series, how much the load has risen within one
 * *horizon* (boot time + poll interval: the time until a dyno asked for at the next
 * decision can serve) after a reading, separately for readings taken while the load was
 * rising, falling or flat over the horizon before. `plan(q)` is then the latest reading
 * plus the q-quantile of those rises: the value to provision for so that, as far as the
 * recent past tells, the load stays below it until the next decision can act with
 * probability q.
 *
 * State is bounded: a few readings within the last two horizons and three sliding windows
 * of `window` rises each. Each observation costs O(window) at worst (one insertion into a
 * sorted array, a memmove), each plan O(1).
 */
import { must } from "@dynosaur/core";

/** Direction of the load over the horizon before a reading. */
export type Trend = "flat" | "rising" | "falling";

/** Exact quantiles of the last `capacity` numbers added. */
export class SlidingQuantile {
  readonly capacity: number;
  readonly #ring: Float64Array;
  readonly #sorted: Float64Array;
  #size = 0;
  #head = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`capacity must be a whole number >= 1, not ${capacity}`);
    this.capacity = capacity;
    this.#ring = new Float64Array(capacity);
    this.#sorted = new Float64Array(capacity);
  }

  get size(): number {
    return this.#size;
  }

  add(x: number): void {
    if (this.#size === this.capacity) {
      const i = this.#lowerBound(this.#at(this.#ring, this.#head));
      this.#sorted.copyWithin(i, i + 1, this.#size);
      this.#size--;
    }
    this.#ring[this.#head] = x;
    this.#head = (this.#head + 1) % this.capacity;
    const j = this.#lowerBound(x);
    this.#sorted.copyWithin(j + 1, j, this.#size);
    this.#sorted[j] = x;
    this.#size++;
  }

  /** The q-quantile (0..1, linear between order statistics); null when empty. */
  quantile(q: number): number | null {
    if (this.#size === 0) return null;
    const pos = Math.min(1, Math.max(0, q)) * (this.#size - 1);
    const i = Math.floor(pos);
    const f = pos - i;
    const lo = this.#at(this.#sorted, i);
    return f === 0 ? lo : lo + (this.#at(this.#sorted, Math.min(this.#size - 1, i + 1)) - lo) * f;
  }

  #lowerBound(x: number): number {
    let lo = 0;
    let hi = this.#size;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#at(this.#sorted, mid) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** An element at an index the bookkeeping above keeps within the array. */
  #at(array: Float64Array, i: number): number {
    return must(array[i], `element ${i} of a sliding quantile of ${this.capacity}`);
  }
}

export interface ForecasterOptions {
  /** Milliseconds a decision must look ahead: boot time + the source's poll interval. */
  horizonMs: number;
  /**
   * Rises remembered per trend.
   * @default 1440 — a day of minute readings, so the risk learned at the last peak hour is still known at the next one
   */
  window?: number;
  /**
   * Rises a trend needs before its own quantile is trusted; until then all trends pooled are used.
   * @default 30 — fewer samples cannot place a 0.9 quantile anywhere but at the maximum
   */
  minSamples?: number;
}

interface Reading {
  time: number;
  value: number;
  trend: Trend;
  /** Largest reading seen within the horizon after this one; null while none came. */
  max: number | null;
  /** Whether its rise has been recorded (the horizon has passed). */
  done: boolean;
}

/** Readings kept at most: bounds memory whatever the poll interval (2 horizons of 5 s polls are 48). */
const MAX_READINGS = 256;
/**
 * Readings land up to a tick late and polls drift: a reading counts as "one horizon later"
 * within a quarter of the horizon (120 s horizon: 90–150 s later).
 */
const SLACK = 0.25;

/** A small stateful forecaster for one source. Times are ms, passed in (never read from a clock). */
export class Forecaster {
  readonly horizonMs: number;
  readonly minSamples: number;
  readonly #byTrend: Record<Trend, SlidingQuantile>;
  readonly #all: SlidingQuantile;
  #readings: Reading[] = [];

  constructor(options: ForecasterOptions) {
    if (!Number.isFinite(options.horizonMs) || options.horizonMs <= 0)
      throw new RangeError(`horizonMs must be > 0, not ${options.horizonMs}`);
    this.horizonMs = options.horizonMs;
    this.minSamples = options.minSamples ?? 30;
    const window = options.window ?? 1440;
    this.#byTrend = {
      flat: new SlidingQuantile(window),
      rising: new SlidingQuantile(window),
      falling: new SlidingQuantile(window),
    };
    this.#all = new SlidingQuantile(window);
  }

  /** The newest reading, if any. */
  get last(): { time: number; value: number; trend: Trend } | null {
    const r = this.#readings.at(-1);
    return r ? { time: r.time, value: r.value, trend: r.trend } : null;
  }

  /** How many rises have been learned, per trend and in all. */
  get samples(): Record<Trend | "all", number> {
    return {
      flat: this.#byTrend.flat.size,
      rising: this.#byTrend.rising.size,
      falling: this.#byTrend.falling.size,
      all: this.#all.size,
    };
  }

  /**
   * Records a good reading taken at `time`. Readings not newer than the last one, and values
   * that are not finite numbers >= 0, are ignored (the source never lets those through).
   */
  observe(time: number, value: number): void {
    if (!Number.isFinite(time) || !Number.isFinite(value) || value < 0) return;
    const newest = this.#readings.at(-1);
    if (newest && time <= newest.time) return;
    const h = this.horizonMs;
    const slack = h * SLACK;
    // Each earlier reading whose horizon this one falls in learns how far the load rose.
    for (const r of this.#readings) {
      if (r.done) continue;
      const after = time - r.time;
      if (after <= h + slack) r.max = r.max === null ? value : Math.max(r.max, value);
      if (after >= h - slack) {
        r.done = true;
        // No reading within its horizon (a gap in polling): nothing was learned.
        if (r.max !== null) this.#learn(r.trend, r.max - r.value);
      }
    }
    this.#readings.push({ time, value, trend: this.#trendAt(time, value), max: null, done: false });
    this.#prune(time);
  }

  /**
   * The value to provision for: the newest reading plus the q-quantile of the rises learned
   * for the current trend (all trends pooled while it has fewer than `minSamples`; no margin
   * while even the pool has fewer). Never below 0; null before the first reading.
   */
  plan(q: number): number | null {
    const newest = this.#readings.at(-1);
    if (!newest) return null;
    const own = this.#byTrend[newest.trend];
    const window = own.size >= this.minSamples ? own : this.#all.size >= this.minSamples ? this.#all : null;
    const margin = window?.quantile(q) ?? 0;
    return Math.max(0, newest.value + margin);
  }

  #learn(trend: Trend, rise: number): void {
    this.#byTrend[trend].add(rise);
    this.#all.add(rise);
  }

  /** Trend of a reading: against the newest reading about one horizon older. */
  #trendAt(time: number, value: number): Trend {
    const before = time - this.horizonMs * (1 - SLACK);
    const ref = this.#readings.findLast((r) => r.time <= before);
    if (!ref || time - ref.time > this.horizonMs * (2 + SLACK)) return "flat";
    return value > ref.value ? "rising" : value < ref.value ? "falling" : "flat";
  }

  #prune(now: number): void {
    // Kept: readings still waiting for their horizon, and those a new reading's trend may compare with.
    const keepFrom = now - this.horizonMs * (2 + SLACK);
    const count = this.#readings.length;
    // Readings are in time order: the old ones are a prefix. The newest always stays.
    const firstKept = this.#readings.findIndex((r) => r.time >= keepFrom);
    const drop = Math.min(count - 1, Math.max(firstKept === -1 ? count : firstKept, count - MAX_READINGS));
    if (drop > 0) this.#readings.splice(0, drop);
  }
}

/** Accepted chance per minute of horizon that the load outgrows the plan, at headroom 0. */
const RISK_AT_ZERO = 0.25;
const RISK_DECAY = 6;
const TRIM_AT_ZERO = 0.02;
const OLD_DEFAULT_HEADROOM = 0.2;

/** The old planned estimate: last reading + the q-quantile of learned rises, q from headroom and horizon. */
export function oldPlannedEstimate(
  forecaster: Forecaster,
  headroom: number,
  estimateDynos: (value: number) => number,
): number | null {
  const perMinute = RISK_AT_ZERO * Math.exp(-RISK_DECAY * Math.max(0, headroom));
  const q = Math.min(1, Math.max(0, 1 - (perMinute * forecaster.horizonMs) / 60_000));
  const trim = 1 - TRIM_AT_ZERO * Math.max(0, 1 - Math.max(0, headroom) / OLD_DEFAULT_HEADROOM);
  const plan = forecaster.plan(q);
  if (plan === null) return null;
  const dynos = estimateDynos(plan * trim);
  return Number.isFinite(dynos) && dynos >= 0 ? Math.ceil(dynos) : null;
}

/** A forecaster for a source whose dynos boot in `bootSeconds`, polled every `intervalSeconds`. */
export function createOldForecaster(bootSeconds: number, intervalSeconds: number): Forecaster {
  return new Forecaster({ horizonMs: (Math.max(0, bootSeconds) + Math.max(0, intervalSeconds)) * 1000 });
}
