import { describe, expect, it } from "vitest";
import type { MinuteReading, Tick } from "../src/api.js";
import { chartData, fromMinute, fromTick } from "../src/series.js";

// 2026-01-01T10:00:00Z, in ms as the API's tick `time` has it.
const T0 = Date.UTC(2026, 0, 1, 10);
const S0 = T0 / 1000;

const minute = (at: number, over: Partial<MinuteReading> = {}): MinuteReading => ({
  minute: new Date(at).toISOString(),
  process_type: "web",
  dynos: 2,
  estimate: 3,
  sources: [{ name: "queue", value: 40, estimate: 3, health: "ok" }],
  ...over,
});

const tick = (time: number, over: Partial<Tick> = {}): Tick => ({
  at: new Date(time).toISOString(),
  time,
  app: "shop",
  dryRun: false,
  processType: "web",
  before: 3,
  after: 3,
  estimate: 3,
  winner: "queue",
  reason: "scale up",
  events: [],
  sources: [
    {
      name: "queue",
      type: "random",
      unit: "jobs",
      value: 50,
      estimate: 3,
      health: "ok",
      busy: null,
      lastRetrieval: time,
      lastError: null,
    },
  ],
  ...over,
});

describe("the app chart's series", () => {
  it("stored minutes (ISO) and live ticks (ms) land on the same time axis, in seconds", () => {
    const d = chartData([fromMinute(minute(T0)), fromTick(tick(T0 + 90_000))], [], T0 - 3_600_000, T0 + 120_000);
    expect(d.x).toEqual([S0, S0 + 90]);
    expect(d.dynos).toEqual([2, 3]);
    expect(d.sources).toEqual([{ name: "queue", values: [40, 50] }]);
  });

  it("an hour of data is shown as the hour asked for, even with a single point (uPlot alone would show years)", () => {
    const now = T0 + 30_000;
    const d = chartData([fromTick(tick(T0))], [], now - 3_600_000, now);
    expect(d.window).toEqual({ from: now / 1000 - 3600, to: now / 1000 });
    expect(d.window.to - d.window.from).toBe(3600);
  });

  it("the window widens to hold a point the page's clock has not reached yet (the server's clock runs ahead)", () => {
    const d = chartData([fromTick(tick(T0 + 5_000))], [], T0 - 3_600_000, T0);
    expect(d.window).toEqual({ from: S0 - 3600, to: S0 + 5 });
  });

  it("process types at the same time are added up into one point; times come out sorted and distinct", () => {
    const worker = {
      process_type: "worker",
      dynos: 1,
      estimate: null,
      sources: [{ name: "jobs", value: 7, estimate: null, health: "ok" }],
    };
    const d = chartData(
      [
        fromMinute(minute(T0 + 60_000)),
        fromMinute(minute(T0)),
        fromMinute(minute(T0, worker)),
        fromMinute(minute(T0 + 60_000, worker)),
      ],
      [],
      T0 - 3_600_000,
      T0 + 120_000,
    );
    expect(d.x).toEqual([S0, S0 + 60]);
    expect(d.dynos).toEqual([3, 3]);
    expect(d.estimate).toEqual([3, 3]);
    expect(d.sources).toEqual([
      { name: "queue", values: [40, 40] },
      { name: "jobs", values: [7, 7] },
    ]);
  });

  it("a later figure for the same process and time replaces the earlier one; all-null stays null", () => {
    const d = chartData(
      [fromTick(tick(T0, { after: null, estimate: null })), fromTick(tick(T0, { after: 4, estimate: null }))],
      [],
      T0 - 3_600_000,
      T0,
    );
    expect(d.dynos).toEqual([4]);
    expect(d.estimate).toEqual([null]);
  });

  it("scale ups and downs are marked at their time in seconds; other events are not", () => {
    const at = (ms: number) => new Date(ms).toISOString();
    const d = chartData(
      [],
      [
        { at: at(T0), kind: "scale-up", message: "", data: {} },
        { at: at(T0 + 60_000), kind: "config-changed", message: "", data: {} },
        { at: at(T0 + 120_000), kind: "scale-down", message: "", data: {} },
      ],
      T0 - 3_600_000,
      T0 + 180_000,
    );
    expect(d.marks).toEqual([S0, S0 + 120]);
    expect(d.x).toEqual([]);
    expect(d.window).toEqual({ from: S0 - 3600, to: S0 + 180 });
  });
});

describe("one chart per process type", () => {
  it("each type's own dynos and sources, its scale events and the app-wide ones, its limits", async () => {
    const { chartsByProcess } = await import("../src/series.js");
    const points = [
      fromMinute(minute(T0, { process_type: "web", dynos: 3 })),
      fromMinute(
        minute(T0, {
          process_type: "worker",
          dynos: 9,
          estimate: 9,
          sources: [{ name: "jobs", value: 400, estimate: 9, health: "ok" }],
        }),
      ),
    ];
    const log = [
      { at: new Date(T0).toISOString(), kind: "scale-up", message: "", data: { process: "worker" } },
      { at: new Date(T0 + 60_000).toISOString(), kind: "scale-up", message: "", data: { process: null } },
    ];
    const charts = chartsByProcess(points, log, T0 - 3_600_000, T0, new Map([["web", { min: 2, max: 8 }]]));
    expect(charts.map((c) => [c.type, c.data.dynos, c.data.sources.map((s) => s.name), c.data.limits])).toEqual([
      ["web", [3], ["queue"], { min: 2, max: 8 }],
      ["worker", [9], ["jobs"], undefined],
    ]);
    expect(charts.map((c) => c.data.marks)).toEqual([[S0 + 60], [S0, S0 + 60]]);
  });
});
