import { randomUUID } from "node:crypto";
import { createTestInstance } from "@dynosaur/core/testing";
import { describe, expect, it } from "vitest";
import { celery } from "../src/index.js";
import { instance, read, useRedis } from "./helpers.js";

/*
 * Messages written exactly as Celery 5.5 sends them through kombu 5.5's Redis transport
 * (kombu/transport/redis.py: `_put` LPUSHes the JSON envelope to the queue's list, or to
 * "<queue>\x06\x16<step>" for priority steps 3, 6, 9; `_queue_bind` SADDs
 * "<routing key>\x06\x16<pattern>\x06\x16<queue>" to "_kombu.binding.<exchange>").
 * The envelope is task message protocol 2 (celery/app/amqp.py `as_task_v2`).
 */
const redis = useRedis(4);
const SEP = "\x06\x16";

function message(queue: string, priority: number): string {
  const id = randomUUID();
  return JSON.stringify({
    body: Buffer.from(
      JSON.stringify([[2, 3], {}, { callbacks: null, errbacks: null, chain: null, chord: null }]),
    ).toString("base64"),
    "content-encoding": "utf-8",
    "content-type": "application/json",
    headers: {
      lang: "py",
      task: "proj.tasks.add",
      id,
      shadow: null,
      eta: null,
      expires: null,
      group: null,
      group_index: null,
      retries: 0,
      timelimit: [null, null],
      root_id: id,
      parent_id: null,
      argsrepr: "(2, 3)",
      kwargsrepr: "{}",
      origin: "gen42@web.1",
      ignore_result: false,
    },
    properties: {
      correlation_id: id,
      reply_to: randomUUID(),
      delivery_mode: 2,
      delivery_info: { exchange: "", routing_key: queue },
      priority,
      body_encoding: "base64",
      delivery_tag: randomUUID(),
    },
  });
}

async function bind(queue: string, exchange = queue) {
  await redis.admin.sAdd(`_kombu.binding.${exchange}`, [queue, "", queue].join(SEP));
}

async function send(queue: string, priority = 0) {
  // kombu's `priority(n)`: the largest of the steps [0, 3, 6, 9] not above n; step 0 is the queue's own list.
  const step = [0, 3, 6, 9].filter((s) => s <= priority).at(-1);
  await redis.admin.lPush(step ? `${queue}${SEP}${step}` : queue, message(queue, priority));
}

describe("celery", () => {
  it("depth: messages of every bound queue, priority sub-queues included; busy is not recorded", async () => {
    await bind("celery");
    await bind("reports", "analytics");
    await send("celery");
    await send("celery");
    await send("celery", 3);
    await send("celery", 9);
    await send("reports");
    const all = await instance(celery, { url: redis.url, jobs_per_dyno: 2 });
    const reading = await read(all);
    expect(reading).toEqual({ value: 5 });
    expect(reading).not.toHaveProperty("busy");
    expect(all.instance.estimateDynos(5, { current: 0, process: "worker" })).toBe(3);
    expect(await read(await instance(celery, { url: redis.url, jobs_per_dyno: 2, queues: ["reports"] }))).toEqual({
      value: 1,
    });
  });

  it("an empty queue reads a real 0", async () => {
    await bind("celery");
    expect(await read(await instance(celery, { url: redis.url, jobs_per_dyno: 1, queues: ["celery"] }))).toEqual({
      value: 0,
    });
  });

  it("refuses metric: latency with a config error: messages carry no enqueue time", async () => {
    await expect(
      createTestInstance(celery, { url: redis.url, metric: "latency", latency_target: 30 }),
    ).rejects.toMatchObject({
      code: "DYNO_CONFIG_INVALID",
      path: "metric",
      message: expect.stringContaining("no enqueue time"),
    });
  });

  it("a misspelled only queue fails the read and lists the bound queues", async () => {
    await bind("celery");
    const typo = await instance(celery, { url: redis.url, jobs_per_dyno: 1, queues: ["celeyr"] });
    await expect(typo.instance.retrieve(new AbortController().signal)).rejects.toMatchObject({
      hint: expect.stringContaining("known queues: celery"),
    });
  });
});
