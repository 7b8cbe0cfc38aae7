import { describe, expect, it } from "vitest";
import { ManualClock } from "../src/clock.js";
import { DynosaurError } from "../src/errors.js";
import type { FormationApi, FormationState } from "../src/formation/simulated.js";
import { memoryLogger } from "../src/logger.js";
import type { Problem, TickReport } from "../src/report.js";
import { createScaler, scriptedPlugin } from "./helpers.js";

/** A formation that records every call, like Heroku would see them. */
class RecordingFormation implements FormationApi {
  state: Omit<FormationState, "type">;
  gets = 0;
  patches: number[] = [];
  failNext: DynosaurError[] = [];
  constructor(quantity: number, updatedAt: number | null = null) {
    this.state = { quantity, updatedAt };
  }
  async list() {
    this.gets++;
    const f = this.failNext.shift();
    if (f) throw f;
    return [{ type: "web", ...this.state }];
  }
  async update(updates: ReadonlyArray<{ type: string; quantity: number }>) {
    const f = this.failNext.shift();
    if (f) throw f;
    const quantity = updates[0]?.quantity ?? 0;
    this.patches.push(quantity);
    this.state = { quantity, updatedAt: 0 };
    return [{ type: "web", ...this.state }];
  }
}

function baseConfig(
  scaler: Record<string, unknown> = {},
  plugins: Record<string, unknown>[] = [{ name: "a", type: "scripted", interval: 5 }],
) {
  return {
    scaler: {
      heroku_app_name: "shop",
      heroku_api_key: "test-key-123456",
      min_dynos: 1,
      max_dynos: 10,
      interval: 5,
      blackout: 60,
      heroku_poll_interval: 60,
      ...scaler,
    },
    plugins,
  };
}

async function setup(
  opts: {
    scaler?: Record<string, unknown>;
    plugins?: Record<string, unknown>[];
    quantity?: number;
    updatedAt?: number | null;
  } = {},
) {
  const clock = new ManualClock(Date.UTC(2026, 10, 28));
  const plugin = scriptedPlugin();
  const formation = new RecordingFormation(opts.quantity ?? 1, opts.updatedAt ?? null);
  const logger = memoryLogger();
  const problems: Problem[] = [];
  const cleared: string[] = [];
  const scaler = await createScaler(baseConfig(opts.scaler, opts.plugins), {
    plugins: [plugin],
    clock,
    logger,
    formation: () => formation,
    alerts: { raise: (p) => problems.push(p), clear: (k) => cleared.push(k) },
  });
  return { clock, plugin, formation, logger, scaler, problems, cleared };
}

