import { HerokuError } from "@dynosaur/host";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ManualClock } from "../src/clock.js";
import type { FormationApi, FormationState } from "../src/formation/simulated.js";
import { memoryLogger } from "../src/logger.js";
import { definePlugin } from "../src/plugin.js";
import type { Problem, TickReport } from "../src/report.js";
import { createRuntime } from "../src/runtime.js";

/**
 * A formation of several process types that records every batch it is sent. Like Heroku, a
 * batch is all or nothing: one update above its type's plan limit refuses the whole batch
 * with a 422, and nothing changes.
 */
class RecordingFormation implements FormationApi {
  readonly quantities: Map<string, number>;
  readonly updatedAt = new Map<string, number | null>();
  /** Every update call, as sent. */
  readonly batches: Array<Array<{ type: string; quantity: number }>> = [];
  /** Per type: the most dynos the plan allows. */
  readonly limits = new Map<string, number>();
  /** Whether a refusal names the limit (Heroku's message does; the client parses it into `limit`). */
  namesLimit = true;

  constructor(initial: Record<string, number>) {
    this.quantities = new Map(Object.entries(initial));
  }

  async list(): Promise<FormationState[]> {
    return [...this.quantities].map(([type, quantity]) => ({
      type,
      quantity,
      updatedAt: this.updatedAt.get(type) ?? null,
    }));
  }

  async update(updates: ReadonlyArray<{ type: string; quantity: number }>): Promise<FormationState[]> {
    this.batches.push(updates.map((u) => ({ ...u })));
    for (const u of updates) {
      const limit = this.limits.get(u.type);
      if (limit !== undefined && u.quantity > limit) {
        throw new HerokuError(
          "HEROKU_UNPROCESSABLE",
          this.namesLimit ? `Cannot update to more than ${limit} ${u.type} dynos per process type.` : "Refused.",
          { status: 422, ...(this.namesLimit ? { limit } : {}) },
        );
      }
    }
    return updates.map((u) => {
      this.quantities.set(u.type, u.quantity);
      return { type: u.type, quantity: u.quantity, updatedAt: 0 };
    });
  }
}

/** A job queue a test fills and drains: `jobs` waiting, `running` being worked on. */
function queuePlugin() {
  const queues = new Map<string, { jobs: number; running: number } | Error>();
  const plugin = definePlugin({
    type: "queue",
    unit: "jobs",
    options: z.object({ jobs_per_dyno: z.number().positive().default(10) }),
    create(options) {
      return {
        async retrieve() {
          const q = queues.get(options.name) ?? { jobs: 0, running: 0 };
          if (q instanceof Error) throw q;
          return { value: q.jobs, busy: q.running };
        },
        estimateDynos: (value) => Math.ceil(value / options.jobs_per_dyno),
      };
    },
  });
  return Object.assign(plugin, {
    set: (name: string, jobs: number, running = 0) => queues.set(name, { jobs, running }),
    fail: (name: string, error: Error) => queues.set(name, error),
  });
}

/** Web traffic a test sets: `per` requests per dyno. */
function trafficPlugin() {
  let value = 0;
  const plugin = definePlugin({
    type: "traffic",
    unit: "requests",
    options: z.object({ per: z.number().positive().default(100) }),
    create: (options) => ({ retrieve: async () => value, estimateDynos: (v) => Math.ceil(v / options.per) }),
  });
  return Object.assign(plugin, { set: (v: number) => (value = v) });
}

const START = Date.UTC(2026, 2, 2, 12, 0, 0); // Monday 2 March 2026, 12:00 UTC

