import { definePlugin } from "@dynosaur/core";
import { assert, describe, expect, it } from "vitest";
import { z } from "zod";
import { renderBacktestHtml, renderBacktestSvg } from "../src/chart.js";
import { backtestJson, formatBacktest } from "../src/format.js";
import { type Backtest, runBacktest } from "../src/replay.js";
import { parseTrace } from "../src/trace.js";

const per = definePlugin({
  type: "per",
  unit: "req/min",
  options: z.object({ per: z.number().default(10) }),
  create: (o) => ({ retrieve: async () => 0, estimateDynos: (v) => Math.ceil(v / o.per) }),
});

async function replay(csv: string, policies: string[] = ["configured"], maxDynos = 10): Promise<Backtest> {
  return runBacktest({
    config: {
      scaler: { policy: "seed", min_dynos: 1, max_dynos: maxDynos },
      plugins: [
        { type: "per", name: "rpm" },
        { type: "per", name: "unused" },
      ],
    },
    plugins: [per],
    trace: parseTrace(csv, "t.csv"),
    policies,
  });
}

const HAND = `minute,value\n${[10, 30, 30, 5, 5, 5, 5, 5, 5, 5].map((v, i) => `${i},${v}`).join("\n")}\n`;

/** 14 days of a daily wave, with one 1-minute spike of 1000 on day 9. */
function fortnight(): string {
  const rows = ["minute,value"];
  for (let m = 0; m < 14 * 1440; m++)
    rows.push(`${m},${m === 12_345 ? 1000 : Math.round(25 + 20 * Math.sin((2 * Math.PI * m) / 1440))}`);
  return `${rows.join("\n")}\n`;
}

