import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sidekiq } from "../src/index.js";
import { instance, NOW, read, useRedis } from "./helpers.js";

/*
 * Jobs written exactly as Sidekiq writes them: sidekiq 8.0 lib/sidekiq/client.rb `atomic_push`
 * (SADD queues, LPUSH queue:<name> with `enqueued_at` in integer epoch ms; ZADD schedule/retry
 * with the run-at as float epoch seconds) and sidekiq 7.3 for the float-seconds `enqueued_at`;
 * lib/sidekiq/launcher.rb for the `processes` set, the process hash and its `:work` hash.
 */
const redis = useRedis(1);

const jid = () => randomBytes(12).toString("hex");

/** A job as Sidekiq 8 pushes it: times in epoch milliseconds. */
function job8(queue: string, enqueuedAtMs: number) {
  return JSON.stringify({
    retry: true,
    queue,
    args: [1],
    class: "HardJob",
    jid: jid(),
    created_at: enqueuedAtMs,
    enqueued_at: enqueuedAtMs,
  });
}

/** A job as Sidekiq 7 pushes it: times in float epoch seconds. */
function job7(queue: string, enqueuedAtS: number) {
  return JSON.stringify({
    retry: true,
    queue,
    args: [1],
    class: "HardJob",
    jid: jid(),
    created_at: enqueuedAtS,
    enqueued_at: enqueuedAtS,
  });
}

async function push(queue: string, ...jobs: string[]) {
  await redis.admin.sAdd("queues", queue);
  for (const j of jobs) await redis.admin.lPush(`queue:${queue}`, j);
}

/** ZADD schedule/retry: score is the run-at in float seconds (`at.to_s`), no enqueued_at. */
async function schedule(set: "schedule" | "retry", queue: string, runAtMs: number) {
  const payload = JSON.parse(job8(queue, 0)) as Record<string, unknown>;
  delete payload.enqueued_at;
  await redis.admin.zAdd(set, { score: runAtMs / 1000, value: JSON.stringify(payload) });
}

/** A live Sidekiq process running `running` jobs, as the launcher's heartbeat records it. */
async function processRunning(identity: string, running: string[]) {
  await redis.admin.sAdd("processes", identity);
  await redis.admin.hSet(identity, {
    busy: String(running.length),
    beat: String(NOW / 1000),
    quiet: "false",
    info: JSON.stringify({ hostname: "worker.1", concurrency: 5 }),
  });
  for (const [i, queue] of running.entries()) {
    await redis.admin.hSet(
      `${identity}:work`,
      `tid${i}`,
      JSON.stringify({ queue, payload: job8(queue, NOW - 5000), run_at: NOW - 2000 }),
    );
  }
}