async function setup(
  opts: {
    processes?: Record<string, unknown>;
    quantities?: Record<string, number>;
    scaler?: Record<string, unknown>;
  } = {},
) {
  const clock = new ManualClock(START);
  const queue = queuePlugin();
  const traffic = trafficPlugin();
  const formation = new RecordingFormation(opts.quantities ?? { web: 1, worker: 0 });
  const logger = memoryLogger();
  const problems: Problem[] = [];
  const cleared: string[] = [];
  const ticks: TickReport[][] = [];
  const runtime = await createRuntime(
    {
      scaler: {
        heroku_app_name: "shop",
        heroku_api_key: "test-key-123456",
        interval: 5,
        blackout: 60,
        heroku_poll_interval: 60,
        scale_down_step: 0,
        ...opts.scaler,
      },
      processes: opts.processes ?? {
        web: { min_dynos: 1, max_dynos: 10 },
        worker: { min_dynos: 0, max_dynos: 8, hold_while_busy: true },
      },
      plugins: [
        { name: "site", type: "traffic", interval: 5 },
        { name: "jobs", type: "queue", process: "worker", interval: 5, outage_after: 10 },
      ],
    },
    {
      plugins: [queue, traffic],
      clock,
      logger,
      formation: () => formation,
      alerts: { raise: (p) => problems.push(p), clear: (key) => cleared.push(key) },
      onTick: (r) => ticks.push([...r]),
    },
  );
  const byType = (reports: readonly TickReport[]) => Object.fromEntries(reports.map((r) => [r.processType, r]));
  /** Advances the clock by `seconds`, then ticks; the reports by process type. */
  const tickAfter = async (seconds: number) => {
    clock.advance(seconds * 1000);
    return byType(await runtime.tick());
  };
  return { clock, queue, traffic, formation, logger, problems, cleared, ticks, runtime, tickAfter };
}

