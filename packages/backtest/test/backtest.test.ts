import { DynosaurError, definePlugin, inputError } from "@dynosaur/core";
import { request } from "undici";
import { assert, describe, expect, it } from "vitest";
import { z } from "zod";
import { type Backtest, type BacktestOptions, type BacktestRun, runBacktest } from "../src/replay.js";
import { parseTrace } from "../src/trace.js";

/**
 * A plugin needing ceil(value / per) dynos. Its `retrieve` must never run in a replay:
 * it counts the calls so a test can prove it.
 */
function perPlugin() {
  const polls = { count: 0 };
  const plugin = definePlugin({
    type: "per",
    unit: "req/min",
    options: z.object({ per: z.number().positive().default(10) }),
    create: (options) => ({
      retrieve: async () => {
        polls.count++;
        throw new Error("a replay must never poll the plugin");
      },
      estimateDynos: (v) => Math.ceil(v / options.per),
    }),
  });
  return { plugin, polls };
}

/** The run of policy `name` (by default the first run); a test fails naming the runs there are when it is missing. */
function runOf(bt: Backtest, name?: string): BacktestRun {
  const run = name === undefined ? bt.runs[0] : bt.runs.find((r) => r.policy.name === name);
  assert(run, `no run ${name ?? "at all"} among [${bt.runs.map((r) => r.policy.name).join(", ")}]`);
  return run;
}

const minutes = (values: number[]) =>
  parseTrace(`minute,value\n${values.map((v, i) => `${i},${v}`).join("\n")}\n`, "t.csv");

function options(
  values: number[],
  scaler: Record<string, unknown>,
  extra: Partial<BacktestOptions> = {},
): BacktestOptions {
  const { plugin } = perPlugin();
  return {
    config: { scaler: { min_dynos: 1, max_dynos: 10, ...scaler }, plugins: [{ type: "per", per: 10 }] },
    plugins: [plugin],
    trace: minutes(values),
    ...extra,
  };
}

describe("runBacktest: the seed's rule on a hand-made trace", () => {
  // Needed (per 10): 1, 3, 3, then 1. Worked out by hand:
  // - the formation starts at min_dynos = 1;
  // - minute 1's 30 is read at its end (t = 2 min): up to 3 at once, serving from t = 3;
  // - minute 3's 5 is read at t = 4: the blackout (300 s after t = 2) holds until t = 7,
  //   then down by 1 to 2; the next step down would be at t = 12, after the trace.
  // Formation: 1, 1, 3, 3, 3, 3, 3, 2, 2, 2 = 23 dyno-minutes; oracle 1+3+3+7×1 = 14.
  // Serving: 1, 1, 1 (booting), 3, 3, 3, 3, 2, 2, 2: short 2 in minutes 1 and 2 = 4.
  const trace = [10, 30, 30, 5, 5, 5, 5, 5, 5, 5];
  const expected = {
    minutes: 10,
    dyno_minutes: 23,
    serving_dyno_minutes: 21,
    oracle_dyno_minutes: 14,
    shortfall_dyno_minutes: 4,
    under_provisioned_minutes: 2,
    scale_events: 2,
    scale_ups: 1,
    scale_downs: 1,
    largest_step: 2,
    largest_step_up: 2,
    largest_step_down: 1,
    peak_dynos: 3,
  };

  it("gives the dyno-minutes and shortfall worked out by hand", async () => {
    const bt = await runBacktest({ ...options(trace, {}), policies: ["seed"] });
    const run = runOf(bt);
    expect(run.metrics).toMatchObject(expected);
    expect(run.metrics.cost_ratio).toBeCloseTo(23 / 14, 12);
    expect(run.metrics.shortfall_percent).toBeCloseTo((100 * 4) / 14, 12);
    expect(run.changes).toEqual([
      { time: 2 * 60_000, quantity: 3 },
      { time: 7 * 60_000, quantity: 2 },
    ]);
    expect([...bt.needed]).toEqual([1, 3, 3, 1, 1, 1, 1, 1, 1, 1]);
    expect(run.settings).toEqual({ blackout: 300, scale_down_step: 1, hysteresis_period: { per: 0 } });
    expect(run.warnings.count).toBe(0);
  });

  it("ticking at the engine's own 5 s interval gives the same decisions here", async () => {
    const bt = await runBacktest({ ...options(trace, { interval: 5 }), tickSeconds: 5, policies: ["seed"] });
    expect(bt.model.tickMs).toBe(5000);
    expect(runOf(bt).ticks).toBe(9 * 12);
    expect(runOf(bt).metrics).toMatchObject(expected);
  });

  it("without boot time only the minute before the reading is short", async () => {
    const bt = await runBacktest({ ...options(trace, {}), bootSeconds: 0, policies: ["seed"] });
    expect(runOf(bt).metrics).toMatchObject({
      shortfall_dyno_minutes: 2,
      under_provisioned_minutes: 1,
      dyno_minutes: 23,
    });
  });

  it("never polls the plugin and ticks once per minute by default", async () => {
    const { plugin, polls } = perPlugin();
    const bt = await runBacktest({ ...options(trace, {}), plugins: [plugin] });
    expect(polls.count).toBe(0);
    expect(bt.model.tickMs).toBe(60_000);
    expect(runOf(bt).ticks).toBe(9);
    expect(bt.runs.map((r) => r.policy.name)).toEqual(["configured"]);
  });
});