describe("scaler tick", () => {
  it("scales up at once to the estimate and reports the winner", async () => {
    const { plugin, scaler, formation } = await setup();
    plugin.script.set("a", [42]);
    const t = await scaler.tick();
    expect(formation.patches).toEqual([5]);
    expect(t).toMatchObject({ before: 1, after: 5, estimate: 5, winner: "a", reason: "scale up" });
    expect(t.sources[0]).toMatchObject({ name: "a", value: 42, estimate: 5, health: "ok", unit: "units" });
  });

  it("patches only when the decision differs from the current quantity", async () => {
    const { plugin, scaler, formation, clock } = await setup({ quantity: 3 });
    plugin.script.set("a", [30]);
    for (let i = 0; i < 5; i++) {
      await scaler.tick();
      clock.advance(5000);
    }
    expect(formation.patches).toEqual([]);
  });

  it("holds a scale-down during the blackout, then steps down one dyno at a time", async () => {
    const { plugin, scaler, formation, clock } = await setup({ scaler: { policy: "seed" } });
    plugin.script.set("a", [60, 10]);
    await scaler.tick(); // 1 → 6
    clock.advance(5000);
    const held = await scaler.tick();
    expect(held.reason).toMatch(/^blackout/);
    expect(formation.patches).toEqual([6]);
    clock.advance(55_000);
    await scaler.tick(); // blackout over: 6 → 5
    expect(formation.patches).toEqual([6, 5]);
    clock.advance(5000);
    expect((await scaler.tick()).reason).toMatch(/^blackout/); // the step restarted the blackout
    clock.advance(60_000);
    await scaler.tick();
    expect(formation.patches).toEqual([6, 5, 4]);
  });

  it("takes the largest estimate of several sources and clamps to max", async () => {
    const { plugin, scaler, formation } = await setup({
      plugins: [
        { name: "ga", type: "scripted" },
        { name: "nr", type: "scripted", per: 100 },
      ],
    });
    plugin.script.set("ga", [50]);
    plugin.script.set("nr", [300]);
    const t = await scaler.tick();
    expect(t).toMatchObject({ estimate: 5, winner: "ga" });
    plugin.script.set("ga", [500]);
    const { scaler: s2, plugin: p2, formation: f2 } = await setup({ plugins: [{ name: "ga", type: "scripted" }] });
    p2.script.set("ga", [500]);
    expect((await s2.tick()).after).toBe(10);
    expect(f2.patches).toEqual([10]);
    expect(formation.patches).toEqual([5]);
  });

  it("never scales down while a source is failing, and keeps its last good reading", async () => {
    const { plugin, scaler, formation, clock, logger } = await setup({
      scaler: { blackout: 0 },
      plugins: [
        { name: "a", type: "scripted", interval: 5 },
        { name: "b", type: "scripted", interval: 5 },
      ],
    });
    plugin.script.set("a", [80]);
    plugin.script.set("b", [10, new Error("API blinked")]);
    await scaler.tick(); // 1 → 8
    plugin.script.set("a", [10]);
    clock.advance(5000);
    const t = await scaler.tick();
    expect(t.sources.find((s) => s.name === "b")).toMatchObject({
      health: "stale",
      value: 10,
      lastError: "API blinked",
    });
    expect(t.after).toBe(8);
    expect(t.reason).toContain("b stale");
    expect(formation.patches).toEqual([8]);
    expect(logger.text()).toContain("reading failed, keeping the last good reading: API blinked");
  });

  it("a slow source never holds up the tick: its last reading stands until the new one lands", async () => {
    const { plugin, scaler, clock } = await setup({
      scaler: { interval: 0.05 },
      plugins: [
        { name: "a", type: "scripted", interval: 5 },
        { name: "slow", type: "scripted", interval: 5 },
      ],
    });
    let release: (v: number) => void = () => {};
    plugin.script.set("a", [30]);
    plugin.script.set("slow", [20, () => new Promise<number>((resolve) => (release = resolve))]);
    await scaler.tick();
    clock.advance(5000);
    plugin.script.set("a", [60]);
    const t = await scaler.tick(); // "slow" is now hanging: the tick waits at most 50 ms for it
    expect(t).toMatchObject({ after: 6, winner: "a" });
    expect(t.sources[1]).toMatchObject({ name: "slow", value: 20, health: "ok" });
    clock.advance(5000);
    await scaler.tick();
    expect(plugin.calls.get("slow")).toBe(2); // still in flight: not started again
    release(90);
    await new Promise((r) => setImmediate(r));
    clock.advance(1000);
    const t3 = await scaler.tick();
    expect(t3).toMatchObject({ after: 9, winner: "slow" });
  });

  it("rejects NaN, negative and absurd readings as failed polls", async () => {
    for (const bad of [Number.NaN, -5, 1e9, "12" as unknown as number]) {
      const { plugin, scaler, formation, logger } = await setup();
      plugin.script.set("a", [bad]);
      const t = await scaler.tick();
      expect(t.sources[0]).toMatchObject({ value: null, health: "stale" });
      expect(formation.patches).toEqual([]);
      expect(logger.text()).toMatch(/DYNO_BAD_READING|reading ignored|bad reading/);
    }
  });

  it("holds and alerts when every source is in outage", async () => {
    const { plugin, scaler, formation, clock, problems, cleared } = await setup({
      quantity: 6,
      scaler: { blackout: 0 },
      plugins: [{ name: "a", type: "scripted", interval: 5, outage_after: 30 }],
    });
    plugin.script.set("a", [new Error("down")]);
    for (let i = 0; i < 8; i++) {
      await scaler.tick();
      clock.advance(5000);
    }
    const t = await scaler.tick();
    expect(t.sources[0]?.health).toBe("outage");
    expect(formation.patches).toEqual([]);
    expect(problems.map((p) => p.kind)).toContain("all-sources-out");
    expect(problems.find((p) => p.kind === "source-outage")?.key).toBe("source-outage:a");
    plugin.script.set("a", [20]);
    clock.advance(5000);
    await scaler.tick();
    expect(cleared).toContain("source-outage:a");
  });

  it("reads a source at most once per its interval however often it ticks", async () => {
    const { plugin, scaler, clock } = await setup({ plugins: [{ name: "a", type: "scripted", interval: 60 }] });
    plugin.script.set("a", [10]);
    for (let i = 0; i < 24; i++) {
      await scaler.tick();
      clock.advance(5000);
    }
    expect(plugin.calls.get("a")).toBe(2); // at 0 s and 60 s of 120 s
  });

  it("drives the estimate by the largest reading of the hysteresis period", async () => {
    const { plugin, scaler, clock } = await setup({
      scaler: { policy: "seed", blackout: 0 },
      plugins: [{ name: "a", type: "scripted", interval: 5, hysteresis_period: 20 }],
    });
    plugin.script.set("a", [90, 10]);
    expect((await scaler.tick()).estimate).toBe(9);
    clock.advance(15_000);
    expect((await scaler.tick()).estimate).toBe(9); // 90 is still within 20 s
    clock.advance(10_000);
    expect((await scaler.tick()).estimate).toBe(1);
  });

  it("notices a manual change, logs it and restarts the blackout", async () => {
    const { plugin, scaler, formation, clock, logger } = await setup({
      scaler: { blackout: 60, heroku_poll_interval: 10 },
    });
    plugin.script.set("a", [20]);
    await scaler.tick(); // 1 → 2
    clock.advance(120_000);
    formation.state = { quantity: 7, updatedAt: clock.now() }; // heroku ps:scale web=7
    const t = await scaler.tick();
    expect(logger.text()).toContain("formation changed outside Dynosaur: 2 → 7");
    expect(t.before).toBe(7);
    expect(t.reason).toMatch(/^blackout/);
    expect(formation.patches).toEqual([2]);
  });

  it("re-reads the formation right before a change and acts on the fresh quantity", async () => {
    const { plugin, scaler, formation, clock } = await setup({ scaler: { heroku_poll_interval: 600 } });
    plugin.script.set("a", [30]);
    await scaler.tick(); // 1 → 3
    formation.state = { quantity: 9, updatedAt: null }; // changed by hand, cache still fresh
    plugin.script.set("a", [50]);
    clock.advance(5000);
    const gets = formation.gets;
    const t = await scaler.tick();
    expect(formation.gets).toBe(gets + 1);
    expect(t.after).toBe(9); // no scale-down to 5 right after a manual change
    expect(formation.patches).toEqual([3]);
  });

  it("counts the blackout from Heroku's updated_at after a restart", async () => {
    const now = Date.UTC(2026, 10, 28);
    const { plugin, scaler, formation } = await setup({ quantity: 8, updatedAt: now - 10_000 });
    plugin.script.set("a", [10]);
    const t = await scaler.tick();
    expect(t.reason).toBe("blackout (50 s left)");
    expect(formation.patches).toEqual([]);
  });

  it("holds when Heroku cannot be read, backs off, and recovers", async () => {
    const { plugin, scaler, formation, clock, problems } = await setup();
    plugin.script.set("a", [50]);
    formation.failNext = [new DynosaurError("HEROKU_UNAVAILABLE", "Heroku answered 503")];
    const t = await scaler.tick();
    expect(t).toMatchObject({ before: null, after: null });
    expect(t.reason).toContain("Heroku unavailable");
    expect(problems.map((p) => p.kind)).toContain("heroku-error");
    clock.advance(1000);
    await scaler.tick(); // inside the back-off: no call
    expect(formation.gets).toBe(1);
    clock.advance(5000);
    expect((await scaler.tick()).after).toBe(5);
  });

  it("stops asking for a quantity Heroku refused (422) and keeps running", async () => {
    const { plugin, scaler, formation, clock, problems } = await setup();
    plugin.script.set("a", [80]);
    formation.failNext = [];
    const original = formation.update.bind(formation);
    formation.update = async (updates) => {
      if ((updates[0]?.quantity ?? 0) >= 6)
        throw new DynosaurError(
          "HEROKU_UNPROCESSABLE",
          "Cannot update to more than 5 Standard-1X size dynos per process type.",
        );
      return original(updates);
    };
    const t = await scaler.tick();
    expect(t.after).toBe(1);
    expect(problems.map((p) => p.kind)).toContain("heroku-refused");
    const asked: number[] = [];
    const update = formation.update;
    formation.update = async (updates) => {
      asked.push(updates[0]?.quantity ?? 0);
      return update(updates);
    };
    for (let i = 0; i < 5; i++) {
      clock.advance(5000);
      await scaler.tick();
    }
    // It walks down below the refused quantity, never asking for a refused one twice.
    expect(asked).toEqual([7, 6, 5]);
    expect(formation.state.quantity).toBe(5);
  });
});

