import { testPlugin } from "@dynosaur/core/testing";
import { assert, beforeAll, describe, expect, it } from "vitest";
import { solidQueuePlugin as plugin } from "../src/index.js";
import { expectAge, loadFixture, railsTime, read, useDatabase } from "./helpers.js";

/*
 * Solid Queue 1.x: rows written the way solid_queue 1.1 writes them (app/models/solid_queue/job.rb,
 * job/executable.rb, ready_execution.rb, scheduled_execution.rb, claimed_execution.rb):
 * - enqueue: a solid_queue_jobs row (queue_name, class_name, arguments = the serialized
 *   ActiveJob, priority, active_job_id, scheduled_at), then, when due, a ready execution
 *   (job_id, queue_name, priority copied from the job); when not, a scheduled execution
 *   with scheduled_at; under a concurrency limit, a blocked execution;
 * - the dispatcher moves due scheduled executions to ready ones;
 * - a worker claims: deletes the ready execution, inserts a claimed one with its process_id;
 * - finish: the job's finished_at is set and the claimed execution deleted; failure: a failed
 *   execution replaces the claimed one.
 */
const db = useDatabase("solid_queue");

type State = "ready" | "scheduled" | "claimed" | "finished" | "failed" | "blocked";

async function enqueue(queue: string, state: State, createdAgo: number, scheduledAgo = createdAgo) {
  const { rows } = await db.sql.query<{ id: string }>(
    `INSERT INTO solid_queue_jobs (queue_name, class_name, arguments, priority, active_job_id, scheduled_at, finished_at, created_at, updated_at)
     VALUES ($1::text, 'ReportJob', json_build_object('job_class', 'ReportJob', 'queue_name', $1::text, 'arguments', '[]'::json)::text, 0,
       gen_random_uuid()::text, ${railsTime(scheduledAgo)}, ${state === "finished" ? railsTime(0) : "NULL"}, ${railsTime(createdAgo)}, ${railsTime(createdAgo)})
     RETURNING id`,
    [queue],
  );
  const id = rows[0]?.id;
  assert(id, "the INSERT returned the job's id");
  if (state === "ready") {
    await db.sql.query(
      `INSERT INTO solid_queue_ready_executions (job_id, queue_name, priority, created_at) VALUES ($1, $2, 0, ${railsTime(scheduledAgo)})`,
      [id, queue],
    );
  } else if (state === "scheduled") {
    await db.sql.query(
      `INSERT INTO solid_queue_scheduled_executions (job_id, queue_name, priority, scheduled_at, created_at) VALUES ($1, $2, 0, ${railsTime(scheduledAgo)}, ${railsTime(createdAgo)})`,
      [id, queue],
    );
  } else if (state === "claimed") {
    await db.sql.query(
      `INSERT INTO solid_queue_claimed_executions (job_id, process_id, created_at) VALUES ($1, (SELECT id FROM solid_queue_processes LIMIT 1), ${railsTime(1)})`,
      [id],
    );
  } else if (state === "failed") {
    await db.sql.query(
      `INSERT INTO solid_queue_failed_executions (job_id, error, created_at) VALUES ($1, '{"exception_class":"RuntimeError"}', ${railsTime(0)})`,
      [id],
    );
  } else if (state === "blocked") {
    await db.sql.query(
      `INSERT INTO solid_queue_blocked_executions (job_id, queue_name, priority, concurrency_key, expires_at, created_at) VALUES ($1, $2, 0, 'ReportJob/1', ${railsTime(-180)}, ${railsTime(createdAgo)})`,
      [id, queue],
    );
  }
}

beforeAll(async () => {
  await loadFixture(db.sql, "solid_queue-1.sql");
  await db.sql.query(
    `INSERT INTO solid_queue_processes (kind, last_heartbeat_at, pid, hostname, created_at, name) VALUES ('Worker', ${railsTime(0)}, 4242, 'worker.1', ${railsTime(60)}, 'worker-abc123')`,
  );
  await enqueue("default", "ready", 90); // waiting 90 s
  await enqueue("default", "ready", 10);
  await enqueue("default", "scheduled", 5, -3600); // due in an hour: not yet
  await enqueue("default", "scheduled", 300, 30); // due 30 s ago, not yet dispatched: waiting
  await enqueue("default", "claimed", 20); // running
  await enqueue("mailers", "claimed", 20); // running
  await enqueue("default", "finished", 900);
  await enqueue("default", "failed", 900);
  await enqueue("default", "blocked", 60); // held by a concurrency limit: more dynos would not run it
  await enqueue("mailers", "ready", 200); // waiting 200 s in another queue
});

describe("solid-queue readings", () => {
  it("depth: ready executions and due scheduled ones; busy: claimed executions", async () => {
    expect(await read(plugin, { url: db.url, jobs_per_dyno: 2 })).toEqual({ value: 4, busy: 2 });
    expect(await read(plugin, { url: db.url, jobs_per_dyno: 2, queues: ["default"] })).toEqual({ value: 3, busy: 1 });
    expect(await read(plugin, { url: db.url, jobs_per_dyno: 2, queues: ["mailers"] })).toEqual({ value: 1, busy: 1 });
  });

  it("latency: the oldest ready or due job, read in UTC whatever the server's time zone", async () => {
    const all = await read(plugin, { url: db.url, metric: "latency", latency_target: 60 });
    expectAge(all.value, 200);
    expect(all.busy).toBe(2);
    expectAge(
      (await read(plugin, { url: db.url, metric: "latency", latency_target: 60, queues: ["default"] })).value,
      90,
    );
  });

  it("a due scheduled job alone sets the latency from its scheduled_at", async () => {
    await enqueue("reports", "scheduled", 900, 45);
    expectAge(
      (await read(plugin, { url: db.url, metric: "latency", latency_target: 60, queues: ["reports"] })).value,
      45,
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
    validOptions: { metric: "latency", latency_target: 30 },
    invalidOptions: [
      { options: { url: undefined }, path: "url" },
      { options: { latency_target: 0 }, path: "latency_target" },
      { options: { latency_target: undefined }, path: "latency_target" },
      { options: { jobs_per_dyno: 5 }, path: "jobs_per_dyno" },
      { options: { schema: "solid" }, path: "" },
    ],
    setup: () => ({ options: { url: db.url } }),
  },
  { describe, it },
);