describe("runBacktest: a spike", () => {
  // Need 1 all along (10 per minute) but 10 in minute 5.
  const spike = Array.from({ length: 30 }, (_, i) => (i === 5 ? 100 : 10));

  it("the seed's rule pays for the spike long after it, one dyno every 5 minutes", async () => {
    const bt = await runBacktest({ ...options(spike, {}), policies: ["seed", "follow"] });
    const seed = runOf(bt, "seed");
    const follow = runOf(bt, "follow");
    // Up to 10 at t = 6, down by 1 at t = 11, 16, 21, 26: 6 + 50 + 45 + 40 + 35 + 24.
    expect(seed.metrics).toMatchObject({
      oracle_dyno_minutes: 39,
      dyno_minutes: 200,
      shortfall_dyno_minutes: 9,
      under_provisioned_minutes: 1,
      scale_events: 5,
      largest_step_up: 9,
      largest_step_down: 1,
    });
    // Following the last reading: 10 dynos for one minute (booting), back to 1 at t = 7.
    expect(follow.metrics).toMatchObject({
      oracle_dyno_minutes: 39,
      dyno_minutes: 39,
      serving_dyno_minutes: 30,
      shortfall_dyno_minutes: 9,
      scale_events: 2,
      largest_step_down: 9,
    });
    expect(follow.metrics.cost_ratio).toBe(1);
  });

  it("a blackout that is not a whole minute ends between two minute ends: 5 s ticks see it", async () => {
    const config = { policy: "seed", blackout: 90, scale_down_step: 0, interval: 5 };
    const perMinute = await runBacktest(options(spike, config));
    const perTick = await runBacktest({ ...options(spike, config), tickSeconds: 5 });
    // Down at t = 8 min (first minute end after 6 + 1.5) vs at t = 7.5 min.
    expect(runOf(perMinute).metrics.dyno_minutes).toBe(6 + 20 + 22);
    expect(runOf(perTick).metrics.dyno_minutes).toBe(6 + 15 + 22.5);
  });

  it("hysteresis keeps the spike's dynos for its period", async () => {
    const { plugin } = perPlugin();
    const bt = await runBacktest({
      config: {
        scaler: { policy: "seed", min_dynos: 1, max_dynos: 10, blackout: 0, scale_down_step: 0 },
        plugins: [{ type: "per", per: 10, hysteresis_period: 180 }],
      },
      plugins: [plugin],
      trace: minutes(spike),
      policies: ["configured", "follow"],
    });
    const configured = runOf(bt, "configured");
    const follow = runOf(bt, "follow");
    expect(configured.settings.hysteresis_period).toEqual({ per: 180 });
    expect(follow.settings.hysteresis_period).toEqual({ per: 0 });
    // Read at t = 6, kept through t = 9 (readings of the last 180 s), down at t = 10.
    expect(configured.changes).toEqual([
      { time: 6 * 60_000, quantity: 10 },
      { time: 10 * 60_000, quantity: 1 },
    ]);
  });
});

