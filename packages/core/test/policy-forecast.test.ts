import { describe, expect, it } from "vitest";
import { Forecaster, SlidingQuantile } from "../src/policy/forecaster.js";

const MIN = 60_000;

describe("SlidingQuantile", () => {
  it("gives exact quantiles, linear between order statistics", () => {
    const w = new SlidingQuantile(10);
    expect(w.quantile(0.5)).toBeNull();
    for (const x of [5, 1, 4, 2, 3]) w.add(x);
    expect(w.quantile(0)).toBe(1);
    expect(w.quantile(0.5)).toBe(3);
    expect(w.quantile(1)).toBe(5);
    expect(w.quantile(0.125)).toBe(1.5);
  });

  it("forgets the oldest value once full (bounded)", () => {
    const w = new SlidingQuantile(3);
    for (const x of [100, 1, 2, 3]) w.add(x);
    expect(w.size).toBe(3);
    expect(w.quantile(1)).toBe(3);
    for (let i = 0; i < 10_000; i++) w.add(i % 7);
    expect(w.size).toBe(3);
  });
});

describe("Forecaster (hand-worked: readings every 60 s, horizon 120 s)", () => {
  // rise of a reading = largest reading within the next 120 s minus it; trend = against the reading 120 s before.
  //  t(min) value  trend    rise learned when the horizon has passed
  //  1      10     flat     @3: max(10,10)-10 = 0   (flat)
  //  2      10     flat     @4: max(10,16)-10 = 6   (flat)
  //  3      10     flat     @5: max(16,16)-10 = 6   (flat)
  //  4      16     rising   @6: max(16,12)-16 = 0   (rising)
  //  5      16     rising
  //  6      12     falling
  const f = () => new Forecaster({ horizonMs: 2 * MIN, minSamples: 3 });
  const feed = (fc: Forecaster, values: number[]) => {
    for (const [i, v] of values.entries()) fc.observe((i + 1) * MIN, v);
  };

  it("learns the rises per trend", () => {
    const fc = f();
    feed(fc, [10, 10, 10, 16, 16]);
    expect(fc.samples).toEqual({ flat: 3, rising: 0, falling: 0, all: 3 });
    expect(fc.last).toEqual({ time: 5 * MIN, value: 16, trend: "rising" });
    fc.observe(6 * MIN, 12);
    expect(fc.samples).toEqual({ flat: 3, rising: 1, falling: 0, all: 4 });
    expect(fc.last?.trend).toBe("falling");
  });

  it("plans last reading + quantile of the rises (pooled while a trend has too few)", () => {
    const fc = f();
    feed(fc, [10, 10, 10, 16, 16]);
    // rising has no samples: pooled [0, 6, 6]
    expect(fc.plan(0)).toBe(16);
    expect(fc.plan(0.5)).toBe(22);
    fc.observe(6 * MIN, 12);
    // falling has none: pooled [0, 0, 6, 6]; median = 3
    expect(fc.plan(0.5)).toBe(15);
    expect(fc.plan(1)).toBe(18);
  });

  it("uses a trend's own rises once it has enough", () => {
    const fc = new Forecaster({ horizonMs: 2 * MIN, minSamples: 1 });
    feed(fc, [10, 10, 10, 16, 16, 12]);
    // now falling (own: none) → pooled; one more falling reading learns nothing yet
    fc.observe(7 * MIN, 12); // @5 (16, rising) learns max(12,12)-16 = -4
    expect(fc.samples.rising).toBe(2);
    expect(fc.last?.trend).toBe("falling");
    fc.observe(8 * MIN, 30); // @6 (12, falling) learns max(12,30)-12 = 18; @8 is rising (30 > 12)
    expect(fc.samples.falling).toBe(1);
    // rising's own rises are [-4, 0]: no margin at q = 1
    expect(fc.plan(1)).toBe(30);
  });

  it("gives a smooth load no margin and a bursty one a large one", () => {
    const smooth = new Forecaster({ horizonMs: 2 * MIN });
    const bursty = new Forecaster({ horizonMs: 2 * MIN });
    for (let m = 1; m <= 605; m++) {
      smooth.observe(m * MIN, 100 + Math.floor(m / 30) * 5); // +5 every 30 min: 2 in 30 readings see it coming
      bursty.observe(m * MIN, m % 10 < 2 ? 100 : 20); // 20, with 2 min at 100 every 10 min: 2 in 6 flat readings do
    }
    expect(smooth.last?.trend).toBe("flat");
    expect(smooth.plan(0.9)).toBe(200);
    expect(bursty.last).toMatchObject({ value: 20, trend: "flat" });
    expect(bursty.plan(0.9)).toBe(100);
    expect(bursty.plan(0.5)).toBe(20);
  });

  it("ignores readings that are not newer, not finite or negative; plans nothing before a reading", () => {
    const fc = f();
    expect(fc.plan(0.9)).toBeNull();
    fc.observe(MIN, 5);
    fc.observe(MIN, 50);
    fc.observe(MIN / 2, 50);
    fc.observe(2 * MIN, Number.NaN);
    fc.observe(2 * MIN, -1);
    fc.observe(Number.POSITIVE_INFINITY, 3);
    expect(fc.last).toEqual({ time: MIN, value: 5, trend: "flat" });
    expect(fc.plan(0.9)).toBe(5);
  });

  it("learns nothing from a reading with no other within its horizon, and calls the trend flat after a gap", () => {
    const fc = f();
    feed(fc, [10, 10]);
    fc.observe(60 * MIN, 50);
    fc.observe(61 * MIN, 50);
    // Only the reading at 1 min saw one (at 2 min) within its horizon; the gap taught nothing.
    expect(fc.samples.all).toBe(1);
    expect(fc.plan(1)).toBe(50);
    expect(fc.last?.trend).toBe("flat");
  });

  it("keeps bounded state over a 30-day minute series", () => {
    const fc = new Forecaster({ horizonMs: 2 * MIN, window: 1440 });
    for (let m = 1; m <= 43_200; m++) fc.observe(m * MIN, 50 + 40 * Math.sin(m / 229) + ((m * 7919) % 13));
    const s = fc.samples;
    expect(s.all).toBe(1440);
    expect(s.flat + s.rising + s.falling).toBeLessThanOrEqual(3 * 1440);
    expect(fc.plan(0.9)).toBeGreaterThan(0);
  });

  it("rejects a horizon that is not > 0", () => {
    expect(() => new Forecaster({ horizonMs: 0 })).toThrow(RangeError);
  });
});
