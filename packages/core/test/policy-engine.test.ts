// The scaling policies (`scaler.policy`) run by the real engine (createRuntime → Loop →
// Source → policy state → decide), one tick a minute on an injected clock, in a dry run.
// Each case is small enough to work out by hand.
import { describe, expect, it } from "vitest";
import { ManualClock } from "../src/clock.js";
import { must } from "../src/errors.js";
import { definePlugin, z } from "../src/index.js";
import type { TickReport } from "../src/report.js";
import { createRuntime } from "../src/runtime.js";

type Step = number | Error | { value: number; busy: number };

/** Readings in order (the last one repeats); `per` units a dyno; no rounding, so fractions reach the policy. */
function scripted() {
  const script = new Map<string, Step[]>();
  const plugin = definePlugin({
    type: "scripted",
    unit: "units",
    options: z.object({ per: z.number().positive().default(10) }),
    create: (o) => ({
      async retrieve() {
        const queue = script.get(o.name) ?? [];
        const next = queue.length > 1 ? queue.shift() : queue[0];
        if (next === undefined || next instanceof Error) throw next ?? new Error("no reading");
        return next;
      },
      estimateDynos: (v) => v / o.per,
    }),
  });
  return { plugin, script };
}

async function engine(
  scaler: Record<string, unknown>,
  plugins: Record<string, unknown>[] = [{ name: "a", type: "scripted" }],
  processes?: Record<string, unknown>,
) {
  const clock = new ManualClock(Date.UTC(2026, 0, 5, 12));
  const { plugin, script } = scripted();
  const runtime = await createRuntime(
    {
      scaler: { dry_run: true, min_dynos: 1, max_dynos: 10, interval: 60, ...scaler },
      plugins,
      ...(processes ? { processes } : {}),
    },
    { plugins: [plugin], clock, stats: { report() {} }, alerts: { raise() {}, clear() {} } },
  );
  /** Ticks once a minute, `n` times; the report of `type` (the first process type's by default) of each tick. */
  const ticks = async (n: number, type?: string): Promise<TickReport[]> => {
    const out: TickReport[] = [];
    for (let i = 0; i < n; i++) {
      if (i > 0 || runtime.lastReports.length > 0) clock.advance(60_000);
      const reports = await runtime.tick();
      out.push(
        must(
          type === undefined ? reports[0] : reports.find((r) => r.processType === type),
          `${type ?? "the first"} report`,
        ),
      );
    }
    return out;
  };
  return { runtime, script, ticks, clock };
}

const after = (reports: TickReport[]) => reports.map((r) => r.after);

describe("policy: forecast (the default), through the engine", () => {
  it("goes up at once, holds for boot_seconds, then follows a clear fall; no blackout or step", async () => {
    const { runtime, script, ticks } = await engine({});
    expect(runtime.config.scaler).toMatchObject({
      policy: "forecast",
      blackout: 0,
      scale_down_step: 0,
      headroom: 0.2,
      boot_seconds: 60,
    });
    script.set("a", [35, 0]);
    const reports = await ticks(8);
    // 35 → 4 dynos at once; 0 is far below anything the load's swings explain: down to
    // min_dynos, once a boot time (60 s: the next minute) has passed since the scale-up.
    expect(after(reports)).toEqual([4, 1, 1, 1, 1, 1, 1, 1]);
    // With a 180 s boot the new dynos are kept for three minutes.
    const slow = await engine({ boot_seconds: 180 });
    slow.script.set("a", [35, 0]);
    const held = await slow.ticks(5);
    expect(after(held)).toEqual([4, 4, 4, 1, 1]);
    expect(held[1]).toMatchObject({ before: 4, after: 4, reason: "steady" });
  });

  it("under policy: seed the same readings keep today's blackout and one-dyno steps", async () => {
    const { runtime, script, ticks } = await engine({ policy: "seed" });
    expect(runtime.config.scaler).toMatchObject({ blackout: 300, scale_down_step: 1 });
    script.set("a", [35, 12]);
    const reports = await ticks(6);
    expect(after(reports)).toEqual([4, 4, 4, 4, 4, 3]);
    expect(reports[1]?.reason).toMatch(/^blackout/);
  });

  it("holds within its band on a load that swings up and down each minute", async () => {
    // 10, 20, 10, 20, ...: the next reading is as likely up as down; following it would be
    // one scale event a minute. The level stays near 20: 2 dynos throughout.
    const { script, ticks } = await engine({ boot_seconds: 0 });
    script.set(
      "a",
      Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? 10 : 20)),
    );
    const reports = await ticks(60);
    expect(new Set(after(reports.slice(2)))).toEqual(new Set([2]));
  });

  it("keeps more spare with more headroom, on the same readings", async () => {
    // 30 six times, then 60, over and over: headroom counts typical swings of spare.
    const readings = Array.from({ length: 140 }, (_, i) => (i % 7 === 6 ? 60 : 30));
    const flat = async (headroom: number) => {
      const { script, ticks } = await engine({ boot_seconds: 0, headroom });
      script.set("a", [...readings]);
      const reports = await ticks(140);
      return reports.filter((_, i) => i >= 100 && i % 7 >= 1 && i % 7 <= 5).map((r) => r.after ?? 0);
    };
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const [cheap, safe] = [await flat(0), await flat(3)];
    expect(Math.max(...cheap)).toBeLessThanOrEqual(6);
    expect(Math.min(...safe)).toBeGreaterThanOrEqual(6);
    expect(sum(safe)).toBeGreaterThan(sum(cheap));
  });
});