describe("runBacktest: a flat trace", () => {
  it("starting at min_dynos, only the first reading and the boot are short", async () => {
    const bt = await runBacktest(options(Array(20).fill(25), {}));
    // 1 dyno in minute 0, then 3 (read at t = 1, serving from t = 2).
    expect(runOf(bt).metrics).toMatchObject({
      oracle_dyno_minutes: 60,
      dyno_minutes: 1 + 3 * 19,
      shortfall_dyno_minutes: 4,
      under_provisioned_minutes: 2,
      scale_events: 1,
    });
  });

  it("starting at the need, it matches the oracle exactly", async () => {
    const bt = await runBacktest({
      ...options(Array(20).fill(25), { min_dynos: 3 }),
      policies: ["seed", "configured", "follow"],
    });
    for (const run of bt.runs) {
      expect(run.metrics).toMatchObject({
        dyno_minutes: 60,
        oracle_dyno_minutes: 60,
        cost_ratio: 1,
        shortfall_dyno_minutes: 0,
        shortfall_percent: 0,
        under_provisioned_minutes: 0,
        scale_events: 0,
      });
    }
  });

  it("clamps the oracle to [min, max] as the engine does", async () => {
    const bt = await runBacktest(options([0, 500, 500], {}));
    expect([...bt.needed]).toEqual([1, 10, 10]);
  });

  it("with neededWithinBounds: false, the oracle is the plugins' estimate: a lower max_dynos falls shorter, not needs less", async () => {
    const load = [0, ...Array(9).fill(500)];
    const unbounded = await runBacktest(options(load, { min_dynos: 2 }, { neededWithinBounds: false }));
    // 0 → 0 dynos (below min_dynos), 500 → 50 (above max_dynos).
    expect([...unbounded.needed]).toEqual([0, ...Array(9).fill(50)]);
    expect(runOf(unbounded).metrics.oracle_dyno_minutes).toBe(450);

    const shortfall = async (max: number, neededWithinBounds?: boolean) =>
      runOf(await runBacktest(options(load, { max_dynos: max }, { neededWithinBounds, policies: ["follow"] }))).metrics
        .shortfall_percent;
    // Against the same demand, 3 dynos at most serve less of it than 10 at most.
    expect(await shortfall(3, false)).toBeGreaterThan(await shortfall(10, false));
    // Within each config's own bounds (the default), the cap shrinks the demand too.
    expect(await shortfall(3)).toBeLessThan(await shortfall(10));
  });
});

describe("runBacktest: ISO-time traces", () => {
  it("replays 5-minute samples: each is read at its period's end, the clock at the trace's time", async () => {
    const times = [0, 5, 10, 15, 20, 25].map((m) => new Date(Date.UTC(2014, 3, 10, 0, m)).toISOString());
    const values = [10, 30, 5, 5, 5, 5];
    const trace = parseTrace(`time,value\n${times.map((t, i) => `${t},${values[i]}`).join("\n")}\n`, "iso.csv");
    const { plugin } = perPlugin();
    const bt = await runBacktest({
      config: { scaler: { min_dynos: 1, max_dynos: 10 }, plugins: [{ type: "per", per: 10 }] },
      plugins: [plugin],
      trace,
      policies: ["seed"],
    });
    expect(bt.model.clockStart).toBe(Date.UTC(2014, 3, 10));
    expect(bt.model.tickMs).toBe(60_000);
    const run = runOf(bt);
    // Up to 3 at 10 min (serving from 11), down to 2 at 15 (blackout over), to 1 at 20.
    expect(run.changes.map((c) => [c.time / 60_000, c.quantity])).toEqual([
      [10, 3],
      [15, 2],
      [20, 1],
    ]);
    // Formation: 10×1 + 5×3 + 5×2 + 10×1; oracle (1+3+1+1+1+1)×5; short (3-1)×5 in [5, 10).
    expect(run.metrics).toMatchObject({
      minutes: 30,
      dyno_minutes: 45,
      oracle_dyno_minutes: 40,
      shortfall_dyno_minutes: 10,
      under_provisioned_minutes: 5,
    });
  });
});

