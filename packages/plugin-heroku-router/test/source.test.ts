import { ManualClock } from "@dynosaur/core";
import { createTestInstance } from "@dynosaur/core/testing";
import { afterEach, describe, expect, it } from "vitest";
import plugin, { drainFeed, dropDrainFeed, dynosForTime, RouterFeed, takeDelivery } from "../src/index.js";
import { app, body, H10, H12, heroku, ROUTER_1, ROUTER_2, router } from "./bodies.js";

const T0 = Date.parse("2026-12-07T04:00:00Z");
let feeds = 0;
const keys: string[] = [];
const freshFeed = () => {
  const key = `test-${++feeds}`;
  keys.push(key);
  return key;
};
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
  for (const k of keys.splice(0)) dropDrainFeed(k);
});

async function source(options: Record<string, unknown>, clock: ManualClock) {
  const made = await createTestInstance(plugin, options, { clock });
  closers.push(() => made.close());
  return made.instance;
}

/** Twenty requests in two deliveries (router 1.0 and 2.0, an H12), app lines, a bad frame. */
function deliverTraffic(key: string, clock: ManualClock) {
  const feed = drainFeed(key);
  const first = body(
    ...[10, 20, 30, 40, 50, 60, 70, 80, 90, 100].map((ms, i) => router(ROUTER_1(`web.${(i % 2) + 1}`, ms))),
    heroku("web.1", "State changed from starting to up"),
  );
  expect(takeDelivery(feed, first, { msgCount: "11", frameId: "frame-a" }, clock.now())).toEqual({
    messages: 11,
    malformed: 0,
    duplicate: false,
  });
  clock.advance(5_000);
  const second = body(
    ...[110, 120, 130, 140, 150, 160, 170, 180, 190].map((ms) => router(ROUTER_2("web.2", ms))),
    router(H12("web.1")),
    app("web.1", "dynosaur:queue_time n=30 p50=20 p95=400 max=700"),
    app("web.2", "dynosaur:queue_time n=10 p50=10 p95=200 max=300"),
    "23 <13>1 not syslog at all",
  );
  expect(takeDelivery(feed, second, { msgCount: "13", frameId: "frame-b" }, clock.now())).toEqual({
    messages: 12,
    malformed: 1,
    duplicate: false,
  });
  clock.advance(5_000);
  // Logplex did not get our answer in time and sends the first delivery again.
  expect(takeDelivery(feed, first, { msgCount: "11", frameId: "frame-a" }, clock.now())).toEqual({
    messages: 0,
    malformed: 0,
    duplicate: true,
  });
  return feed;
}