describe("scaler lifecycle and embedding API", () => {
  it("runs ticks every interval on the injected clock and stops cleanly", async () => {
    const clock = new ManualClock();
    const plugin = scriptedPlugin();
    plugin.script.set("a", [10]);
    const ticks: TickReport[] = [];
    let waiter: (() => void) | null = null;
    const nextTick = () => new Promise<void>((resolve) => (waiter = resolve));
    const scaler = await createScaler(baseConfig({ dry_run: true }), {
      plugins: [plugin],
      clock,
      formation: () => new RecordingFormation(1),
      onTick: ([t]) => {
        if (t) ticks.push(t);
        waiter?.();
      },
    });
    let next = nextTick();
    scaler.start();
    await next;
    expect(ticks).toHaveLength(1);
    next = nextTick();
    clock.advance(4999);
    await flush();
    expect(ticks).toHaveLength(1); // not before the interval
    clock.advance(1);
    await next;
    expect(ticks).toHaveLength(2);
    expect(ticks[1]?.time).toBe((ticks[0]?.time ?? Number.NaN) + 5000);
    expect(scaler.status().running).toBe(true);
    await scaler.stop();
    expect(scaler.status().running).toBe(false);
    clock.advance(60_000);
    await flush();
    expect(ticks).toHaveLength(2);
    expect(() => scaler.start()).toThrow(/stopped/);
  });

  it("reports status: quantity, estimate, last change and each source", async () => {
    const { plugin, scaler, clock } = await setup();
    plugin.script.set("a", [42]);
    await scaler.tick();
    const status = scaler.status();
    expect(status).toMatchObject({
      app: "shop",
      processType: "web",
      current: 5,
      estimate: 5,
      winner: "a",
      lastChange: clock.now(),
      dryRun: false,
    });
    expect(status.sources[0]).toMatchObject({
      name: "a",
      value: 42,
      estimate: 5,
      unit: "units",
      health: "ok",
      lastRetrieval: clock.now(),
    });
  });

  it("reconfigures the scaler settings while running, validating them first", async () => {
    const { plugin, scaler, formation, clock } = await setup();
    plugin.script.set("a", [90]);
    await scaler.tick();
    await scaler.reconfigure(baseConfig({ max_dynos: 4 }));
    clock.advance(5000);
    expect((await scaler.tick()).after).toBe(4);
    expect(formation.patches).toEqual([9, 4]);
    await expect(scaler.reconfigure(baseConfig({ min_dynos: 8, max_dynos: 4 }))).rejects.toThrow(/scaler.min_dynos/);
    expect(scaler.config.scaler.max_dynos).toBe(4);
  });

  it("keeps an unchanged source's readings and the blackout across a config change", async () => {
    const { plugin, scaler, formation, clock } = await setup({
      plugins: [{ name: "a", type: "scripted", interval: 60 }],
    });
    plugin.script.set("a", [60, 10]);
    expect((await scaler.tick()).after).toBe(6);
    clock.advance(5000);
    await scaler.reconfigure(baseConfig({ blackout: 120 }, [{ name: "a", type: "scripted", interval: 60 }]));
    // The source was not read again (its interval has not passed), and the blackout still holds.
    const t = await scaler.tick();
    expect(t.sources[0]).toMatchObject({ value: 60, estimate: 6 });
    expect(plugin.calls.get("a")).toBe(1);
    expect(formation.patches).toEqual([6]);
  });

  it("replaces a changed plugin entry and closes the old instance", async () => {
    const { plugin, scaler } = await setup();
    plugin.script.set("a", [10]);
    await scaler.tick();
    await scaler.reconfigure(baseConfig({}, [{ name: "a", type: "scripted", per: 1, interval: 5 }]));
    expect(plugin.closed).toContain("a");
    const t = await scaler.tick();
    expect(t.estimate).toBe(10);
    await expect(scaler.reconfigure(baseConfig({}, [{ name: "a", type: "nope" }]))).rejects.toThrow(
      /unknown plugin type "nope"/,
    );
  });

  it("runs a dry run without touching the formation API", async () => {
    const clock = new ManualClock();
    const plugin = scriptedPlugin();
    plugin.script.set("a", [33]);
    let built = 0;
    const scaler = await createScaler(
      { scaler: { dry_run: true, min_dynos: 2 }, plugins: [{ name: "a", type: "scripted" }] },
      {
        plugins: [plugin],
        clock,
        formation: () => {
          built++;
          throw new Error("must not be built");
        },
      },
    );
    const t = await scaler.tick();
    expect(t).toMatchObject({ before: 2, after: 4, dryRun: true });
    expect(built).toBe(0);
  });

  it("rejects bad plugin options before the first tick, naming the path", async () => {
    const plugin = scriptedPlugin();
    await expect(
      createScaler(
        { scaler: { dry_run: true }, plugins: [{ type: "scripted" }, { name: "b", type: "scripted", pre: 3 }] },
        {
          plugins: [plugin],
          formation: () => {
            throw new Error();
          },
        },
      ),
    ).rejects.toThrow(/plugins\[1\]: unknown key "pre" \(did you mean "per"\?\)/);
    await expect(
      createScaler(
        { scaler: { dry_run: true }, plugins: [{ type: "scripted", per: -1 }] },
        {
          plugins: [plugin],
          formation: () => {
            throw new Error();
          },
        },
      ),
    ).rejects.toThrow(/plugins\[0\]\.per/);
  });
});

/** Lets pending promise callbacks run (no wall-clock wait). */
async function flush() {
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await new Promise((r) => setImmediate(r));
}
