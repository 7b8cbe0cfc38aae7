import { describe, expect, it } from "vitest";
import { combine, type DecisionInput, decide } from "../src/policy.js";
import type { SourceStatus } from "../src/report.js";

const settings = { minDynos: 1, maxDynos: 10, blackout: 300, scaleDownStep: 1 };
const src = (name: string, estimate: number | null, health: SourceStatus["health"] = "ok"): SourceStatus => ({
  name,
  type: "t",
  unit: "u",
  value: estimate,
  estimate,
  health,
  busy: null,
  lastRetrieval: 0,
  lastError: null,
});

function input(current: number, sources: SourceStatus[], extra: Partial<DecisionInput> = {}): DecisionInput {
  const s = { ...settings, ...extra.settings };
  return {
    now: 1_000_000,
    current,
    sources,
    combined: combine(sources, s),
    lastChange: null,
    refusedQuantity: null,
    ...extra,
    settings: s,
  };
}

describe("combine", () => {
  it("takes the largest estimate (GA says 5, New Relic says 3 → 5) and names the winner", () => {
    expect(combine([src("ga", 5), src("nr", 3)], settings)).toEqual({ raw: 5, winner: "ga", estimate: 5 });
  });
  it("clamps to [min, max]", () => {
    expect(combine([src("a", 50)], settings).estimate).toBe(10);
    expect(combine([src("a", 0)], settings).estimate).toBe(1);
  });
  it("ignores sources without a reading; none at all gives null", () => {
    expect(combine([src("a", null), src("b", 2)], settings)).toMatchObject({ estimate: 2, winner: "b" });
    expect(combine([src("a", null)], settings)).toEqual({ raw: null, winner: null, estimate: null });
  });
});

describe("decide", () => {
  it("scales up at once, even inside the blackout", () => {
    expect(decide(input(2, [src("a", 7)], { lastChange: 1_000_000 - 1000 }))).toEqual({
      target: 7,
      reason: "scale up",
    });
  });
  it("holds a scale-down during the blackout and says how long is left", () => {
    const d = decide(input(5, [src("a", 2)], { lastChange: 1_000_000 - 100_000 }));
    expect(d.target).toBe(5);
    expect(d.reason).toBe("blackout (200 s left)");
  });
  it("steps down by scale_down_step after the blackout", () => {
    expect(decide(input(5, [src("a", 2)], { lastChange: 1_000_000 - 300_000 })).target).toBe(4);
    expect(decide(input(5, [src("a", 2)], { settings: { ...settings, scaleDownStep: 2 } })).target).toBe(3);
    expect(decide(input(5, [src("a", 4)], { settings: { ...settings, scaleDownStep: 3 } })).target).toBe(4);
  });
  it("goes straight to the estimate with scale_down_step 0", () => {
    expect(decide(input(9, [src("a", 2)], { settings: { ...settings, scaleDownStep: 0 } })).target).toBe(2);
  });
  it("never scales down while any source is stale or in outage", () => {
    const d = decide(input(5, [src("a", 2), src("b", 1, "stale")]));
    expect(d.target).toBe(5);
    expect(d.reason).toContain("b stale");
    expect(decide(input(5, [src("a", 2), src("b", 1, "outage")])).target).toBe(5);
  });
  it("still scales up on a stale source's last good reading", () => {
    expect(decide(input(2, [src("a", 6, "stale")])).target).toBe(6);
  });
  it("holds when every source is in outage", () => {
    const d = decide(input(5, [src("a", 9, "outage"), src("b", 1, "outage")]));
    expect(d).toEqual({ target: 5, reason: "every source is out: holding" });
  });
  it("holds with no readings at all", () => {
    expect(decide(input(3, [src("a", null, "stale")]))).toEqual({ target: 3, reason: "no readings yet" });
  });
  it("brings a formation outside [min, max] back inside, whatever the data", () => {
    expect(decide(input(0, [src("a", null, "outage")])).target).toBe(1);
    expect(decide(input(14, [src("a", 20, "stale")])).target).toBe(10);
  });
  it("never asks for a quantity Heroku refused, nor more", () => {
    expect(decide(input(4, [src("a", 9)], { refusedQuantity: 6 })).target).toBe(5);
    expect(decide(input(5, [src("a", 9)], { refusedQuantity: 6 }))).toEqual({
      target: 5,
      reason: "Heroku refused 6: holding",
    });
  });
  it("a refusal never shrinks the app: above the refused quantity it holds", () => {
    expect(decide(input(7, [src("a", 9)], { refusedQuantity: 6 }))).toEqual({
      target: 7,
      reason: "Heroku refused 6: holding",
    });
    expect(decide(input(7, [src("a", 2)], { refusedQuantity: 3, lastChange: 1_000_000 - 1000 })).reason).toMatch(
      /^blackout/,
    );
  });
});
