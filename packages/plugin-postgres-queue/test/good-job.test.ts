import { testPlugin } from "@dynosaur/core/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { goodJobPlugin as plugin } from "../src/index.js";
import { expectAge, loadFixture, railsTime, read, useDatabase } from "./helpers.js";

/*
 * GoodJob 4.x: rows written the way good_job 4.x writes them (GoodJob::Job.enqueue_args and
 * GoodJob::Adapter#enqueue_at, lib/good_job/adapter.rb and app/models/good_job/job.rb):
 * - enqueue: id = active_job_id, queue_name, priority, serialized_params, job_class,
 *   created_at = now and scheduled_at = the requested time, or created_at when none;
 * - perform: performed_at = now, executions_count + 1 (and locked_by_id/locked_at = the
 *   process, with the :skiplocked or :hybrid lock strategy);
 * - finish: finished_at = now (error and error_event too when discarded);
 * - retry (retry_on): the same row, scheduled_at = the retry time, performed_at and finished_at NULL.
 */
const db = useDatabase("good_job");

async function enqueue(
  queue: string,
  options: {
    createdAgo: number;
    scheduledAgo?: number;
    performedAgo?: number;
    finishedAgo?: number;
    lockedBy?: boolean;
    error?: string;
    executions?: number;
  },
) {
  const scheduled = railsTime(options.scheduledAgo ?? options.createdAgo);
  await db.sql.query(
    `INSERT INTO good_jobs (id, active_job_id, queue_name, priority, serialized_params, job_class, scheduled_at, created_at, updated_at,
       performed_at, finished_at, executions_count, locked_by_id, locked_at, error, error_event)
     SELECT id, id, $1::text, 0, jsonb_build_object('job_class', 'ReportJob', 'job_id', id, 'queue_name', $1::text, 'priority', NULL, 'arguments', '[]'::jsonb, 'executions', 0),
       'ReportJob', ${scheduled}, ${railsTime(options.createdAgo)}, ${railsTime(options.createdAgo)},
       ${options.performedAgo === undefined ? "NULL" : railsTime(options.performedAgo)}, ${options.finishedAgo === undefined ? "NULL" : railsTime(options.finishedAgo)},
       $2::int, ${options.lockedBy ? "(SELECT id FROM good_job_processes LIMIT 1)" : "NULL"}, ${options.lockedBy ? railsTime(options.performedAgo ?? 0) : "NULL"},
       $3::text, CASE WHEN $3::text IS NULL THEN NULL ELSE 1 END
     FROM (SELECT gen_random_uuid() AS id) AS new`,
    [queue, options.executions ?? null, options.error ?? null],
  );
}

beforeAll(async () => {
  await loadFixture(db.sql, "good_job-4.sql");
  await db.sql.query(
    `INSERT INTO good_job_processes (created_at, updated_at, state, lock_type) VALUES (${railsTime(0)}, ${railsTime(0)}, '{}', 1)`,
  );
  await enqueue("default", { createdAgo: 90 }); // waiting 90 s
  await enqueue("default", { createdAgo: 10 }); // waiting 10 s
  await enqueue("default", { createdAgo: 5, scheduledAgo: -3600 }); // scheduled in an hour: not yet
  await enqueue("default", { createdAgo: 600, scheduledAgo: 30, executions: 1, error: "Net::ReadTimeout" }); // retry, due 30 s ago
  await enqueue("default", { createdAgo: 20, performedAgo: 5, executions: 1 }); // running (advisory lock strategy)
  await enqueue("default", { createdAgo: 20, performedAgo: 2, lockedBy: true, executions: 1 }); // running (skiplocked strategy)
  await enqueue("default", { createdAgo: 900, performedAgo: 890, finishedAgo: 880, executions: 1 }); // done
  await enqueue("default", { createdAgo: 900, performedAgo: 890, finishedAgo: 880, executions: 5, error: "boom" }); // discarded
  await enqueue("mailers", { createdAgo: 200 }); // waiting 200 s in another queue
});

describe("good-job readings", () => {
  it("depth: ready and due retry jobs, not future ones, running or finished; busy: performed or locked, unfinished", async () => {
    expect(await read(plugin, { url: db.url, jobs_per_dyno: 2 })).toEqual({ value: 4, busy: 2 });
    expect(await read(plugin, { url: db.url, jobs_per_dyno: 2, queues: ["default"] })).toEqual({ value: 3, busy: 2 });
    expect(await read(plugin, { url: db.url, jobs_per_dyno: 2, queues: ["mailers"] })).toEqual({ value: 1, busy: 0 });
  });

  it("latency: seconds since the oldest waiting job became due, read in UTC whatever the server's time zone", async () => {
    const all = await read(plugin, { url: db.url, metric: "latency", latency_target: 60 });
    expectAge(all.value, 200);
    expect(all.busy).toBe(2);
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
    validOptions: { jobs_per_dyno: 2 },
    invalidOptions: [
      { options: { url: undefined }, path: "url" },
      { options: { jobs_per_dyno: 0 }, path: "jobs_per_dyno" },
      { options: { jobs_per_dyno: undefined }, path: "jobs_per_dyno" },
      { options: { latency_target: 30 }, path: "latency_target" },
      { options: { metric: "latency", jobs_per_dyno: undefined }, path: "latency_target" },
      { options: { metric: "latency" }, path: "jobs_per_dyno" },
      { options: { metric: "size" }, path: "metric" },
      { options: { queues: [] }, path: "queues" },
      { options: { queues: "default" }, path: "queues" },
      { options: { queue: ["default"] }, path: "" },
      { options: { url: "http://example.com/db" }, path: "url" },
    ],
    setup: () => ({ options: { url: db.url } }),
  },
  { describe, it },
);