/** Checks that every tag is closed in order: enough to catch a broken SVG. */
function expectWellFormed(xml: string): void {
  const stack: string[] = [];
  for (const m of xml.matchAll(/<(\/?)([a-zA-Z][\w-]*)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = m;
    if (selfClosing) continue;
    if (closing) expect(stack.pop()).toBe(name);
    else {
      assert(name, "the tag pattern always captures a name");
      stack.push(name);
    }
  }
  expect(stack).toEqual([]);
}

describe("backtestJson", () => {
  it("holds the documented fields, with the main run's metrics at the top level", async () => {
    const bt = await replay(HAND, ["seed", "configured", "follow"]);
    const json = JSON.parse(JSON.stringify(backtestJson(bt, { config: "c.yaml", chart: "out.svg" })));
    expect(json).toMatchObject({
      trace: "t.csv",
      config: "c.yaml",
      start: null,
      step_seconds: 60,
      tick_seconds: 60,
      interval_seconds: 5,
      boot_seconds: 60,
      min_dynos: 1,
      max_dynos: 10,
      sources: [{ name: "rpm", type: "per", unit: "req/min", column: "value" }],
      ignored_sources: ["unused"],
      policy: "configured",
      settings: { blackout: 300, scale_down_step: 1, hysteresis_period: { rpm: 0 } },
      minutes: 10,
      dyno_minutes: 23,
      serving_dyno_minutes: 21,
      oracle_dyno_minutes: 14,
      cost_ratio: 1.6429,
      shortfall_dyno_minutes: 4,
      shortfall_percent: 28.57,
      under_provisioned_minutes: 2,
      scale_events: 2,
      scale_events_per_day: 288,
      scale_ups: 1,
      scale_downs: 1,
      largest_step: 2,
      peak_dynos: 3,
      ticks: 9,
      warnings: 0,
      chart: "out.svg",
    });
    expect(typeof json.replay_ms).toBe("number");
    expect(json.compare.map((c: { policy: string }) => c.policy)).toEqual(["seed", "configured", "follow"]);
    for (const c of json.compare) {
      for (const key of [
        "minutes",
        "dyno_minutes",
        "oracle_dyno_minutes",
        "cost_ratio",
        "shortfall_dyno_minutes",
        "shortfall_percent",
        "under_provisioned_minutes",
        "scale_events",
      ]) {
        expect(typeof c[key], `${c.policy}.${key}`).toBe("number");
      }
    }
    expect(json.compare[2]).toMatchObject({ policy: "follow", settings: { blackout: 0, scale_down_step: 0 } });
  });

  it("has no compare array for a single policy, and an ISO start for a time trace", async () => {
    const bt = await replay("time,value\n2014-04-10T00:00:00Z,5\n2014-04-10T00:01:00Z,5\n");
    const json = backtestJson(bt);
    expect(json.compare).toBeUndefined();
    expect(json.start).toBe("2014-04-10T00:00:00.000Z");
    expect(json.chart).toBeNull();
  });
});

describe("formatBacktest", () => {
  it("prints the model and one column per policy", async () => {
    const text = formatBacktest(await replay(HAND, ["seed", "configured", "follow"]), {
      config: "c.yaml",
      chart: "out.svg",
    });
    expect(text).toContain("Replayed 10 minutes (0.0 days) of t.csv through c.yaml");
    expect(text).toContain('rpm (per, req/min) fed from column "value"');
    expect(text).toContain("not replayed (no column in the trace): unused");
    expect(text).toContain(
      "the engine ticks every 60 s (a live one every 5 s: --tick-seconds 5 replays at that pace);",
    );
    expect(text).toContain("scale-ups serve 60 s after they are decided, scale-downs at once;");
    expect(text).toMatch(/^ +seed +configured +follow$/m);
    expect(text).toMatch(/^ +dyno-minutes +23 +23 +\d+$/m);
    expect(text).toMatch(/^ +oracle dyno-minutes +14 +14 +14$/m);
    expect(text).toMatch(/^ +cost ratio \(used\/oracle\) +1\.643 +1\.643 +/m);
    expect(text).toMatch(/^ +shortfall % of oracle +28\.57% +28\.57% +/m);
    expect(text).toMatch(/^ +under-provisioned minutes +2 +2 +/m);
    // 2 events in 10 minutes: 288 a day.
    expect(text).toMatch(/^ +scale events per day +288\.0 +288\.0 +/m);
    expect(text).toContain("follow: follow the last reading");
    expect(text).toContain("chart: out.svg");
  });
});

describe("renderBacktestSvg", () => {
  it("draws 14 days readably: day ticks, a legend, downsampled series that keep a 1-minute spike", async () => {
    const bt = await replay(fortnight(), ["configured"], 200);
    const svg = renderBacktestSvg(bt);
    expect(svg.startsWith("<svg")).toBe(true);
    expectWellFormed(svg);
    for (let d = 1; d <= 15; d++) expect(svg).toContain(`>day ${d}<`);
    expect(svg).toContain("load read by rpm");
    expect(svg).toContain("dynos needed (oracle)");
    expect(svg).toContain("dynos running: configured");
    expect(svg).toContain("each point is 30 min");
    // The spike sets the load axis: it was not averaged away.
    expect(svg).toContain(">1,000<");
    for (const [, d] of svg.matchAll(/ d="([^"]*)"/g)) {
      const points = d?.match(/[MLHV]/g)?.length ?? 0;
      expect(points).toBeLessThanOrEqual(4 * 700);
    }
    expect(svg.length).toBeLessThan(400_000);
  });

  it("labels a time trace with dates, and draws a short trace at full resolution", async () => {
    const rows = ["time,value"];
    for (let m = 0; m < 3 * 1440; m += 5)
      rows.push(`${new Date(Date.UTC(2014, 3, 10) + m * 60_000).toISOString()},${m % 60}`);
    const svg = renderBacktestSvg(await replay(`${rows.join("\n")}\n`));
    expectWellFormed(svg);
    expect(svg).toContain(">Apr 11<");
    expect(svg).toContain(">Apr 12<");
    const short = renderBacktestSvg(await replay(HAND));
    expect(short).not.toContain("each point is");
    expect(short).toContain("dyno-minutes needed but not running (configured)");
  });

  it("draws only the policies asked for", async () => {
    const bt = await replay(HAND, ["seed", "configured", "follow"]);
    expect(renderBacktestSvg(bt)).not.toContain("dynos running: seed");
    const all = renderBacktestSvg(bt, { policies: ["follow", "seed"] });
    expect(all).toContain("dynos running: follow");
    expect(all).toContain("dynos running: seed");
    expect(all).toContain("(follow)");
  });
});

describe("renderBacktestHtml", () => {
  it("has the overview and one full-resolution chart per day", async () => {
    const html = renderBacktestHtml(await replay(fortnight(), ["configured", "follow"], 200));
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html.match(/<svg /g)).toHaveLength(15);
    expect(html).toContain("day 14 00:00 to day 15 00:00");
    expect(html).toContain("dynos running: follow");
    expectWellFormed(html.slice(html.indexOf("<body>"), html.indexOf("</html>")));
  });
});
