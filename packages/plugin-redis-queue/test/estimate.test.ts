import { createTestInstance } from "@dynosaur/core/testing";
import { describe, expect, it } from "vitest";
import { estimateDynos, parseRedisUrl, rqTimeMs, sidekiq, sidekiqTimeMs } from "../src/index.js";

const latency = { metric: "latency" as const, target: 30, lowWater: 7.5 };
const at = (current: number | null) => ({ current, process: "worker" });

describe("estimateDynos", () => {
  it("depth: ceil(depth / jobs_per_dyno)", () => {
    const depth = { metric: "depth" as const, jobsPerDyno: 25 };
    expect([0, 1, 25, 26, 100].map((v) => estimateDynos(depth, v, at(4)))).toEqual([0, 1, 1, 2, 4]);
  });

  it("latency above the target: one more dyno, plus one per further target of wait", () => {
    expect(estimateDynos(latency, 31, at(3))).toBe(4);
    expect(estimateDynos(latency, 61, at(3))).toBe(5);
    expect(estimateDynos(latency, 95, at(3))).toBe(6);
  });

  it("latency between low water and target holds; below low water steps down, never below 1 while a job waits", () => {
    expect(estimateDynos(latency, 30, at(3))).toBe(3);
    expect(estimateDynos(latency, 7.5, at(3))).toBe(3);
    expect(estimateDynos(latency, 2, at(3))).toBe(2);
    expect(estimateDynos(latency, 2, at(1))).toBe(1);
    expect(estimateDynos(latency, 0, at(3))).toBe(2);
    expect(estimateDynos(latency, 0, at(0))).toBe(0);
  });

  it("wakes from zero: no dyno (or Heroku not read yet) and any job waiting gives at least 1", () => {
    for (const current of [0, null]) {
      for (const v of [0.001, 5, 20, 31]) expect(estimateDynos(latency, v, at(current))).toBeGreaterThanOrEqual(1);
    }
    expect(estimateDynos(latency, 0.001, undefined)).toBe(1);
  });
});

describe("job timestamps", () => {
  it("Sidekiq: float seconds (<= 7) and integer milliseconds (8) give the same instant", () => {
    expect(sidekiqTimeMs(1_772_366_400.25)).toBe(1_772_366_400_250);
    expect(sidekiqTimeMs(1_772_366_400_250)).toBe(1_772_366_400_250);
    expect(sidekiqTimeMs("1772366400")).toBeNull();
  });

  it("RQ: utcformat with microseconds", () => {
    expect(rqTimeMs("2026-03-01T12:00:00.123456Z")).toBeCloseTo(Date.UTC(2026, 2, 1, 12, 0, 0, 123) + 0.456, 6);
    expect(rqTimeMs("2026-03-01T12:00:00Z")).toBe(Date.UTC(2026, 2, 1, 12));
    expect(rqTimeMs("yesterday")).toBeNull();
  });
});

describe("url", () => {
  it("parses Heroku's forms; what it prints has no password", () => {
    const t = parseRedisUrl("rediss://:p4ss%40word@ec2-1-2-3-4.compute-1.amazonaws.com:12345");
    expect(t).toMatchObject({
      host: "ec2-1-2-3-4.compute-1.amazonaws.com",
      port: 12345,
      tls: true,
      database: 0,
      password: "p4ss@word",
      username: undefined,
    });
    expect(t.display).toBe("rediss://ec2-1-2-3-4.compute-1.amazonaws.com:12345/0");
    expect(parseRedisUrl("redis://user:pw@localhost/3")).toMatchObject({
      port: 6379,
      tls: false,
      database: 3,
      username: "user",
    });
  });

  it("a bad url is a config error at url that never echoes it", async () => {
    for (const url of ["https://:topsecret@host", "redis://:topsecret@host/abc", "::topsecret::"]) {
      const error = await createTestInstance(sidekiq, { url, jobs_per_dyno: 1 }).then(
        () => expect.fail(`${url} was accepted`),
        (e: unknown) => e as Error & { path?: string; hint?: string },
      );
      // Relative to the entry, as inputError from create() gives it; core prefixes plugins[i].
      expect(error.path).toBe("url");
      expect(`${error.message} ${error.hint}`).not.toContain("topsecret");
    }
  });
});
