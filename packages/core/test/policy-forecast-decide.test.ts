import { describe, expect, it } from "vitest";
import { must } from "../src/errors.js";
import {
  createForecaster,
  DEFAULT_HEADROOM,
  horizonMs,
  plannedEstimate,
  plannedValue,
  riskQuantile,
  trimFactor,
} from "../src/policy/forecast.js";
import { combine, type DecisionInput, decide, type PolicySettings } from "../src/policy.js";
import type { SourceHealth, SourceStatus } from "../src/report.js";

const MIN = 60_000;
/** The forecast policy's defaults: no blackout, straight down to the plan. */
const settings: PolicySettings = { minDynos: 1, maxDynos: 10, blackout: 0, scaleDownStep: 0 };

/** What the loop knows of one source under the forecast policy: its planned estimate. */
interface SourcePlan {
  name: string;
  estimate: number | null;
  health: SourceHealth;
}
type ForecastDecisionInput = Omit<DecisionInput, "sources" | "combined"> & { sources: SourcePlan[] };

/** The loop's decision on planned estimates: the same combine and decide as every policy. */
function decideForecast(input: ForecastDecisionInput) {
  const sources = input.sources.map(
    (s): SourceStatus => ({ ...s, type: "", unit: "", value: null, busy: null, lastRetrieval: null, lastError: null }),
  );
  const combined = combine(sources, input.settings);
  return { ...decide({ ...input, sources, combined }), estimate: combined.estimate, winner: combined.winner };
}
const src = (name: string, estimate: number | null, health: SourcePlan["health"] = "ok"): SourcePlan => ({
  name,
  estimate,
  health,
});
const input = (
  current: number,
  sources: SourcePlan[],
  extra: Partial<ForecastDecisionInput> = {},
): ForecastDecisionInput => ({
  now: 1_000_000,
  current,
  sources,
  lastChange: null,
  refusedQuantity: null,
  ...extra,
  settings: { ...settings, ...extra.settings },
});

describe("headroom → risk", () => {
  it("looks boot + poll interval ahead", () => {
    expect(horizonMs(60, 60)).toBe(2 * MIN);
    expect(horizonMs(0, 60)).toBe(MIN);
  });

  it("plans for the median at headroom 0 with a 60 s boot, more cover as headroom grows", () => {
    expect(riskQuantile(0, 2 * MIN)).toBeCloseTo(0.5, 10);
    expect(riskQuantile(0, MIN)).toBeCloseTo(0.75, 10);
    let previous = 0;
    for (const h of [0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1]) {
      const q = riskQuantile(h, 2 * MIN);
      expect(q).toBeGreaterThan(previous);
      previous = q;
    }
    expect(riskQuantile(1, 2 * MIN)).toBeGreaterThan(0.99);
    // A longer boot needs more cover for the same risk per minute.
    expect(riskQuantile(0.2, 6 * MIN)).toBeLessThan(riskQuantile(0.2, 2 * MIN));
    expect(riskQuantile(0, 10 * MIN)).toBe(0);
  });

  it("trims 2 % at headroom 0, nothing from the default on", () => {
    expect(trimFactor(0)).toBeCloseTo(0.98, 10);
    expect(trimFactor(DEFAULT_HEADROOM / 2)).toBeCloseTo(0.99, 10);
    expect(trimFactor(DEFAULT_HEADROOM)).toBe(1);
    expect(trimFactor(1)).toBe(1);
  });
});

describe("planned estimate (hand-worked)", () => {
  it("applies the plugin's capacity model to last reading + learned rise", () => {
    const fc = createForecaster(60, 60);
    // 5 min at 10, then 5 min at 20, repeated: a rise of 10 comes within the horizon of 2 of every 10 readings.
    for (let m = 1; m <= 200; m++) fc.observe(m * MIN, Math.floor((m - 1) / 5) % 2 === 0 ? 10 : 20);
    // m = 200 is the last of five readings at 20 (flat).
    expect(fc.last).toEqual({ time: 200 * MIN, value: 20, trend: "flat" });
    const perDyno = (v: number) => Math.ceil(v / 5);
    expect(plannedEstimate(fc, 0, perDyno)).toBe(4); // median rise 0, trimmed 2 %: 19.6 → 4 dynos
    expect(plannedValue(fc, 1)).toBe(30); // top of the flat rises: +10
    expect(plannedEstimate(fc, 1, perDyno)).toBe(6);
  });

  it("is null before the first reading, and for a capacity model that returns garbage", () => {
    const fc = createForecaster(60, 60);
    expect(plannedEstimate(fc, 0.2, (v) => v)).toBeNull();
    fc.observe(MIN, 10);
    expect(plannedEstimate(fc, 0.2, () => Number.NaN)).toBeNull();
    expect(plannedEstimate(fc, 0.2, (v) => v / 3)).toBe(4);
  });
});

