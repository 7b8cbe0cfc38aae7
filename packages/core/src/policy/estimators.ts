/**
 * What each scaling policy (`scaler.policy`) makes of a source's readings: the dynos the
 * source asks for. The decision itself (clamp, up at once, blackout, step, no scale-down on
 * stale data, hold when every source is out, refused quantities, hold_while_busy,
 * idle-before-zero) is the same `decide` for every policy, so every safety rule holds
 * whichever policy runs; a policy only changes the estimates it decides on.
 *
 * - `seed`: the source's own estimate (the largest reading of its `hysteresis_period`).
 * - `forecast`: a level that rises at once and eases off, plus `headroom` typical swings,
 *   held within a band (wider for a bursty load) and for `boot_seconds` after a scale-up
 *   (./forecast.ts).
 * - `hysteresis` (reference): the largest of the last 5 readings.
 * - `hpa` (reference): Kubernetes' Horizontal Pod Autoscaler: a recommendation per reading,
 *   the current count when within 10 % of it; down only to the largest recommendation of
 *   the last 5 minutes.
 *
 * Policy state lives here, keyed by Source, so a reconfigured engine keeps what it learned
 * for the sources it keeps, and a source whose horizon changes (boot_seconds, interval)
 * starts learning again.
 */
import type { ScalingPolicy } from "../config.js";
import type { SourceStatus } from "../report.js";
import type { Source } from "../source.js";
import { BandPolicy } from "./forecast.js";

/** What one source's estimate may depend on at a decision. */
export interface EstimateContext {
  now: number;
  /** The formation's quantity the decision starts from. */
  current: number;
  /** The process type's `headroom`. */
  headroom: number;
}

interface Estimator {
  /** Learns from the source's newest good reading; called every tick, a reading counts once. */
  observe(time: number, value: number): void;
  /** Dynos the source asks for; null when the policy has nothing to say yet. */
  estimate(context: EstimateContext): number | null;
}

/** Readings the `hysteresis` reference keeps. */
const HYSTERESIS_READINGS = 5;
/** HPA's tolerance: no change while the load is within 10 % of what the current count serves. */
const HPA_TOLERANCE = 0.1;
/** HPA's scale-down stabilization window (its default). */
const HPA_WINDOW_MS = 300_000;

class ForecastEstimator implements Estimator {
  readonly #policy: BandPolicy;

  constructor(
    readonly source: Source,
    bootSeconds: number,
  ) {
    this.#policy = new BandPolicy(bootSeconds);
  }

  observe(time: number, value: number): void {
    this.#policy.observe(time, value);
  }

  estimate({ now, current, headroom }: EstimateContext): number | null {
    return this.#policy.estimate(now, current, headroom, (value) => this.source.dynosFor(value, current));
  }
}

class HysteresisEstimator implements Estimator {
  readonly #values: number[] = [];
  #last = Number.NEGATIVE_INFINITY;

  constructor(readonly source: Source) {}

  observe(time: number, value: number): void {
    if (time <= this.#last) return;
    this.#last = time;
    this.#values.push(value);
    if (this.#values.length > HYSTERESIS_READINGS) this.#values.shift();
  }

  estimate({ current }: EstimateContext): number | null {
    if (this.#values.length === 0) return null;
    return Math.ceil(this.source.dynosFor(Math.max(...this.#values), current));
  }
}

class HpaEstimator implements Estimator {
  #newest: { time: number; value: number } | null = null;
  /** One recommendation per reading, made with the count of the decision that used it. */
  readonly #recommendations: { time: number; dynos: number }[] = [];

  constructor(readonly source: Source) {}

  observe(time: number, value: number): void {
    if (this.#newest === null || time > this.#newest.time) this.#newest = { time, value };
  }

  estimate({ now, current }: EstimateContext): number | null {
    const reading = this.#newest;
    if (!reading) return null;
    const desired = this.source.dynosFor(reading.value, current);
    const dynos = current > 0 && Math.abs(desired / current - 1) <= HPA_TOLERANCE ? current : Math.ceil(desired);
    const recs = this.#recommendations;
    // Decided again on a fresher formation read: the reading's recommendation is replaced, not added.
    if (recs.at(-1)?.time === reading.time) recs.pop();
    recs.push({ time: reading.time, dynos });
    while ((recs[0]?.time ?? now) <= now - HPA_WINDOW_MS) recs.shift();
    if (dynos > current) return dynos;
    return Math.min(current, Math.max(...recs.map((r) => r.dynos)));
  }
}

function createEstimator(policy: Exclude<ScalingPolicy, "seed">, source: Source, bootSeconds: number): Estimator {
  if (policy === "forecast") return new ForecastEstimator(source, bootSeconds);
  if (policy === "hysteresis") return new HysteresisEstimator(source);
  return new HpaEstimator(source);
}

/** Every source's policy state, for the loop: learn once per tick, estimate per decision. */
export class PolicyEstimates {
  readonly #bySource = new Map<Source, { key: string; estimator: Estimator }>();

  /** Feeds each source's newest reading to its policy state, (re)building the state the policy or horizon needs. */
  observe(policy: ScalingPolicy, bootSeconds: number, sources: readonly Source[]): void {
    for (const source of this.#bySource.keys()) if (!sources.includes(source)) this.#bySource.delete(source);
    if (policy === "seed") {
      this.#bySource.clear();
      return;
    }
    for (const source of sources) {
      const key = `${policy}:${bootSeconds}:${source.options.interval}`;
      let entry = this.#bySource.get(source);
      if (entry?.key !== key) {
        entry = { key, estimator: createEstimator(policy, source, bootSeconds) };
        this.#bySource.set(source, entry);
      }
      const newest = source.newest();
      if (newest) entry.estimator.observe(newest.time, newest.value);
    }
  }

  /**
   * The statuses with each source's estimate as its policy sees it (the seed's: unchanged).
   * A source whose plugin fails to size a planned value keeps its own estimate.
   */
  plan(sources: readonly Source[], statuses: readonly SourceStatus[], context: EstimateContext): SourceStatus[] {
    return statuses.map((status, i) => {
      const source = sources[i];
      const estimator = source && this.#bySource.get(source)?.estimator;
      if (!estimator || status.estimate === null) return status;
      let estimate: number | null;
      try {
        estimate = estimator.estimate(context);
      } catch {
        estimate = null;
      }
      return estimate === null ? status : { ...status, estimate };
    });
  }
}
