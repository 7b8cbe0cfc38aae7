import { describe, expect, it } from "vitest";
import { combine, type DecisionInput, decide, type PolicySettings } from "../src/policy.js";
import type { SourceHealth, SourceStatus } from "../src/report.js";

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
