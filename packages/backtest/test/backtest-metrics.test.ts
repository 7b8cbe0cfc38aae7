import { describe, expect, it } from "vitest";
import { computeMetrics } from "../src/metrics.js";

const MIN = 60_000;

describe("computeMetrics", () => {
  it("a scale-up serves after the boot time; a scale-down stops at once", () => {
    // Needed 1, 3, 3, 1; up to 3 at the end of minute 0, down to 1 at the end of minute 2.
    const { metrics, series } = computeMetrics({
      needed: [1, 3, 3, 1],
      stepMs: MIN,
      initial: 1,
      changes: [
        { time: 1 * MIN, quantity: 3 },
        { time: 3 * MIN, quantity: 1 },
      ],
      bootMs: MIN,
    });
    expect([...series.formation]).toEqual([1, 3, 3, 1]);
    expect([...series.running]).toEqual([1, 1, 3, 1]);
    expect(metrics).toMatchObject({
      minutes: 4,
      dyno_minutes: 8,
      serving_dyno_minutes: 6,
      oracle_dyno_minutes: 8,
      cost_ratio: 1,
      shortfall_dyno_minutes: 2,
      shortfall_percent: 25,
      under_provisioned_minutes: 1,
      scale_events: 2,
      scale_events_per_day: 720,
      scale_ups: 1,
      scale_downs: 1,
      largest_step: 2,
      largest_step_up: 2,
      largest_step_down: 2,
      peak_dynos: 3,
    });
  });

  it("with no boot time, new dynos serve at once", () => {
    const { metrics } = computeMetrics({
      needed: [1, 3, 3, 1],
      stepMs: MIN,
      initial: 1,
      changes: [{ time: 1 * MIN, quantity: 3 }],
      bootMs: 0,
    });
    expect(metrics.shortfall_dyno_minutes).toBe(0);
    expect(metrics.dyno_minutes).toBe(10);
  });

  it("removes the newest dynos first: a dyno removed while booting never served", () => {
    // 1 → 5 half-way through minute 0, → 3 at the end of it; boot 60 s.
    const { series, metrics } = computeMetrics({
      needed: [1, 1, 1],
      stepMs: MIN,
      initial: 1,
      changes: [
        { time: 0.5 * MIN, quantity: 5 },
        { time: 1 * MIN, quantity: 3 },
      ],
      bootMs: MIN,
    });
    expect([...series.formation]).toEqual([3, 3, 3]);
    // Serving: 1 until 1.5 min (the window still holds the single old dyno), then 3.
    expect([...series.running]).toEqual([1, 2, 3]);
    expect(metrics.dyno_minutes).toBe(9);
    expect(metrics.serving_dyno_minutes).toBe(6);
    expect(metrics.largest_step_down).toBe(2);
    expect(metrics.peak_dynos).toBe(5);
  });

  it("weights changes inside a period by time, and counts part-served periods as under-provisioned", () => {
    // Down from 4 to 1 at 1.5 min; need 2 in minute 1.
    const { metrics, series } = computeMetrics({
      needed: [4, 2, 1],
      stepMs: MIN,
      initial: 4,
      changes: [{ time: 1.5 * MIN, quantity: 1 }],
      bootMs: MIN,
    });
    expect([...series.running]).toEqual([4, 2.5, 1]);
    expect(metrics.shortfall_dyno_minutes).toBe(0);
    const tighter = computeMetrics({
      needed: [4, 3, 1],
      stepMs: MIN,
      initial: 4,
      changes: [{ time: 1.5 * MIN, quantity: 1 }],
      bootMs: MIN,
    });
    expect(tighter.metrics.shortfall_dyno_minutes).toBe(0.5);
    expect(tighter.metrics.under_provisioned_minutes).toBe(1);
  });

  it("scales dyno-minutes by a step other than a minute", () => {
    const { metrics } = computeMetrics({ needed: [2, 2], stepMs: 5 * MIN, initial: 2, changes: [], bootMs: MIN });
    expect(metrics).toMatchObject({
      minutes: 10,
      dyno_minutes: 20,
      oracle_dyno_minutes: 20,
      cost_ratio: 1,
      scale_events: 0,
      largest_step: 0,
    });
  });

  it("a boot longer than the gap between two scale-ups delays both", () => {
    // 1 → 2 at 1 min, → 3 at 2 min, boot 3 min: 2 serve from 4 min, 3 from 5 min.
    const { series } = computeMetrics({
      needed: [1, 1, 1, 1, 1, 1],
      stepMs: MIN,
      initial: 1,
      changes: [
        { time: 1 * MIN, quantity: 2 },
        { time: 2 * MIN, quantity: 3 },
      ],
      bootMs: 3 * MIN,
    });
    expect([...series.running]).toEqual([1, 1, 1, 1, 2, 3]);
  });
});
