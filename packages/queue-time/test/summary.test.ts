import { describe, expect, it } from "vitest";
import { MAX_SAMPLES, QueueTimeSummary, queueTime, summaryLine } from "../src/index.js";

describe("summaryLine", () => {
  it("gives the count, nearest-rank p50 and p95, and the max", () => {
    const samples = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(summaryLine(samples)).toBe("dynosaur:queue_time n=100 p50=50 p95=95 max=100");
  });

  it("says n=0 for an idle interval", () => {
    expect(summaryLine([])).toBe("dynosaur:queue_time n=0 p50=0 p95=0 max=0");
  });
});

describe("QueueTimeSummary", () => {
  it("keeps counting past the sample cap, with memory bounded", () => {
    const summary = new QueueTimeSummary(() => 0.5);
    for (let i = 0; i < MAX_SAMPLES * 3; i++) summary.add(5);
    expect(summary.take()).toBe(`dynosaur:queue_time n=${MAX_SAMPLES * 3} p50=5 p95=5 max=5`);
    expect(summary.take()).toBe("dynosaur:queue_time n=0 p50=0 p95=0 max=0");
  });
});

describe("queueTime (Koa and the plain recorder)", () => {
  it("records through a Koa-style middleware and writes one line per flush", async () => {
    const lines: string[] = [];
    let now = 1_000_000_000_000;
    const qt = queueTime({ now: () => now, write: (l) => lines.push(l), timer: false });
    let reached = false;
    await qt.koa({ req: { headers: { "x-request-start": String(now - 30) } } }, async () => {
      reached = true;
    });
    now += 1;
    expect(qt.observe({ headers: { "x-request-start": String(now - 200) } })).toBe(200);
    expect(qt.observe({ headers: {} })).toBeNull();
    expect(reached).toBe(true);
    expect(qt.flush()).toBe("dynosaur:queue_time n=2 p50=30 p95=200 max=200");
    expect(lines).toEqual(["dynosaur:queue_time n=2 p50=30 p95=200 max=200"]);
  });
});
