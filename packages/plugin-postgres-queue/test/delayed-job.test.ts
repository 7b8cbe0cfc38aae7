import { testPlugin } from "@dynosaur/core/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { delayedJobPlugin as plugin } from "../src/index.js";
import { expectAge, loadFixture, railsTime, read, useDatabase } from "./helpers.js";

/*
 * Delayed Job: rows written the way delayed_job 4.1 with delayed_job_active_record 4.1 writes
 * them (lib/delayed/backend/base.rb, lib/delayed/worker.rb, lib/delayed/backend/active_record.rb):
 * - enqueue: priority, attempts 0, handler = the YAML of the payload object, queue (NULL
 *   unless given; the ActiveJob adapter gives the job's queue), run_at = the requested time
 *   or now (set_default_run_at), created_at/updated_at;
 * - reserve: locked_at = now, locked_by = "host:NAME pid:N";
 * - failure with attempts left: attempts + 1, last_error, run_at = now + attempts**4 + 5 s,
 *   locked_at/locked_by cleared; out of attempts: failed_at = now;
 * - success: the row is deleted.
 */
const db = useDatabase("delayed_job");

const HANDLER =
  "--- !ruby/object:ActiveJob::QueueAdapters::DelayedJobAdapter::JobWrapper\njob_data:\n  job_class: ReportJob\n  arguments: []\n";

async function enqueue(
  queue: string | null,
  options: { createdAgo: number; runAgo?: number; lockedAgo?: number; attempts?: number; failed?: boolean },
) {
  await db.sql.query(
    `INSERT INTO delayed_jobs (priority, attempts, handler, last_error, run_at, locked_at, failed_at, locked_by, queue, created_at, updated_at)
     VALUES (0, $1::int, $2, CASE WHEN $1::int > 0 THEN 'RuntimeError: boom' END, ${railsTime(options.runAgo ?? options.createdAgo)},
       ${options.lockedAgo === undefined ? "NULL" : railsTime(options.lockedAgo)}, ${options.failed ? railsTime(0) : "NULL"},
       ${options.lockedAgo === undefined ? "NULL" : "'host:worker.1 pid:4242'"}, $3, ${railsTime(options.createdAgo)}, ${railsTime(options.createdAgo)})`,
    [options.attempts ?? 0, HANDLER, queue],
  );
}

beforeAll(async () => {
  await loadFixture(db.sql, "delayed_job-4.1.sql");
  await enqueue("default", { createdAgo: 90 }); // waiting 90 s
  await enqueue("default", { createdAgo: 10 });
  await enqueue("default", { createdAgo: 5, runAgo: -3600 }); // run_at in an hour: not yet
  await enqueue("default", { createdAgo: 600, runAgo: 30, attempts: 2 }); // retry due 30 s ago
  await enqueue("default", { createdAgo: 600, runAgo: -40, attempts: 1 }); // retry due in 40 s: not yet
  await enqueue("default", { createdAgo: 20, lockedAgo: 5 }); // running
  await enqueue("default", { createdAgo: 900, attempts: 25, failed: true }); // failed for good
  await enqueue("mailers", { createdAgo: 200 }); // waiting 200 s in another queue
  await enqueue(null, { createdAgo: 15, lockedAgo: 1 }); // running, no queue
});

describe("delayed-job readings", () => {
  it("depth: unlocked, unfailed jobs whose run_at has come; busy: locked ones", async () => {
    expect(await read(plugin, { url: db.url, jobs_per_dyno: 2 })).toEqual({ value: 4, busy: 2 });
    expect(await read(plugin, { url: db.url, jobs_per_dyno: 2, queues: ["default"] })).toEqual({ value: 3, busy: 1 });
    expect(await read(plugin, { url: db.url, jobs_per_dyno: 2, queues: ["mailers", "default"] })).toEqual({
      value: 4,
      busy: 1,
    });
  });

  it("latency: seconds since the oldest waiting job's run_at, read in UTC whatever the server's time zone", async () => {
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
    validOptions: { jobs_per_dyno: 25 },
    invalidOptions: [
      { options: { url: undefined }, path: "url" },
      { options: { url: "postgres://[broken" }, path: "url" },
      { options: { jobs_per_dyno: -1 }, path: "jobs_per_dyno" },
      { options: { queues: [""] }, path: "queues[0]" },
    ],
    setup: () => ({ options: { url: db.url } }),
  },
  { describe, it },
);
