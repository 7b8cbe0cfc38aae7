import { testPlugin } from "@dynosaur/core/testing";
import { Logger, makeWorkerUtils, type Runner, run, type WorkerUtils } from "graphile-worker";
import { afterAll, assert, beforeAll, describe, expect, it } from "vitest";
import { graphileWorkerPlugin as plugin } from "../src/index.js";
import { expectAge, read, until, useDatabase } from "./helpers.js";

/*
 * graphile-worker 0.18 (the devDependency) runs its own migrations and enqueues through its
 * own API (WorkerUtils.addJob); a real runner locks a job while its task runs and reschedules
 * a failed one. Time passing is simulated by moving run_at back, never by waiting.
 */
const db = useDatabase("graphile_worker");
const quiet = new Logger(() => () => {});
let utils: WorkerUtils;
let runner: Runner | undefined;
let release: () => void = () => {};

/** Makes a job look `seconds` older, as if that much time had passed. */
async function age(id: string, seconds: number) {
  await db.sql.query(
    "UPDATE graphile_worker._private_jobs SET run_at = run_at - make_interval(secs => $2), created_at = created_at - make_interval(secs => $2) WHERE id = $1",
    [id, seconds],
  );
}

const count = async (where: string) =>
  (await db.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE ${where}`)).rows[0]?.n;

beforeAll(async () => {
  utils = await makeWorkerUtils({ connectionString: db.url, logger: quiet });
  await utils.migrate();
  await age((await utils.addJob("report", { n: 1 }, { queueName: "default" })).id, 90); // waiting 90 s
  await utils.addJob("report", { n: 2 }, { queueName: "default" }); // waiting
  await utils.addJob("report", { n: 3 }, { queueName: "default", runAt: new Date(Date.now() + 3_600_000) }); // in an hour: not yet
  await age((await utils.addJob("report", { n: 4 }, { queueName: "mailers" })).id, 200); // waiting 200 s in another queue

  // A real worker: `flaky` fails once (rescheduled with backoff), then `slow` runs until released.
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  await utils.addJob("flaky", {});
  await utils.addJob("slow", {}, { queueName: "work" });
  runner = await run({
    connectionString: db.url,
    concurrency: 1,
    noHandleSignals: true,
    pollInterval: 50,
    logger: quiet,
    taskList: {
      flaky: async () => {
        throw new Error("boom");
      },
      slow: () => gate,
    },
  });
  await until(
    async () =>
      (await count("task_identifier = 'flaky' AND attempts = 1 AND locked_at IS NULL")) === 1 &&
      (await count("locked_at IS NOT NULL")) === 1,
    "flaky failed once and slow is running",
  );
}, 60_000);

afterAll(async () => {
  release();
  await runner?.stop();
  await utils?.release();
});

describe("graphile-worker readings", () => {
  it("depth: unlocked jobs with attempts left whose run_at has come; busy: locked jobs", async () => {
    // The failed `flaky` is rescheduled a few seconds ahead: not waiting yet.
    expect(await read(plugin, { url: db.url, jobs_per_dyno: 2 })).toEqual({ value: 3, busy: 1 });
    expect(await read(plugin, { url: db.url, jobs_per_dyno: 2, queues: ["default"] })).toEqual({ value: 2, busy: 0 });
    expect(await read(plugin, { url: db.url, jobs_per_dyno: 2, queues: ["work"] })).toEqual({ value: 0, busy: 1 });
  });

  it("a retry whose run_at has come waits again", async () => {
    const { rows } = await db.sql.query<{ id: string }>(
      "SELECT id FROM graphile_worker.jobs WHERE task_identifier = 'flaky'",
    );
    const [flaky] = rows;
    assert(flaky, "the flaky job is still in the queue");
    await age(flaky.id, 60);
    expect(await read(plugin, { url: db.url, jobs_per_dyno: 2 })).toEqual({ value: 4, busy: 1 });
  });

  it("latency: seconds since the oldest waiting job's run_at", async () => {
    const all = await read(plugin, { url: db.url, metric: "latency", latency_target: 60 });
    expectAge(all.value, 200);
    expect(all.busy).toBe(1);
    expectAge(
      (await read(plugin, { url: db.url, metric: "latency", latency_target: 60, queues: ["default"] })).value,
      90,
    );
  });

  it("an empty queue reads 0, a real reading", async () => {
    expect(await read(plugin, { url: db.url, jobs_per_dyno: 2, queues: ["nothing-here"] })).toEqual({
      value: 0,
      busy: 0,
    });
    expect(
      await read(plugin, { url: db.url, metric: "latency", latency_target: 60, queues: ["nothing-here"] }),
    ).toEqual({ value: 0, busy: 0 });
  });
});

testPlugin(
  plugin,
  {
    validOptions: { metric: "latency", latency_target: 10 },
    invalidOptions: [
      { options: { url: undefined }, path: "url" },
      { options: { metric: "latency", latency_target: undefined }, path: "latency_target" },
      { options: { schema: 5 }, path: "schema" },
    ],
    setup: () => ({ options: { url: db.url } }),
  },
  { describe, it },
);
