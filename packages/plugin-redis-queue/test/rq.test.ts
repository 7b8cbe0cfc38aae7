import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { rq } from "../src/index.js";
import { instance, NOW, read, useRedis } from "./helpers.js";

/*
 * Jobs written exactly as RQ writes them, following rq 2.x (rq/queue.py `enqueue_job` /
 * `push_job_id`: SADD rq:queues rq:queue:<name>, RPUSH rq:queue:<name> <id>; rq/job.py `save`:
 * HSET rq:job:<id> with `enqueued_at` in utcformat "%Y-%m-%dT%H:%M:%S.%fZ"; rq/registry.py:
 * ScheduledJobRegistry rq:scheduled:<name> scored by run-at epoch seconds, StartedJobRegistry
 * rq:wip:<name> with "<job id>:<execution id>" scored by heartbeat expiry epoch seconds).
 */
const redis = useRedis(3);

/** RQ's utcformat: microseconds and a Z. */
function utcformat(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

async function enqueue(queue: string, enqueuedAtMs: number): Promise<string> {
  const id = randomUUID();
  await redis.admin.hSet(`rq:job:${id}`, {
    status: "queued",
    origin: queue,
    created_at: utcformat(enqueuedAtMs),
    enqueued_at: utcformat(enqueuedAtMs),
    description: "app.tasks.count_words('https://example.com')",
    timeout: "180",
    data: "x\x9c",
  });
  await redis.admin.sAdd("rq:queues", `rq:queue:${queue}`);
  await redis.admin.rPush(`rq:queue:${queue}`, id);
  return id;
}

async function scheduleAt(queue: string, runAtMs: number) {
  const id = randomUUID();
  await redis.admin.hSet(`rq:job:${id}`, { status: "scheduled", origin: queue, created_at: utcformat(NOW - 100_000) });
  await redis.admin.sAdd("rq:queues", `rq:queue:${queue}`);
  await redis.admin.zAdd(`rq:scheduled:${queue}`, { score: Math.floor(runAtMs / 1000), value: id });
}

async function started(queue: string, expiresAtMs: number | "+inf") {
  await redis.admin.zAdd(`rq:wip:${queue}`, {
    score: expiresAtMs === "+inf" ? Number.POSITIVE_INFINITY : Math.floor(expiresAtMs / 1000),
    value: `${randomUUID()}:${randomUUID()}`,
  });
}

describe("rq", () => {
  it("depth: waiting jobs plus due scheduled ones; busy: started jobs whose heartbeat is alive", async () => {
    await enqueue("default", NOW - 3000);
    await enqueue("default", NOW - 2000);
    await enqueue("high", NOW - 1000);
    await scheduleAt("default", NOW - 30_000); // due, scheduler not running
    await scheduleAt("default", NOW + 3_600_000);
    await started("default", NOW + 200_000);
    await started("default", "+inf"); // job without timeout
    await started("default", NOW - 60_000); // abandoned: heartbeat expired

    expect(await read(await instance(rq, { url: redis.url, jobs_per_dyno: 3 }))).toEqual({ value: 4, busy: 2 });
    const high = await instance(rq, { url: redis.url, jobs_per_dyno: 3, queues: ["high"] });
    expect(await read(high)).toEqual({ value: 1, busy: 0 });
    expect(high.instance.estimateDynos(1, { current: 0, process: "worker" })).toBe(1);
  });

  it("latency: the wait of the job at the head of the list (RPUSH, LPOP) or of a due scheduled job", async () => {
    await enqueue("default", NOW - 42_250);
    await enqueue("default", NOW - 1000);
    const made = await instance(rq, { url: redis.url, metric: "latency", latency_target: 30 });
    expect((await read(made)).value).toBeCloseTo(42.25, 6);
    await scheduleAt("low", NOW - 90_000);
    expect((await read(made)).value).toBeCloseTo(90, 6);
  });

  it("an empty queue reads a real 0", async () => {
    await redis.admin.sAdd("rq:queues", "rq:queue:default");
    expect(await read(await instance(rq, { url: redis.url, jobs_per_dyno: 1, queues: ["default"] }))).toEqual({
      value: 0,
      busy: 0,
    });
    expect(await read(await instance(rq, { url: redis.url, metric: "latency", latency_target: 1 }))).toEqual({
      value: 0,
      busy: 0,
    });
  });

  it("a misspelled only queue fails the read and lists the queues in rq:queues", async () => {
    await enqueue("default", NOW);
    const typo = await instance(rq, { url: redis.url, jobs_per_dyno: 1, queues: ["defalt"] });
    await expect(typo.instance.retrieve(new AbortController().signal)).rejects.toMatchObject({
      message: expect.stringContaining("RQ's `rq:queues` set"),
      hint: expect.stringContaining("known queues: default"),
    });
  });
});