describe("runBacktest: sources", () => {
  function three() {
    const { plugin } = perPlugin();
    return {
      scaler: { min_dynos: 1, max_dynos: 20 },
      plugins: [
        { type: "per", name: "a", per: 10 },
        { type: "per", name: "b", per: 5 },
        { type: "per", name: "c", per: 1 },
      ],
      plugin,
    };
  }

  it("feeds columns named after sources, takes the largest estimate and leaves the others out", async () => {
    const { plugin, ...config } = three();
    const trace = parseTrace("minute,a,b\n0,10,10\n1,50,5\n", "two.csv");
    const bt = await runBacktest({ config, plugins: [plugin], trace });
    expect(bt.feeds.map((f) => [f.source, f.column, f.unit])).toEqual([
      ["a", "a", "req/min"],
      ["b", "b", "req/min"],
    ]);
    expect(bt.ignored).toEqual(["c"]);
    expect([...bt.needed]).toEqual([2, 5]);
    expect(Object.keys(runOf(bt).settings.hysteresis_period)).toEqual(["a", "b"]);
  });

  it("feeds the value column to --source, else to the first source", async () => {
    const { plugin, ...config } = three();
    const trace = minutes([10, 20]);
    const first = await runBacktest({ config, plugins: [plugin], trace });
    expect(first.feeds.map((f) => f.source)).toEqual(["a"]);
    expect(first.ignored).toEqual(["b", "c"]);
    const chosen = await runBacktest({ config, plugins: [plugin], trace, source: "b" });
    expect(chosen.feeds.map((f) => f.source)).toEqual(["b"]);
    expect([...chosen.needed]).toEqual([2, 4]);
  });

  it("rejects an unknown --source, a column naming no source, and a source fed twice", async () => {
    const { plugin, ...config } = three();
    await expect(runBacktest({ config, plugins: [plugin], trace: minutes([1]), source: "bb" })).rejects.toMatchObject({
      code: "DYNO_USAGE",
      exitCode: 2,
      message: '--source bb: the config has no source of that name (did you mean "b"?)',
    });
    await expect(
      runBacktest({ config, plugins: [plugin], trace: parseTrace("minute,xyz\n0,1\n", "x.csv") }),
    ).rejects.toMatchObject({ code: "DYNO_TRACE_INVALID", message: 'x.csv: column "xyz" names no source' });
    await expect(
      runBacktest({ config, plugins: [plugin], trace: parseTrace("minute,value,a\n0,1,2\n", "x.csv") }),
    ).rejects.toMatchObject({ message: 'x.csv: source a is fed twice (by column "value" and by column "a")' });
    await expect(
      runBacktest({ config, plugins: [plugin], trace: parseTrace("minute,a\n0,1\n", "x.csv"), source: "b" }),
    ).rejects.toMatchObject({ message: "--source b: x.csv has no `value` column to feed it" });
  });

  it("rejects an unknown policy and a tick or boot time out of range", async () => {
    await expect(runBacktest({ ...options([1], {}), policies: ["seeds"] })).rejects.toMatchObject({
      code: "DYNO_USAGE",
      message: 'unknown policy "seeds" (did you mean "seed"?)',
    });
    await expect(runBacktest({ ...options([1], {}), tickSeconds: 0 })).rejects.toMatchObject({ code: "DYNO_USAGE" });
    await expect(runBacktest({ ...options([1], {}), bootSeconds: -1 })).rejects.toMatchObject({ code: "DYNO_USAGE" });
    await expect(runBacktest({ ...options(Array(43_200).fill(1), {}), tickSeconds: 0.001 })).rejects.toMatchObject({
      code: "DYNO_USAGE",
      hint: expect.stringContaining("--tick-seconds"),
    });
  });

  it("needs no Heroku credentials: dry_run is forced", async () => {
    const { plugin } = perPlugin();
    const bt = await runBacktest({
      config: { scaler: { dry_run: false, min_dynos: 1, max_dynos: 3 }, plugins: [{ type: "per" }] },
      plugins: [plugin],
      trace: minutes([1, 2]),
    });
    expect(bt.runs).toHaveLength(1);
  });
});

