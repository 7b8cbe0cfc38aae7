import { createClient } from "@redis/client";
import { Queue, Worker } from "bullmq";
import { afterEach, describe, expect, it } from "vitest";
import { bullmq } from "../src/index.js";
import { instance, NOW, read, useRedis } from "./helpers.js";

/*
 * Jobs enqueued by BullMQ itself (bullmq 6.7, a dev dependency), through a node-redis client
 * as BullMQ 6 accepts. `timestamp` is a job option BullMQ honours, so ages are exact against
 * the tests' ManualClock.
 */
const redis = useRedis(2);

const opened: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  for (const thing of opened.splice(0).reverse()) await thing.close();
});

async function queue(name: string, prefix?: string): Promise<Queue> {
  const client = createClient({ url: redis.url });
  client.on("error", () => {});
  await client.connect();
  const q = new Queue(name, { connection: client, ...(prefix ? { prefix } : {}) });
  opened.push({ close: () => client.close() }, q);
  return q;
}

/** Takes the next job into `active` as a worker would, without running it. */
async function takeOne(name: string): Promise<void> {
  const client = createClient({ url: redis.url });
  client.on("error", () => {});
  await client.connect();
  const worker = new Worker(name, null, { connection: client, autorun: false });
  opened.push({ close: () => client.close() }, worker);
  const job = await worker.getNextJob("test-token", { block: false });
  expect(job).toBeDefined();
}

describe("bullmq", () => {
  it("depth: waiting, prioritized and due delayed jobs; busy: active jobs", async () => {
    const q = await queue("video");
    await q.add("encode", { n: 1 }, { timestamp: NOW - 4000 });
    await q.add("encode", { n: 2 }, { timestamp: NOW - 3000 });
    await q.add("encode", { n: 3 }, { timestamp: NOW - 2000 });
    await q.add("encode", { n: 4 }, { timestamp: NOW - 1000, priority: 5 });
    await takeOne("video"); // the oldest waiting job goes active
    // Added after the worker fetched: a fetch promotes delayed jobs due by the real clock.
    await q.add("encode", { n: 5 }, { timestamp: NOW - 20_000, delay: 10_000 }); // due 10 s ago, no worker to promote it
    await q.add("encode", { n: 6 }, { timestamp: NOW, delay: 60_000 }); // not due
    const other = await queue("mail");
    await other.add("send", {}, { timestamp: NOW });

    const all = await instance(bullmq, { url: redis.url, jobs_per_dyno: 2 });
    expect(await read(all)).toEqual({ value: 5, busy: 1 });
    expect(all.instance.estimateDynos(5, { current: 0, process: "worker" })).toBe(3);
    expect(await read(await instance(bullmq, { url: redis.url, jobs_per_dyno: 2, queues: ["mail"] }))).toEqual({
      value: 1,
      busy: 0,
    });
  });

  it("latency: the longest wait among the next waiting, prioritized and due delayed jobs", async () => {
    const q = await queue("video");
    await q.add("encode", {}, { timestamp: NOW - 40_000 });
    await q.add("encode", {}, { timestamp: NOW - 1000 });
    const latency = await instance(bullmq, { url: redis.url, metric: "latency", latency_target: 30 });
    expect((await read(latency)).value).toBeCloseTo(40, 6);

    await q.add("encode", {}, { timestamp: NOW - 50_000, priority: 1 });
    expect((await read(latency)).value).toBeCloseTo(50, 6);

    await q.add("encode", {}, { timestamp: NOW - 120_000, delay: 60_000 }); // due 60 s ago
    const { value } = await read(latency);
    expect(value).toBeCloseTo(60, 6);
    expect(latency.instance.estimateDynos(value, { current: 2, process: "worker" })).toBe(4);
  });

  it("a paused queue's jobs still wait (BullMQ 6 keeps them in wait and marks meta.paused)", async () => {
    const q = await queue("video");
    await q.pause();
    await q.add("encode", {}, { timestamp: NOW - 5000 });
    await q.add("encode", {}, { timestamp: NOW - 5000 });
    expect((await read(await instance(bullmq, { url: redis.url, jobs_per_dyno: 1, queues: ["video"] }))).value).toBe(2);
  });

  it("an empty queue reads a real 0", async () => {
    const q = await queue("video");
    const job = await q.add("encode", {}, { timestamp: NOW });
    await job.remove();
    expect(await read(await instance(bullmq, { url: redis.url, jobs_per_dyno: 1, queues: ["video"] }))).toEqual({
      value: 0,
      busy: 0,
    });
    expect(await read(await instance(bullmq, { url: redis.url, metric: "latency", latency_target: 10 }))).toEqual({
      value: 0,
      busy: 0,
    });
  });

  it("prefix: reads queues under another key prefix only", async () => {
    const mine = await queue("video", "myapp");
    await mine.add("encode", {}, { timestamp: NOW });
    await mine.add("encode", {}, { timestamp: NOW });
    const theirs = await queue("video");
    await theirs.add("encode", {}, { timestamp: NOW });
    expect((await read(await instance(bullmq, { url: redis.url, jobs_per_dyno: 1, prefix: "myapp" }))).value).toBe(2);
    expect((await read(await instance(bullmq, { url: redis.url, jobs_per_dyno: 1 }))).value).toBe(1);
  });

  it("a misspelled only queue fails the read; one unknown among known ones warns once", async () => {
    const q = await queue("video");
    await q.add("encode", {}, { timestamp: NOW });
    const typo = await instance(bullmq, { url: redis.url, jobs_per_dyno: 1, queues: ["vidoe"] });
    await expect(typo.instance.retrieve(new AbortController().signal)).rejects.toMatchObject({
      message: expect.stringContaining('none of the queues "vidoe"'),
      hint: expect.stringContaining("known queues: video"),
    });
    const partly = await instance(bullmq, { url: redis.url, jobs_per_dyno: 1, queues: ["video", "audio"] });
    expect((await read(partly)).value).toBe(1);
    await read(partly);
    expect(partly.ctx.logger.records.filter((r) => r.level === "warn").map((r) => r.message)).toEqual([
      expect.stringContaining('queue "audio" is not in'),
    ]);
  });
});