describe("sidekiq", () => {
  it("depth: waiting jobs of every queue plus due scheduled and retry jobs", async () => {
    await push("default", job8("default", NOW - 3000), job8("default", NOW - 2000), job8("default", NOW - 1000));
    await push("mailers", job8("mailers", NOW - 1000));
    await schedule("schedule", "default", NOW - 10_000); // due, not yet moved (no Sidekiq running)
    await schedule("schedule", "default", NOW + 60_000); // not due
    await schedule("retry", "mailers", NOW - 1000); // due

    const all = await instance(sidekiq, { url: redis.url, jobs_per_dyno: 2 });
    expect(await read(all)).toEqual({ value: 6, busy: 0 });
    expect(all.instance.estimateDynos(6, { current: 1, process: "worker" })).toBe(3);

    const mailers = await instance(sidekiq, { url: redis.url, jobs_per_dyno: 2, queues: ["mailers"] });
    expect(await read(mailers)).toEqual({ value: 2, busy: 0 });
  });

  it("latency: the oldest job's wait, from Sidekiq 8 milliseconds and Sidekiq 7 float seconds alike", async () => {
    await push("default", job8("default", NOW - 30_000), job8("default", NOW - 1000));
    await push("legacy", job7("legacy", NOW / 1000 - 45.5), job7("legacy", NOW / 1000 - 3));
    await schedule("schedule", "default", NOW - 10_000);

    const all = await instance(sidekiq, { url: redis.url, metric: "latency", latency_target: 30 });
    expect((await read(all)).value).toBeCloseTo(45.5, 6);
    const defaultOnly = await instance(sidekiq, {
      url: redis.url,
      metric: "latency",
      latency_target: 30,
      queues: ["default"],
    });
    expect((await read(defaultOnly)).value).toBeCloseTo(30, 6);
  });

  it("latency counts a due scheduled job from when it fell due, so workers wake from zero", async () => {
    await redis.admin.sAdd("queues", "default");
    await schedule("schedule", "default", NOW - 20_000);
    const made = await instance(sidekiq, { url: redis.url, metric: "latency", latency_target: 60 });
    const { value } = await read(made);
    expect(value).toBeCloseTo(20, 6);
    expect(made.instance.estimateDynos(value, { current: 0, process: "worker" })).toBe(1);
  });

  it("busy: jobs in the work hashes of live processes, per queue; a process whose hash expired counts 0", async () => {
    await push("default", job8("default", NOW - 1000));
    await push("mailers");
    await processRunning("worker.1:4:a1b2c3d4e5f6", ["default", "default", "mailers"]);
    await processRunning("worker.2:4:0f1e2d3c4b5a", ["default"]);
    await redis.admin.sAdd("processes", "worker.3:4:deadbeef0000"); // expired: no hash left

    expect(await read(await instance(sidekiq, { url: redis.url, jobs_per_dyno: 10 }))).toEqual({ value: 1, busy: 4 });
    expect(await read(await instance(sidekiq, { url: redis.url, jobs_per_dyno: 10, queues: ["mailers"] }))).toEqual({
      value: 0,
      busy: 1,
    });
  });

  it("an empty queue reads a real 0, and latency 0", async () => {
    await push("default", job8("default", NOW));
    await redis.admin.del("queue:default"); // drained: Sidekiq keeps the name in `queues`
    expect(await read(await instance(sidekiq, { url: redis.url, jobs_per_dyno: 10, queues: ["default"] }))).toEqual({
      value: 0,
      busy: 0,
    });
    expect(await read(await instance(sidekiq, { url: redis.url, metric: "latency", latency_target: 5 }))).toEqual({
      value: 0,
      busy: 0,
    });
  });

  it("a job enqueued this very millisecond still reads a latency above 0", async () => {
    await push("default", job8("default", NOW));
    const made = await instance(sidekiq, { url: redis.url, metric: "latency", latency_target: 5 });
    const { value } = await read(made);
    expect(value).toBeGreaterThan(0);
    expect(made.instance.estimateDynos(value, { current: 0, process: "worker" })).toBe(1);
  });

  it("namespace: reads the keys of a Sidekiq <= 6 app using redis-namespace", async () => {
    await redis.admin.sAdd("myapp:queues", "default");
    await redis.admin.lPush("myapp:queue:default", [job7("default", NOW / 1000 - 2), job7("default", NOW / 1000 - 1)]);
    await push("default", job8("default", NOW)); // another app's, without the namespace
    expect((await read(await instance(sidekiq, { url: redis.url, jobs_per_dyno: 1, namespace: "myapp" }))).value).toBe(
      2,
    );
  });

  it("a misspelled only queue fails the read and lists the known queues; one unknown among known ones warns once", async () => {
    await push("default", job8("default", NOW));
    await push("mailers");
    const typo = await instance(sidekiq, { url: redis.url, jobs_per_dyno: 1, queues: ["defualt"] });
    await expect(typo.instance.retrieve(new AbortController().signal)).rejects.toThrow(
      /none of the queues "defualt" is in Sidekiq's `queues` set/,
    );
    await expect(typo.instance.retrieve(new AbortController().signal)).rejects.toMatchObject({
      hint: expect.stringContaining("known queues: default, mailers"),
    });

    const partly = await instance(sidekiq, { url: redis.url, jobs_per_dyno: 1, queues: ["default", "mailer"] });
    expect((await read(partly)).value).toBe(1);
    expect((await read(partly)).value).toBe(1);
    const warnings = partly.ctx.logger.records.filter((r) => r.level === "warn");
    expect(warnings.map((w) => w.message)).toEqual([
      expect.stringContaining('queue "mailer" is not in Sidekiq\'s `queues` set'),
    ]);
  });

  it("no queue registered at all reads 0 and warns once to check the database", async () => {
    const made = await instance(sidekiq, { url: redis.url, jobs_per_dyno: 1 });
    expect(await read(made)).toEqual({ value: 0, busy: 0 });
    await read(made);
    const warnings = made.ctx.logger.records.filter((r) => r.level === "warn");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toMatch(/no queues found in Sidekiq's `queues` set at redis:\/\/127\.0\.0\.1:\d+\/1/);
  });
});
