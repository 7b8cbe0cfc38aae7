import { describe, expect, it } from "vitest";
import {
  BandPolicy,
  burstSwings,
  DEFAULT_HEADROOM,
  LevelBand,
  spareSwings,
  trimFactor,
} from "../src/policy/forecast.js";
import { decide, type PolicySettings } from "../src/policy.js";

const MIN = 60_000;
const perDyno10 = (v: number) => v / 10;

/** A small deterministic generator (mulberry32): the same noise on every run. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Per-minute web-like load: a slow wave around 100 with ±15 % noise each minute. */
function noisy(minutes: number, seed = 1): number[] {
  const r = random(seed);
  return Array.from({ length: minutes }, (_, m) => (100 + 60 * Math.sin((2 * Math.PI * m) / 720)) * (0.85 + 0.3 * r()));
}

const settings = (extra: Partial<PolicySettings> = {}): PolicySettings => ({
  minDynos: 1,
  maxDynos: 100,
  blackout: 0,
  scaleDownStep: 0,
  ...extra,
});

/** Decisions once a minute on the readings; returns the quantity after each. */
function replay(
  readings: number[],
  estimate: (now: number, value: number, current: number) => number,
  s: PolicySettings,
) {
  let current = s.minDynos;
  let lastChange: number | null = null;
  const quantities: number[] = [];
  readings.forEach((value, i) => {
    const now = (i + 1) * MIN;
    const e = estimate(now, value, current);
    const source = {
      name: "a",
      type: "",
      unit: "",
      value,
      estimate: e,
      health: "ok" as const,
      busy: null,
      lastRetrieval: now,
      lastError: null,
    };
    const { target } = decide({
      now,
      current,
      sources: [source],
      combined: { estimate: e, raw: e, winner: "a" },
      lastChange,
      refusedQuantity: null,
      settings: s,
    });
    if (target !== current) lastChange = now;
    current = target;
    quantities.push(current);
  });
  return quantities;
}

function forecast(readings: number[], headroom = DEFAULT_HEADROOM, bootSeconds = 60) {
  const policy = new BandPolicy(bootSeconds);
  return replay(
    readings,
    (now, value, current) => {
      policy.observe(now, value);
      return policy.estimate(now, current, headroom, perDyno10) ?? current;
    },
    settings(),
  );
}

/** The seed's rule: the reading's dynos, down one at a time 300 s after any change. */
const seed = (readings: number[]) =>
  replay(readings, (_now, value) => Math.ceil(perDyno10(value)), settings({ blackout: 300, scaleDownStep: 1 }));

const events = (q: number[]) => q.filter((n, i) => i > 0 && n !== q[i - 1]).length;

describe("LevelBand (hand-worked)", () => {
  it("rises at once (half way within half a swing), eases off 30 % of the gap within the noise, follows a clear fall", () => {
    const band = new LevelBand();
    expect(band.plan()).toBeNull();
    expect(band.hold()).toBeNull();
    band.observe(MIN, 10);
    expect([band.plan(), band.hold()]).toEqual([10, 10]);
    band.observe(2 * MIN, 20); // up at once; swing 0.05 × 10
    // The band: half a swing, and 0.4 more as the step reads as a burst: the smoothed load 13.5
    // strays 3.5 from the mean 10, a spread of 0.07, 35 % of the mean's 0.2 above the day's low 10.
    expect(band.plan()).toBe(20);
    expect(band.hold()).toBeCloseTo(20 + (0.5 + 8 * 0.05) * 0.5, 10);
    band.observe(3 * MIN, 18); // gap -2: swing 0.5 + 0.05 × 1.5; level 20 - 0.6, within 4 swings: eased
    expect(band.plan()).toBeCloseTo(19.4, 10);
    // Smoothed 15.075, 4.875 from the mean 10.2: spread 0.1661, of a mean now 0.356 above the low.
    expect(band.hold()).toBeCloseTo(19.4 + (0.5 + 8 * (0.1661 / 0.356 - 0.3)) * 0.575, 10);
    band.observe(4 * MIN, 5); // 14.4 below: swing 0.575 + 0.05 × 13.825; eased 15.08 is > 4 swings above 5
    expect(band.plan()).toBe(5);
    band.observe(5 * MIN, 5.4); // 0.4 above: within half a swing (1.223), noise: half way
    expect(band.plan()).toBeCloseTo(5.2, 10);
    band.observe(6 * MIN, 7); // 1.8 above: beyond half a swing, a rise: at once
    expect(band.plan()).toBe(7);
  });

  it("maps headroom to spare: a 2 % trim at 0, the level at the default, 2 swings per unit above", () => {
    expect(trimFactor(0)).toBeCloseTo(0.98, 10);
    expect(trimFactor(DEFAULT_HEADROOM)).toBe(1);
    expect(spareSwings(DEFAULT_HEADROOM)).toBe(0);
    expect(spareSwings(0)).toBe(0);
    expect(spareSwings(DEFAULT_HEADROOM + 0.5)).toBeCloseTo(1, 10);
    // At 1 swing of spare the level eases at a third of the pace: 20 → 18 moves it 0.2, not 0.6.
    const band = new LevelBand(DEFAULT_HEADROOM + 0.5);
    for (const [m, v] of [
      [1, 10],
      [2, 20],
      [3, 18],
    ] as const)
      band.observe(m * MIN, v);
    expect(band.plan()).toBeCloseTo(19.8 + 0.575, 10);
  });

  it("widens the band for a bursty load: from a spread of 30 % of the mean, up to 2.2 swings, less below the default", () => {
    expect(burstSwings(0.2, DEFAULT_HEADROOM)).toBe(0);
    expect(burstSwings(0.3, DEFAULT_HEADROOM)).toBe(0);
    expect(burstSwings(0.4, DEFAULT_HEADROOM)).toBeCloseTo(0.8, 10);
    expect(burstSwings(0.5, DEFAULT_HEADROOM)).toBeCloseTo(1.6, 10);
    expect(burstSwings(0.6, DEFAULT_HEADROOM)).toBeCloseTo(2.2, 10);
    expect(burstSwings(3, DEFAULT_HEADROOM)).toBeCloseTo(2.2, 10);
    expect(burstSwings(3, 1)).toBeCloseTo(2.2, 10);
    expect(burstSwings(3, DEFAULT_HEADROOM / 2)).toBeCloseTo(1.1, 10);
    expect(burstSwings(3, 0)).toBe(0);
  });

  it("ignores readings that are not newer, not finite or negative", () => {
    const band = new LevelBand();
    band.observe(MIN, 10);
    band.observe(MIN, 50);
    band.observe(2 * MIN, Number.NaN);
    band.observe(3 * MIN, -5);
    band.observe(Number.POSITIVE_INFINITY, 50);
    expect([band.plan(), band.hold()]).toEqual([10, 10]);
  });
});