describe("safety rules under policy: forecast", () => {
  it("clamps to max_dynos and to a schedule window's min_dynos", async () => {
    const { script, ticks } = await engine({ max_dynos: 10, timezone: "UTC" }, undefined, {
      web: { schedule: [{ from: "12:01", to: "13:00", min_dynos: 4 }] },
    });
    script.set("a", [5, 5]);
    const reports = await ticks(2);
    expect(reports[0]).toMatchObject({ after: 1, estimate: 1 });
    // 12:01: the reading asks for 1 dyno, the window's floor is 4.
    expect(reports[1]).toMatchObject({ after: 4, estimate: 4 });
    const { script: s2, ticks: t2 } = await engine({ max_dynos: 10 });
    s2.set("a", [500]);
    expect((await t2(1))[0]).toMatchObject({ after: 10, estimate: 10 });
  });

  it("never scales down while a source is stale", async () => {
    const { script, ticks } = await engine({ boot_seconds: 0 }, [
      { name: "a", type: "scripted" },
      { name: "b", type: "scripted" },
    ]);
    script.set("a", [50, 0]);
    script.set("b", [10, new Error("API down")]);
    const reports = await ticks(2);
    expect(after(reports)).toEqual([5, 5]);
    expect(reports[1]?.reason).toBe("not scaling down: b stale");
  });

  it("holds when every source is out", async () => {
    const { script, ticks } = await engine({}, [{ name: "a", type: "scripted", outage_after: 120 }]);
    script.set("a", [50, new Error("API down")]);
    const reports = await ticks(4);
    expect(after(reports)).toEqual([5, 5, 5, 5]);
    expect(reports[3]?.reason).toBe("every source is out: holding");
  });

  it("honours a blackout and a step the config sets", async () => {
    const { script, ticks } = await engine({ blackout: 120, scale_down_step: 2, boot_seconds: 0 });
    script.set("a", [80, 0]);
    const reports = await ticks(5);
    expect(after(reports)).toEqual([8, 8, 6, 6, 4]);
    expect(reports[1]?.reason).toMatch(/^blackout/);
  });

  it("holds while jobs run (hold_while_busy), then waits a boot time idle before going to zero", async () => {
    const { script, ticks } = await engine({}, [{ name: "q", type: "scripted", process: "worker" }], {
      web: { min_dynos: 1 },
      worker: { min_dynos: 0, max_dynos: 10, hold_while_busy: true },
    });
    script.set("q", [
      { value: 30, busy: 0 },
      ...Array.from({ length: 6 }, () => ({ value: 0, busy: 2 })),
      { value: 0, busy: 0 },
    ]);
    const reports = await ticks(30, "worker");
    // While jobs run, the falling level asks for fewer: held at 3.
    expect(after(reports.slice(0, 7))).toEqual([3, 3, 3, 3, 3, 3, 3]);
    expect(reports.slice(0, 7).map((r) => r.reason)).toContain("holding: 2 job(s) running (hold_while_busy)");
    // The level eases off the last load; at rest it reaches 0, and the worker goes to zero.
    const q = after(reports);
    expect(q.at(-1)).toBe(0);
    expect(q.indexOf(0)).toBeGreaterThan(2);
    expect(q.slice(q.indexOf(0))).toEqual(q.slice(q.indexOf(0)).map(() => 0));
  });
});

describe("reference policies (the anchors of simulate --compare and tune)", () => {
  it("hysteresis: the largest of the last 5 readings, straight up and down", async () => {
    const { runtime, script, ticks } = await engine({ policy: "hysteresis" });
    expect(runtime.config.scaler).toMatchObject({ blackout: 0, scale_down_step: 0 });
    script.set("a", [50, 10, 10, 10, 10, 10, 10]);
    expect(after(await ticks(7))).toEqual([5, 5, 5, 5, 5, 1, 1]);
  });

  it("hpa: no change within 10 % of the current count; down only to the largest recommendation of the last 5 minutes", async () => {
    const { script, ticks } = await engine({ policy: "hpa" });
    // 50 → 5 dynos; 54 is 5.4 dynos, within 10 % of 5: stays 5; 30 recommends 3, but 5 was
    // recommended within the last 5 minutes (at 0 and 60 s) until 360 s.
    script.set("a", [50, 54, 30, 30, 30, 30, 30, 30]);
    const reports = await ticks(8);
    expect(after(reports)).toEqual([5, 5, 5, 5, 5, 5, 3, 3]);
    // 66 = 6.6 dynos, 32 % over 5: up at once to 7.
    const { script: s2, ticks: t2 } = await engine({ policy: "hpa" });
    s2.set("a", [50, 66]);
    expect(after(await t2(2))).toEqual([5, 7]);
  });
});
