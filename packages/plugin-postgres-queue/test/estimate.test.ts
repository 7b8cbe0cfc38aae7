import { describe, expect, it } from "vitest";
import plugins, { estimateDynos } from "../src/index.js";

const depth = { metric: "depth", jobsPerDyno: 50 } as const;
const latency = { metric: "latency", latencyTarget: 30 } as const;
const at = (current: number | null) => ({ current, process: "worker" });

describe("estimate: depth", () => {
  it("is ceil(depth / jobs_per_dyno), whatever runs now", () => {
    expect(estimateDynos(depth, 0, at(3))).toBe(0);
    expect(estimateDynos(depth, 1, at(0))).toBe(1);
    expect(estimateDynos(depth, 50, at(7))).toBe(1);
    expect(estimateDynos(depth, 51, at(7))).toBe(2);
    expect(estimateDynos(depth, 1000, null as never)).toBe(20);
  });
});

describe("estimate: latency band around latency_target", () => {
  it("above the target: one more, or proportionally more when far above", () => {
    expect(estimateDynos(latency, 31, at(4))).toBe(5); // max(4 + 1, ceil(4 x 31 / 30) = 5)
    expect(estimateDynos(latency, 30.5, at(4))).toBe(5);
    expect(estimateDynos(latency, 90, at(4))).toBe(12); // ceil(4 x 90 / 30)
  });

  it("from half the target to the target: as many as now", () => {
    expect(estimateDynos(latency, 15, at(4))).toBe(4);
    expect(estimateDynos(latency, 30, at(4))).toBe(4);
  });

  it("below half the target, or nothing waiting: one fewer", () => {
    expect(estimateDynos(latency, 14.9, at(4))).toBe(3);
    expect(estimateDynos(latency, 0, at(4))).toBe(3);
    expect(estimateDynos(latency, 0, at(0))).toBe(0);
  });

  it("wakes from zero: any waiting job with no dyno running (or an unknown count) asks for 1", () => {
    expect(estimateDynos(latency, 0.1, at(0))).toBe(1);
    expect(estimateDynos(latency, 20, at(0))).toBe(1);
    expect(estimateDynos(latency, 3600, at(0))).toBe(1);
    expect(estimateDynos(latency, 5, at(null))).toBe(1);
    expect(estimateDynos(latency, 5, undefined)).toBe(1);
    expect(estimateDynos(latency, 0, undefined)).toBe(0);
  });

  it("never falls as the latency rises, for any number of dynos now", () => {
    const readings = [0, 0.01, 1, 7.5, 14.99, 15, 20, 29.99, 30, 30.01, 45, 60, 61, 300, 1e6];
    for (const current of [null, 0, 1, 2, 5, 17, 100]) {
      const estimates = readings.map((r) => estimateDynos(latency, r, at(current)));
      expect(estimates).toEqual([...estimates].sort((a, b) => a - b));
      for (const e of estimates) expect(Number.isInteger(e) && e >= 0).toBe(true);
    }
  });
});

describe("the package", () => {
  it("default-exports the six plugins, each with url as its secret and the shared option names", () => {
    expect(plugins.map((p) => p.type)).toEqual([
      "good-job",
      "solid-queue",
      "pg-boss",
      "graphile-worker",
      "delayed-job",
      "sql",
    ]);
    for (const p of plugins) {
      expect(p.secrets).toEqual(["url"]);
      const keys = Object.keys(p.options.shape);
      expect(keys).toEqual(expect.arrayContaining(["url", "metric", "jobs_per_dyno", "latency_target"]));
      expect(keys.includes("queues")).toBe(p.type !== "sql");
      for (const [key, option] of Object.entries(p.options.shape as Record<string, { description?: string }>))
        expect(option.description, `${p.type}.${key}`).toBeTruthy();
      expect(p.description).toMatch(/ceil\(depth \/ jobs_per_dyno\)/);
    }
  });
});
