import { testPlugin } from "@dynosaur/core/testing";
import { PgBoss } from "pg-boss";
import { afterAll, assert, beforeAll, describe, expect, it } from "vitest";
import { pgBossPlugin as plugin } from "../src/index.js";
import { expectAge, expectFailure, instance, read, useDatabase } from "./helpers.js";

/*
 * pg-boss 12 (the devDependency, 12.38 when written) creates its own schema and enqueues
 * through its own API: send, fetch (-> active), fail (-> retry). Time passing is simulated by
 * moving a job's created_on/start_after back, never by waiting.
 */
const db = useDatabase("pg_boss");
let boss: PgBoss;

/** Makes a job look `seconds` older, as if that much time had passed since it was sent (`id`: what `send` returned). */
async function age(id: string | null, seconds: number, schema = "pgboss") {
  assert(id, "pg-boss created no job (send returned null)");
  await db.sql.query(
    `UPDATE ${schema}.job SET created_on = created_on - make_interval(secs => $2), start_after = start_after - make_interval(secs => $2) WHERE id = $1`,
    [id, seconds],
  );
}

beforeAll(async () => {
  boss = new PgBoss({ connectionString: db.url, supervise: false, schedule: false });
  boss.on("error", (e) => console.error("pg-boss:", e));
  await boss.start();
  for (const queue of ["default", "mailers", "empty"]) await boss.createQueue(queue, { retryLimit: 3, retryDelay: 0 });

  await age(await boss.send("default", { n: 1 }), 90); // waiting 90 s
  await boss.send("default", { n: 2 }); // waiting, just sent
  await boss.send("default", { n: 3 }, { startAfter: 3600 }); // scheduled in an hour: not yet
  // Two fetched: active. One of them fails with retries left and retryDelay 0: a due retry.
  await boss.send("default", { n: 4 });
  await boss.send("default", { n: 5 });
  await age(await boss.send("mailers", { n: 6 }), 200); // waiting 200 s in another queue
}, 60_000);
afterAll(() => boss?.stop({ graceful: false, close: true }));

describe("pg-boss readings", () => {
  it("depth: created and due retry jobs; busy: active jobs", async () => {
    expect(await read(plugin, { url: db.url, jobs_per_dyno: 2 })).toEqual({ value: 5, busy: 0 });
    // fetch takes the oldest first: n=1 and n=2. Two active now.
    const fetched = await boss.fetch<{ n: number }>("default", { batchSize: 2 });
    expect(fetched.map((j) => j.data.n).sort()).toEqual([1, 2]);
    expect(await read(plugin, { url: db.url, jobs_per_dyno: 2, queues: ["default"] })).toEqual({ value: 2, busy: 2 });
    // One fails with retries left: state retry, start_after now, so it waits again.
    const [failing] = fetched;
    assert(failing, "pg-boss fetched the jobs");
    await boss.fail("default", failing.id);
    const { rows } = await db.sql.query("SELECT state FROM pgboss.job WHERE id = $1", [failing.id]);
    expect(rows[0].state).toBe("retry");
    expect(await read(plugin, { url: db.url, jobs_per_dyno: 2, queues: ["default"] })).toEqual({ value: 3, busy: 1 });
    expect(await read(plugin, { url: db.url, jobs_per_dyno: 2 })).toEqual({ value: 4, busy: 1 });
  });

  it("latency: seconds since the oldest ready job became due", async () => {
    const all = await read(plugin, { url: db.url, metric: "latency", latency_target: 60 });
    expectAge(all.value, 200);
    expectAge(
      (await read(plugin, { url: db.url, metric: "latency", latency_target: 60, queues: ["mailers"] })).value,
      200,
    );
  });

  it("an empty queue reads 0, a real reading", async () => {
    expect(await read(plugin, { url: db.url, jobs_per_dyno: 2, queues: ["empty"] })).toEqual({ value: 0, busy: 0 });
    expect(await read(plugin, { url: db.url, metric: "latency", latency_target: 60, queues: ["empty"] })).toEqual({
      value: 0,
      busy: 0,
    });
  });

  it("reads a pg-boss started with its own schema option", async () => {
    const other = new PgBoss({ connectionString: db.url, schema: "jobs_b", supervise: false, schedule: false });
    other.on("error", () => {});
    await other.start();
    try {
      await other.createQueue("default");
      await age(await other.send("default", {}), 30, "jobs_b");
      expect(await read(plugin, { url: db.url, jobs_per_dyno: 2, schema: "jobs_b" })).toEqual({ value: 1, busy: 0 });
      expectAge(
        (await read(plugin, { url: db.url, metric: "latency", latency_target: 60, schema: "jobs_b" })).value,
        30,
      );
      // The default schema would have read the other instance's jobs: say where it looked.
      const { instance: i } = await instance(plugin, { url: db.url, jobs_per_dyno: 2, schema: "nope" });
      const e = await expectFailure(i.retrieve(new AbortController().signal), /relation "nope.job" does not exist/);
      expect(e.hint).toMatch(/`schema`/);
    } finally {
      await other.stop({ graceful: false, close: true });
    }
  });
});

testPlugin(
  plugin,
  {
    validOptions: { jobs_per_dyno: 10 },
    invalidOptions: [
      { options: { url: undefined }, path: "url" },
      { options: { jobs_per_dyno: undefined }, path: "jobs_per_dyno" },
      { options: { schema: "" }, path: "schema" },
    ],
    setup: () => ({ options: { url: db.url } }),
  },
  { describe, it },
);
