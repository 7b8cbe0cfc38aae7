import { ManualClock } from "@dynosaur/core";
import { createTestInstance } from "@dynosaur/core/testing";
import { afterEach, describe, expect, it } from "vitest";
import plugin, { drainFeed, dropDrainFeed, type PeerMinute, takeDelivery } from "../src/index.js";
import { app, body, ROUTER_1, router } from "./bodies.js";

/* Other server processes' stored minutes, added to a feed's own live deliveries. */
const T0 = Date.parse("2026-12-07T04:00:00Z");
const KEY = "peers-test";
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
  dropDrainFeed(KEY);
});

/** Another process's minute 0: 300 requests, service p95 200 ms, queue p95 300 ms over 90 requests. */
const peer: PeerMinute = {
  minute: T0,
  requests: 300,
  messages: 310,
  service: { p50: 100, p95: 200, p99: 400, max: 900 },
  queue: { n: 90, p50: 40, p95: 300, max: 800 },
};

/** This process's share, delivered at `now`: 100 requests of 50 ms, and a queue summary of 10 requests at p95 100 ms. */
function ownTraffic(now: number) {
  const feed = drainFeed(KEY);
  const lines = Array.from({ length: 100 }, () => router(ROUTER_1("web.1", 50)));
  lines.push(app("web.1", "dynosaur:queue_time n=10 p50=20 p95=100 max=150"));
  takeDelivery(feed, body(...lines), { msgCount: String(lines.length), frameId: "own-1" }, now);
  return feed;
}

describe("a feed with other processes' minutes", () => {
  it("adds their latest minute to its own window, weighting times by requests; its own window stays its own", () => {
    const now = T0 + 70_000;
    const feed = ownTraffic(now);
    feed.setPeers([peer]);
    const merged = feed.window(now, 60);
    expect(merged.requests).toBe(400);
    expect(merged.requestsPerMinute).toBe(400);
    // (100 x 50 + 300 x 200) / 400
    expect(merged.service?.p95).toBe(162.5);
    expect(merged.service?.max).toBe(900);
    // (10 x 100 + 90 x 300) / 100
    expect(merged.queue).toMatchObject({ n: 100, p95: 280, max: 800 });
    // A 30 s window takes half of their minute.
    expect(feed.window(now, 30).requests).toBe(250);
    expect(feed.ownWindow(now, 60)).toMatchObject({ requests: 100, queue: { n: 10, p95: 100 } });
    // The p95 of service time: theirs at its stored p95, mine from my samples.
    expect(feed.servicePercentile(now, 60, "web", 95)).toBe(162.5);
    // p97 is read between their p95 and p99: 300 ms.
    expect(feed.servicePercentile(now, 60, "web", 97)).toBe((100 * 50 + 300 * 300) / 400);
  });

  it("drops a minute once it is two minutes old, and never adds to another process type", () => {
    const feed = ownTraffic(T0 + 170_000);
    feed.setPeers([peer]);
    expect(feed.window(T0 + 179_000, 60).requests).toBe(400);
    expect(feed.window(T0 + 180_000, 60).requests).toBe(100);
    expect(feed.window(T0 + 179_000, 60, "worker").requests).toBe(0);
    // A minute not yet over is not theirs to give.
    expect(feed.window(T0 + 59_000, 60).requests).toBe(0);
  });

  it("a process that got no delivery itself reads its peers: the drain is not silent", async () => {
    const clock = new ManualClock(T0 + 65_000);
    const feed = drainFeed(KEY);
    const made = await createTestInstance(plugin, { metric: "requests", requests_per_dyno: 100, feed: KEY }, { clock });
    closers.push(() => made.close());
    await expect(made.instance.retrieve(AbortSignal.timeout(1000))).rejects.toThrow(/delivered nothing yet/);
    feed.setPeers([peer]);
    expect(feed.lastMessageAt).toBe(T0 + 60_000);
    expect(await made.instance.retrieve(AbortSignal.timeout(1000))).toBe(300);
    // A peer silent in the minute (no row) is no sign of life.
    feed.setPeers([]);
    await expect(made.instance.retrieve(AbortSignal.timeout(1000))).rejects.toThrow(/delivered nothing yet/);
  });
});