describe("several process types", () => {
  it("sends every process type's change of a tick to Heroku in one batch", async () => {
    const { traffic, queue, formation, tickAfter, runtime } = await setup();
    traffic.set(450);
    queue.set("jobs", 35);
    const r = await tickAfter(0);
    expect(formation.batches).toEqual([
      [
        { type: "web", quantity: 5 },
        { type: "worker", quantity: 4 },
      ],
    ]);
    expect(r.web).toMatchObject({ before: 1, after: 5, estimate: 5, winner: "site", reason: "scale up" });
    expect(r.worker).toMatchObject({ before: 0, after: 4, estimate: 4, winner: "jobs", reason: "scale up" });
    // Each report carries its own sources and its own events.
    expect(r.web?.sources.map((s) => s.name)).toEqual(["site"]);
    expect(r.worker?.sources.map((s) => s.name)).toEqual(["jobs"]);
    expect(r.worker?.events).toEqual([
      expect.objectContaining({ kind: "scale", processType: "worker", fields: { from: 0, to: 4 } }),
    ]);
    expect(r.web?.events).toEqual([
      expect.objectContaining({ kind: "scale", processType: "web", fields: { from: 1, to: 5 } }),
    ]);
    await runtime.stop();
  });

  it("asks nothing of Heroku for a type whose decision is unchanged", async () => {
    const { traffic, queue, formation, tickAfter, runtime } = await setup();
    traffic.set(100);
    queue.set("jobs", 12);
    await tickAfter(0);
    expect(formation.batches).toEqual([[{ type: "worker", quantity: 2 }]]);
    await runtime.stop();
  });

  it("when Heroku refuses the batch for one type's limit, refuses that type and applies the other at the next tick: one PATCH per tick", async () => {
    const { traffic, queue, formation, tickAfter, problems, runtime } = await setup();
    formation.limits.set("worker", 3);
    traffic.set(300);
    queue.set("jobs", 60);
    const r = await tickAfter(0);
    expect(formation.batches).toEqual([
      [
        { type: "web", quantity: 3 },
        { type: "worker", quantity: 6 },
      ],
    ]);
    expect(formation.quantities.get("web")).toBe(1);
    expect(formation.quantities.get("worker")).toBe(0);
    expect(r.web).toMatchObject({ before: 1, after: 1 });
    expect(r.web?.reason).toMatch(/^scale up; not applied/);
    expect(r.worker).toMatchObject({ before: 0, after: 0 });
    expect(r.worker?.reason).toMatch(/not applied \(HEROKU_UNPROCESSABLE\)/);
    expect(r.worker?.events.map((e) => e.kind)).toEqual(["heroku-refused"]);
    expect(problems.map((p) => p.kind)).toContain("heroku-refused");

    // The refusal is remembered for worker only: next tick asks for less, and web goes with it.
    queue.set("jobs", 25);
    traffic.set(500);
    const next = await tickAfter(5);
    expect(formation.batches.slice(1)).toEqual([
      [
        { type: "web", quantity: 5 },
        { type: "worker", quantity: 3 },
      ],
    ]);
    expect(next.worker).toMatchObject({ before: 0, after: 3 });
    await runtime.stop();
  });

  it("when Heroku refuses the batch without naming a limit, tries each type alone, one per tick", async () => {
    const { traffic, queue, formation, tickAfter, runtime } = await setup();
    formation.limits.set("worker", 3);
    formation.namesLimit = false;
    traffic.set(300);
    queue.set("jobs", 60);
    await tickAfter(0);
    await tickAfter(5);
    await tickAfter(5);
    expect(formation.batches).toEqual([
      [
        { type: "web", quantity: 3 },
        { type: "worker", quantity: 6 },
      ],
      [{ type: "web", quantity: 3 }],
      [{ type: "worker", quantity: 6 }],
    ]);
    expect(formation.quantities.get("web")).toBe(3);
    // worker's 6 is refused now; the next tick asks for less, in a batch again.
    const last = await tickAfter(5);
    expect(formation.batches.slice(3)).toEqual([[{ type: "worker", quantity: 5 }]]);
    expect(last.worker).toMatchObject({ before: 0, after: 0 });
    await runtime.stop();
  });

  it("hold_while_busy: no scale-down while the type's sources report running jobs", async () => {
    const { queue, formation, tickAfter, runtime } = await setup({ quantities: { web: 1, worker: 4 } });
    queue.set("jobs", 0, 3);
    // Long past any blackout: only the running jobs hold the workers.
    let r = await tickAfter(0);
    expect(r.worker).toMatchObject({
      before: 4,
      after: 4,
      estimate: 0,
      reason: "holding: 3 job(s) running (hold_while_busy)",
    });
    r = await tickAfter(600);
    expect(r.worker?.after).toBe(4);
    expect(formation.batches).toEqual([]);
    // Jobs done: idle from now, so down to zero only after the blackout (60 s) of idleness.
    queue.set("jobs", 0, 0);
    r = await tickAfter(5);
    expect(r.worker).toMatchObject({ after: 4, reason: "idle 0 s of 60 s before scaling to zero" });
    r = await tickAfter(55);
    expect(r.worker?.after).toBe(4);
    r = await tickAfter(5);
    expect(r.worker).toMatchObject({ before: 4, after: 0, reason: "scale down" });
    expect(formation.batches).toEqual([[{ type: "worker", quantity: 0 }]]);
    await runtime.stop();
  });

  it("without hold_while_busy, running jobs do not hold a scale-down", async () => {
    const { queue, formation, tickAfter, runtime } = await setup({
      quantities: { web: 1, worker: 4 },
      processes: { web: {}, worker: { min_dynos: 1, max_dynos: 8 } },
    });
    queue.set("jobs", 0, 3);
    const r = await tickAfter(0);
    expect(r.worker).toMatchObject({ before: 4, after: 1, reason: "scale down" });
    expect(formation.batches).toEqual([[{ type: "worker", quantity: 1 }]]);
    await runtime.stop();
  });

  it("wakes a type at zero on the first waiting job, blackout or not", async () => {
    const { queue, formation, tickAfter, runtime, clock } = await setup({ quantities: { web: 1, worker: 0 } });
    // Heroku changed worker a second ago: a scale-down would wait out the blackout, a wake-up does not.
    formation.updatedAt.set("worker", clock.now() - 1000);
    let r = await tickAfter(0);
    expect(r.worker).toMatchObject({ before: 0, after: 0, estimate: 0, reason: "steady" });
    queue.set("jobs", 1);
    r = await tickAfter(5);
    expect(r.worker).toMatchObject({ before: 0, after: 1, reason: "scale up" });
    expect(formation.batches).toEqual([[{ type: "worker", quantity: 1 }]]);
    await runtime.stop();
  });

  it("goes back to zero only once the queue has been empty and idle for the blackout; a job on the way restarts the wait", async () => {
    const { queue, formation, tickAfter, runtime } = await setup({ quantities: { web: 1, worker: 0 } });
    queue.set("jobs", 5);
    await tickAfter(0); // 0 → 1
    queue.set("jobs", 0);
    let r = await tickAfter(60); // blackout since the scale-up over, but idle only now
    expect(r.worker).toMatchObject({ after: 1, reason: "idle 0 s of 60 s before scaling to zero" });
    r = await tickAfter(30);
    expect(r.worker?.reason).toBe("idle 30 s of 60 s before scaling to zero");
    queue.set("jobs", 0, 1); // a job picked up: not idle
    r = await tickAfter(5);
    expect(r.worker?.reason).toBe("holding: 1 job(s) running (hold_while_busy)");
    queue.set("jobs", 0, 0);
    r = await tickAfter(5);
    expect(r.worker?.reason).toBe("idle 0 s of 60 s before scaling to zero");
    r = await tickAfter(55);
    expect(r.worker?.after).toBe(1);
    r = await tickAfter(5);
    expect(r.worker).toMatchObject({ before: 1, after: 0, reason: "scale down" });
    expect(formation.batches).toEqual([[{ type: "worker", quantity: 1 }], [{ type: "worker", quantity: 0 }]]);
    await runtime.stop();
  });

  it("a schedule window raises web's minimum at its start time, in scaler.timezone", async () => {
    const { traffic, formation, tickAfter, runtime, clock } = await setup({
      scaler: { timezone: "Europe/Helsinki" },
      processes: {
        web: {
          min_dynos: 1,
          max_dynos: 10,
          schedule: [{ days: ["mon", "tue", "wed", "thu", "fri"], from: "15:00", to: "17:00", min_dynos: 4 }],
        },
        worker: { min_dynos: 0, max_dynos: 8 },
      },
    });
    traffic.set(50);
    // 12:00 UTC is 14:00 in Helsinki (EET, UTC+2): outside the window.
    let r = await tickAfter(0);
    expect(r.web).toMatchObject({ before: 1, after: 1 });
    expect(runtime.status().processes[0]).toMatchObject({ processType: "web", minDynos: 1, maxDynos: 10 });
    clock.set(Date.UTC(2026, 2, 2, 12, 59, 55));
    r = await tickAfter(0);
    expect(r.web?.after).toBe(1);
    r = await tickAfter(5); // 15:00 Helsinki
    expect(r.web).toMatchObject({ before: 1, after: 4, reason: "below min_dynos (4)" });
    expect(runtime.status().processes[0]).toMatchObject({ processType: "web", current: 4, minDynos: 4, maxDynos: 10 });
    expect(formation.batches).toEqual([[{ type: "web", quantity: 4 }]]);
    // At 17:00 the window ends; down again after the blackout, by the plain rules.
    clock.set(Date.UTC(2026, 2, 2, 15, 0, 0));
    r = await tickAfter(0);
    expect(r.web).toMatchObject({ before: 4, after: 1, reason: "scale down" });
    await runtime.stop();
  });

  it("status() shows the estimates the last tick decided on (the policy's), none before the first tick", async () => {
    // hysteresis: a source asks for its largest of the last 5 readings, not its newest.
    const { traffic, tickAfter, runtime } = await setup({ scaler: { policy: "hysteresis" } });
    traffic.set(400);
    expect(runtime.status()).toMatchObject({ estimate: null, winner: null });
    expect(runtime.status().sources.map((s) => s.estimate)).toEqual([null, null]);
    await tickAfter(0);
    traffic.set(100);
    const r = await tickAfter(5);
    expect(r.web).toMatchObject({ estimate: 4, sources: [{ name: "site", value: 100, estimate: 4 }] });
    const status = runtime.status();
    // The newest reading alone would say 1 dyno: status() says what the decision used.
    expect(status).toMatchObject({ processType: "web", estimate: 4, winner: "site" });
    expect(status.sources.find((s) => s.name === "site")).toMatchObject({ value: 100, estimate: 4 });
    await runtime.stop();
  });

  it("status() and the tick say which process type each figure belongs to", async () => {
    const { traffic, queue, tickAfter, runtime, logger, ticks } = await setup();
    traffic.set(250);
    queue.set("jobs", 15, 2);
    await tickAfter(0);
    const status = runtime.status();
    expect(status).toMatchObject({
      processType: "web",
      current: 3,
      estimate: 3,
      winner: "site",
      minDynos: 1,
      maxDynos: 10,
    });
    expect(status.processes).toEqual([
      expect.objectContaining({
        processType: "web",
        current: 3,
        estimate: 3,
        winner: "site",
        reason: "scale up",
        minDynos: 1,
        maxDynos: 10,
      }),
      expect.objectContaining({
        processType: "worker",
        current: 2,
        estimate: 2,
        winner: "jobs",
        reason: "scale up",
        minDynos: 0,
        maxDynos: 8,
      }),
    ]);
    expect(status.sources.map((s) => [s.name, s.process, s.busy])).toEqual([
      ["site", "web", null],
      ["jobs", "worker", 2],
    ]);
    expect(ticks).toHaveLength(1);
    expect(ticks[0]?.map((r) => r.processType)).toEqual(["web", "worker"]);
    const lines = logger.records.filter((r) => r.fields.event === "tick");
    expect(lines.map((l) => [l.fields.processType, l.message])).toEqual([
      ["web", "web 1→3 estimate 3 (scale up) winner site | site: 250 requests → 3 ok"],
      ["worker", "worker 0→2 estimate 2 (scale up) winner jobs | jobs: 15 jobs → 2 ok"],
    ]);
    await runtime.stop();
  });

  it("alerts about a type whose every source is out, without the other type clearing it each tick", async () => {
    const { traffic, queue, tickAfter, runtime, problems, cleared } = await setup({
      quantities: { web: 1, worker: 2 },
    });
    traffic.set(100);
    queue.set("jobs", 20);
    let r = await tickAfter(0);
    queue.fail("jobs", new Error("Redis is down"));
    // Stale, then in outage after outage_after (10 s).
    while (r.worker?.sources[0]?.health !== "outage") r = await tickAfter(5);
    const raised = problems.length;
    const clearedBefore = cleared.length;
    for (let i = 0; i < 4; i++) r = await tickAfter(5);
    expect(r.worker).toMatchObject({ after: 2, reason: "every source is out: holding" });
    const out = problems.slice(raised - 1).filter((p) => p.kind === "all-sources-out");
    expect(out).toHaveLength(5);
    expect(
      out.every(
        (p) =>
          p.key === "all-sources-out:worker" &&
          p.message === "every source of worker is in outage: holding the worker formation as it is",
      ),
    ).toBe(true);
    // web's healthy reports must not clear worker's problem between two raises (each clear would be a recovery, each raise a new alert).
    expect(cleared.slice(clearedBefore)).not.toContain("all-sources-out:worker");
    queue.set("jobs", 0);
    await tickAfter(5);
    expect(cleared.slice(clearedBefore)).toContain("all-sources-out:worker");
    await runtime.stop();
  });
});