describe("heroku-router reading real-format drain deliveries", () => {
  it("reads exactly the requests per minute, counting a retried frame id once", async () => {
    const clock = new ManualClock(T0);
    const key = freshFeed();
    const feed = deliverTraffic(key, clock);
    const requests = await source({ feed: key, metric: "requests", requests_per_dyno: 8 }, clock);
    expect(await requests.retrieve(new AbortController().signal)).toBe(20);
    expect(requests.estimateDynos(20, { current: 1, process: "web" })).toBe(3);

    const stats = feed.window(clock.now(), 60);
    expect(stats).toMatchObject({
      requests: 20,
      statuses: { "2xx": 19, "5xx": 1 },
      errors: { H12: 1 },
      dynos: { "web.1": 6, "web.2": 14 },
      connect: { max: 3 },
    });
    expect(feed).toMatchObject({ duplicates: 1, malformed: 1, deliveries: 2 });
  });

  it("remembers frame ids for the feed's window only: a retry within it counts once, memory stays bounded", () => {
    const feed = new RouterFeed({ keepSeconds: 60, frameIds: 3 });
    expect(feed.ingest([], T0, "a")).toBe(true);
    expect(feed.ingest([], T0 + 30_000, "a")).toBe(false);
    // Past the window the id is forgotten (Logplex retries within seconds, not minutes).
    expect(feed.ingest([], T0 + 61_000, "a")).toBe(true);
    // At most `frameIds` ids, the oldest forgotten first.
    for (const id of ["b", "c", "d"]) feed.ingest([], T0 + 62_000, id);
    expect(feed.ingest([], T0 + 62_000, "a")).toBe(true);
    expect(feed.ingest([], T0 + 62_000, "d")).toBe(false);
    expect(feed.duplicates).toBe(2);
  });

  it("reads exactly the service time p95 (and any percentile)", async () => {
    const clock = new ManualClock(T0);
    const key = freshFeed();
    deliverTraffic(key, clock);
    // 19 answers of 10..190 ms and one H12 at 30 s: the 19th of 20 is 190 ms.
    const p95 = await source({ feed: key, metric: "service_time", target_ms: 100 }, clock);
    expect(await p95.retrieve(new AbortController().signal)).toBe(190);
    const p50 = await source({ feed: key, metric: "service_time", target_ms: 100, percentile: 50 }, clock);
    expect(await p50.retrieve(new AbortController().signal)).toBe(100);
  });

  it("reads queue time p95 from the app's summaries, weighted by their request counts", async () => {
    const clock = new ManualClock(T0);
    const key = freshFeed();
    deliverTraffic(key, clock);
    const queue = await source({ feed: key, metric: "queue_time", target_ms: 100 }, clock);
    // (30 x 400 + 10 x 200) / 40
    expect(await queue.retrieve(new AbortController().signal)).toBe(350);
    expect(queue.estimateDynos(350, { current: 2, process: "web" })).toBe(7);
    const max = await source({ feed: key, metric: "queue_time", target_ms: 100, percentile: 100 }, clock);
    expect(await max.retrieve(new AbortController().signal)).toBe(700);
  });

  it("reads HireFire's per-request queue lines", async () => {
    const clock = new ManualClock(T0);
    const key = freshFeed();
    const lines = Array.from({ length: 20 }, (_, i) => app("web.1", `[hirefire:router] queue=${(i + 1) * 5}ms`));
    takeDelivery(drainFeed(key), body(...lines), { msgCount: "20", frameId: "h1" }, clock.now());
    const queue = await source({ feed: key, metric: "queue_time", target_ms: 50 }, clock);
    expect(await queue.retrieve(new AbortController().signal)).toBe(95);
  });

  it("counts only the window: lines older than `window` seconds drop out", async () => {
    const clock = new ManualClock(T0);
    const key = freshFeed();
    deliverTraffic(key, clock); // at T0 (11 messages, 10 requests) and T0 + 5 s (10 requests)
    const requests = await source({ feed: key, metric: "requests", requests_per_dyno: 8, window: 30 }, clock);
    clock.advance(22_000); // now T0 + 32 s: the first delivery is out of the 30 s window
    takeDelivery(drainFeed(key), body(router(H10)), { frameId: "late" }, clock.now());
    expect(await requests.retrieve(new AbortController().signal)).toBe(22); // (10 + 1) per 30 s
  });

  it("fails (stale) when the drain has been silent for a window, never reading 0", async () => {
    const clock = new ManualClock(T0);
    const key = freshFeed();
    const requests = await source({ feed: key, metric: "requests", requests_per_dyno: 8 }, clock);
    await expect(requests.retrieve(new AbortController().signal)).rejects.toThrow(/delivered nothing yet/);
    deliverTraffic(key, clock);
    expect(await requests.retrieve(new AbortController().signal)).toBe(20);
    clock.advance(61_000);
    await expect(requests.retrieve(new AbortController().signal)).rejects.toThrow(/silent for 66 s/);
  });

  it("fails when the drain is live but the app logs no queue time", async () => {
    const clock = new ManualClock(T0);
    const key = freshFeed();
    takeDelivery(drainFeed(key), body(router(ROUTER_1("web.1", 5))), {}, clock.now());
    const queue = await source({ feed: key, metric: "queue_time", target_ms: 100 }, clock);
    await expect(queue.retrieve(new AbortController().signal)).rejects.toThrow(/no queue-time lines from web dynos/);
    const service = await source({ feed: key, metric: "service_time", target_ms: 100, process: "worker" }, clock);
    // A worker gets no router traffic: with the drain live, that is 0, not silence.
    expect(await service.retrieve(new AbortController().signal)).toBe(0);
  });

  it("says how to feed it when nothing does", async () => {
    const clock = new ManualClock(T0);
    const lonely = await source({ metric: "requests", requests_per_dyno: 8 }, clock);
    await expect(lonely.retrieve(new AbortController().signal)).rejects.toThrow(/no log drain feeds this source/);
  });
});

describe("dynosForTime", () => {
  it("adds dynos in proportion above the target, holds in the dead band, steps down under half", () => {
    const at = (ms: number, current: number | null) => dynosForTime(ms, 100, { current, process: "web" });
    expect(at(400, 2)).toBe(8);
    expect(at(101, 4)).toBe(5);
    expect(at(100, 4)).toBe(4);
    expect(at(50, 4)).toBe(4);
    expect(at(49, 4)).toBe(3);
    expect(at(0, 1)).toBe(1);
    expect(at(250, null)).toBe(3);
  });
});