describe("decideForecast: the decision rules", () => {
  it("takes the largest planned estimate over sources and names it", () => {
    const d = decideForecast(input(2, [src("ga", 5), src("nr", 3)]));
    expect(d).toMatchObject({ target: 5, reason: "scale up", estimate: 5, winner: "ga" });
  });

  it("scales up at once, clamped to max", () => {
    expect(decideForecast(input(2, [src("a", 50)])).target).toBe(10);
  });

  it("scales down straight to the plan when no blackout or step is configured", () => {
    expect(decideForecast(input(9, [src("a", 3)], { lastChange: 1_000_000 - 1 })).target).toBe(3);
  });

  it("honours a configured blackout and scale_down_step", () => {
    const blackout = { ...settings, blackout: 300 };
    expect(
      decideForecast(input(9, [src("a", 3)], { lastChange: 1_000_000 - 60_000, settings: blackout })),
    ).toMatchObject({ target: 9, reason: "blackout (240 s left)" });
    expect(
      decideForecast(input(9, [src("a", 3)], { lastChange: 1_000_000 - 300_000, settings: blackout })).target,
    ).toBe(3);
    expect(decideForecast(input(9, [src("a", 3)], { settings: { ...settings, scaleDownStep: 2 } })).target).toBe(7);
  });

  it("never scales down while any source is stale or out, but still scales up", () => {
    expect(decideForecast(input(9, [src("a", 3), src("b", 2, "stale")]))).toMatchObject({
      target: 9,
      reason: "not scaling down: b stale",
    });
    expect(decideForecast(input(9, [src("a", 3), src("b", null, "outage")])).target).toBe(9);
    expect(decideForecast(input(2, [src("a", 6), src("b", 2, "stale")])).target).toBe(6);
  });

  it("holds when every source is out, and when no source has a plan yet", () => {
    expect(decideForecast(input(4, [src("a", 9, "outage"), src("b", 1, "outage")]))).toMatchObject({
      target: 4,
      reason: "every source is out: holding",
    });
    expect(decideForecast(input(4, [src("a", null, "stale")]))).toMatchObject({ target: 4, reason: "no readings yet" });
  });

  it("lets a refused quantity cap scale-ups, never shrink the app", () => {
    expect(decideForecast(input(2, [src("a", 8)], { refusedQuantity: 5 })).target).toBe(4);
    expect(decideForecast(input(4, [src("a", 8)], { refusedQuantity: 5 }))).toMatchObject({
      target: 4,
      reason: "Heroku refused 5: holding",
    });
    expect(decideForecast(input(6, [src("a", 8)], { refusedQuantity: 5 })).target).toBe(6);
  });

  it("restores the bounds whatever the plans say", () => {
    expect(decideForecast(input(0, [src("a", 0)])).target).toBe(1);
    expect(decideForecast(input(12, [src("a", 12)])).target).toBe(10);
  });
});

describe("forecast policy through a small loop (boot 60 s, one reading a minute)", () => {
  // Flat at 50 (5 dynos) with a 2-minute burst to 100 (10 dynos) every 20 minutes.
  const load = (m: number) => (m % 20 === 10 || m % 20 === 11 ? 100 : 50);
  const perDyno = (v: number) => Math.ceil(v / 10);

  /** Runs simulate's model: tick m reads minute m-1 and sets the quantity for minute m; serving = min(q[m-1], q[m]). */
  function run(headroom: number, minutes: number) {
    const s: PolicySettings = { ...settings, maxDynos: 100 };
    const fc = createForecaster(60, 60);
    const q = [1];
    const at = (m: number) => must(q[m], `the quantity of minute ${m}`);
    let lastChange: number | null = null;
    for (let m = 1; m <= minutes; m++) {
      const now = m * MIN;
      fc.observe(now, load(m - 1));
      const { target } = decideForecast({
        now,
        current: at(m - 1),
        sources: [src("a", plannedEstimate(fc, headroom, perDyno))],
        lastChange,
        refusedQuantity: null,
        settings: s,
      });
      if (target !== q[m - 1]) lastChange = now;
      q.push(target);
    }
    let short = 0;
    let billed = 0;
    for (let m = minutes - 199; m <= minutes; m++) {
      short += Math.max(0, perDyno(load(m)) - Math.min(at(m - 1), at(m)));
      billed += at(m);
    }
    return { short, billed };
  }

  it("covers a burst once headroom asks for more cover than the burst's frequency", () => {
    // 2 in 16 flat readings (12.5 %) are followed by +50 within the horizon. The default
    // (q = 1 - 7.5 %/min × 2 min = 0.85) leaves that risk; headroom 0.3 (q = 0.92) covers it.
    const byDefault = run(DEFAULT_HEADROOM, 800);
    expect(byDefault.short).toBe(10 * 2 * 5);
    const covered = run(0.3, 800);
    expect(covered.short).toBe(0);
    // ... yet cheaper than holding 10 dynos: the spare goes at once when the burst is over.
    expect(covered.billed).toBeLessThan(200 * 10);
    expect(covered.billed).toBeGreaterThan(byDefault.billed);
  });

  it("is cheapest at headroom 0", () => {
    const cheap = run(0, 800);
    expect(cheap.billed).toBeLessThan(run(DEFAULT_HEADROOM, 800).billed);
    expect(cheap.short).toBeGreaterThanOrEqual(10 * 2 * 5);
  });
});