describe("BandPolicy on synthetic series", () => {
  it("goes up at once on a step", () => {
    const q = forecast([...Array(30).fill(10), ...Array(10).fill(80)]);
    expect(q[29]).toBe(1);
    expect(q[30]).toBe(8);
  });

  it("follows a clear fall at once, and holds through a dip within the noise", () => {
    expect(forecast([...Array(30).fill(80), ...Array(5).fill(25)])[30]).toBe(3);
    // 80, 70, 80, 70, ...: a typical swing of several units; one reading of 60 is a dip, not a fall.
    const swinging = Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? 80 : 70));
    const q = forecast([...swinging, 60, 80, 70]);
    expect(q.slice(10)).toEqual(q.slice(10).map(() => 8));
  });

  it("never removes a dyno within boot_seconds of adding one", () => {
    for (const boot of [60, 180]) {
      const readings = noisy(3000, boot);
      const q = forecast(readings, DEFAULT_HEADROOM, boot);
      let lastUp = Number.NEGATIVE_INFINITY;
      q.forEach((n, i) => {
        const previous = i === 0 ? 1 : (q[i - 1] ?? 1);
        if (n > previous) lastUp = i;
        if (n < previous) expect((i - lastUp) * MIN, `minute ${i}`).toBeGreaterThanOrEqual(boot * 1000);
      });
    }
  });

  it("holds within its band: fewer scale events than the seed's rule on noisy traffic", () => {
    const readings = noisy(3000, 7);
    const calm = events(forecast(readings));
    expect(calm).toBeLessThan(events(seed(readings)));
    expect(calm).toBeGreaterThan(0);
  });

  it("keeps dynos between bursts that keep coming back, and sheds them at headroom 0", () => {
    // 10 a minute (2 dynos at most), with 3 minutes at 80 (8 dynos) every quarter of an hour:
    // the load's spread is near its mean, far above the 30 % of a bursty load.
    const bursty = Array.from({ length: 600 }, (_, m) => (m % 15 < 3 ? 80 : 10));
    const beforeBursts = (q: number[]) => q.filter((_, i) => i >= 300 && i % 15 === 14);
    // Once it has seen a few bursts, each finds more than the quiet load's dynos running...
    for (const n of beforeBursts(forecast(bursty))) expect(n).toBeGreaterThanOrEqual(3);
    // ...and the formation steps down between them rather than dropping at once.
    const late = forecast(bursty).slice(300, 315);
    expect(new Set(late).size).toBeGreaterThan(3);
    // At headroom 0 the band stays narrow: straight back to the quiet load's dynos after each burst.
    for (const n of beforeBursts(forecast(bursty, 0))) expect(n).toBe(2);
  });

  it("sees bursts on top of a constant base load as bursts: the spread counts above the day's low", () => {
    // The same bursts as above on a base of 200 a minute: 21 dynos between bursts, 28 in them.
    // Their spread is under 15 % of the mean, but nearly all of the load above its low.
    const based = Array.from({ length: 600 }, (_, m) => 200 + (m % 15 < 3 ? 80 : 10));
    const beforeBursts = (q: number[]) => q.filter((_, i) => i >= 300 && i % 15 === 14);
    for (const n of beforeBursts(forecast(based))) expect(n).toBeGreaterThanOrEqual(23);
    // Without bursts, the same base and noise keep the narrow band: back to the load's dynos.
    const steady = Array.from({ length: 600 }, (_, m) => 210 + (m % 2) * 5);
    expect(new Set(forecast(steady).slice(300))).toEqual(new Set([22]));
  });

  it("keeps more dynos with more headroom, on the same readings", () => {
    const readings = noisy(2000, 3);
    const used = (h: number) => forecast(readings, h).reduce((a, b) => a + b, 0);
    expect(used(0)).toBeLessThan(used(1));
    expect(used(1)).toBeLessThan(used(3));
  });

  it("holds while the capacity model has nothing to say", () => {
    const policy = new BandPolicy(60);
    expect(policy.estimate(MIN, 3, DEFAULT_HEADROOM, perDyno10)).toBeNull();
    policy.observe(MIN, 10);
    expect(policy.estimate(MIN, 3, DEFAULT_HEADROOM, () => Number.NaN)).toBeNull();
    expect(policy.estimate(MIN, 3, DEFAULT_HEADROOM, perDyno10)).toBe(1);
  });
});