describe("runBacktest: plugins", () => {
  it("says a plugin that fails to start failed in the simulation, keeping its code and exit code", async () => {
    const broken = definePlugin({
      type: "broken",
      unit: "u",
      options: z.object({}),
      create: () => {
        throw new Error("the key does not parse");
      },
    });
    const error = await runBacktest({
      config: { scaler: {}, plugins: [{ type: "broken" }] },
      plugins: [broken],
      trace: minutes([1]),
    }).catch((e) => e);
    expect(error).toBeInstanceOf(DynosaurError);
    expect(error).toMatchObject({
      code: "DYNO_PLUGIN_FAILED",
      exitCode: 1,
      message: 'simulation: plugins[0]: plugin "broken" failed to start: the key does not parse',
    });
    expect(error.hint).toContain("no network");

    const invalid = definePlugin({
      type: "invalid",
      unit: "u",
      options: z.object({}),
      create: () => {
        throw inputError("DYNO_CONFIG_INVALID", "property_id: expected digits", {
          path: "property_id",
          hint: "copy it from the GA admin",
        });
      },
    });
    const bad = await runBacktest({
      config: { scaler: {}, plugins: [{ type: "invalid" }] },
      plugins: [invalid],
      trace: minutes([1]),
    }).catch((e) => e);
    expect(bad).toMatchObject({
      code: "DYNO_CONFIG_INVALID",
      exitCode: 2,
      path: "plugins[0].property_id",
      hint: "copy it from the GA admin",
    });
    expect(bad.message).toMatch(/^simulation: plugins\[0\]\.property_id: /);
  });

  it("gives plugins an HTTP dispatcher that refuses every request", async () => {
    let refused: unknown;
    const online = definePlugin({
      type: "online",
      unit: "u",
      options: z.object({}),
      create: async (_options, ctx) => {
        refused = await request("http://127.0.0.1:9/token?key=secret-value", { dispatcher: ctx.http }).catch((e) => e);
        return { retrieve: async () => 0, estimateDynos: (v) => v };
      },
    });
    await runBacktest({
      config: { scaler: {}, plugins: [{ type: "online" }] },
      plugins: [online],
      trace: minutes([1]),
    });
    expect(refused).toBeInstanceOf(DynosaurError);
    expect((refused as DynosaurError).code).toBe("DYNO_SIMULATION_OFFLINE");
    expect((refused as DynosaurError).message).toBe(
      "a simulation makes no network calls, but a plugin asked for http://127.0.0.1:9",
    );
    expect((refused as DynosaurError).message).not.toContain("secret-value");
  });

  it("reports an estimateDynos that returns garbage for a trace row", async () => {
    const nan = definePlugin({
      type: "nan",
      unit: "u",
      options: z.object({}),
      create: () => ({ retrieve: async () => 0, estimateDynos: (v) => (v > 5 ? Number.NaN : 1) }),
    });
    await expect(
      runBacktest({ config: { scaler: {}, plugins: [{ type: "nan" }] }, plugins: [nan], trace: minutes([1, 9]) }),
    ).rejects.toMatchObject({
      code: "DYNO_PLUGIN_FAILED",
      message: "simulation: source nan turned row 2 of t.csv (9 u) into NaN dynos",
    });
  });

  it("counts what the engine warns about during a replay", async () => {
    // An estimate over 100x max_dynos is ignored by the engine as a bad reading.
    const bt = await runBacktest(options([10, 100_000, 10], { max_dynos: 2 }));
    expect(runOf(bt).warnings.count).toBe(1);
    expect(runOf(bt).warnings.first[0]).toContain("taken for a bad reading");
  });
});
