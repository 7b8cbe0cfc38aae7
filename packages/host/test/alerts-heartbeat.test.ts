import { ManualClock, memoryLogger, type TickReport } from "@dynosaur/core";
import { type HeartbeatFake, startHeartbeatFake } from "@dynosaur/fakes/heartbeat";
import { Agent } from "undici";
import { beforeEach, describe, expect, it } from "vitest";
import { createAlertSink } from "../src/alerts/index.js";
import { eachTest } from "./fixtures.js";

const TOKEN = "5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278";

let fake: HeartbeatFake;
let http: Agent;
let clock: ManualClock;

eachTest(async () => {
  fake = await startHeartbeatFake({ token: TOKEN });
  http = new Agent();
  return [fake, http];
});
beforeEach(() => {
  clock = new ManualClock();
});

const report: TickReport = {
  time: 0,
  app: "shop",
  processType: "web",
  dryRun: false,
  before: 2,
  after: 2,
  estimate: 2,
  winner: "ga",
  reason: "hold",
  sources: [],
  events: [],
};

function sink(config: Parameters<typeof createAlertSink>[0] = {}) {
  const logger = memoryLogger();
  const s = createAlertSink({ heartbeat_url: fake.pingUrl, ...config }, { app: "shop", logger, http, env: {}, clock });
  return Object.assign(s, { logger });
}

async function tick(s: ReturnType<typeof sink>, healthy = true) {
  s.tick?.(report, healthy);
  await s.settled();
}

describe("heartbeat", () => {
  it("pings after healthy ticks, at most every heartbeat_interval, without email configured", async () => {
    const s = sink();
    expect(s.emailing).toBe(false);
    await tick(s);
    expect(fake.pings).toEqual([{ method: "GET" }]);
    clock.advance(30_000);
    await tick(s);
    clock.advance(29_999);
    await tick(s);
    expect(fake.pings).toHaveLength(1);
    clock.advance(1);
    await tick(s);
    expect(fake.pings).toHaveLength(2);
  });

  it("stays silent after unhealthy ticks, so the service raises the alarm", async () => {
    const s = sink({ heartbeat_interval: 10 });
    await tick(s, false);
    clock.advance(60_000);
    await tick(s, false);
    expect(fake.pings).toHaveLength(0);
    await tick(s, true);
    expect(fake.pings).toHaveLength(1);
  });

  it("logs a failing endpoint once and its recovery, never the URL's token", async () => {
    const s = sink({ heartbeat_interval: 10 });
    fake.mode = "fail";
    await tick(s);
    clock.advance(10_000);
    await tick(s);
    fake.mode = "ok";
    clock.advance(10_000);
    await tick(s);
    const lines = s.logger.records
      .filter((r) => r.level === "warn" || r.message.includes("works again"))
      .map((r) => r.message);
    expect(lines).toEqual([
      `heartbeat to ${new URL(fake.pingUrl).origin} failed: HTTP 500`,
      `heartbeat to ${new URL(fake.pingUrl).origin} works again after 2 failed attempts`,
    ]);
    expect(s.logger.text()).not.toContain(TOKEN);
    expect(fake.pings).toHaveLength(1);
  });

  it("never waits for a hanging endpoint, and times it out", async () => {
    fake.mode = "hang";
    const s = sink({ timeout: 0.2 });
    // tick() hands back nothing to wait on: the scaler goes on at once.
    expect(s.tick?.(report, true)).toBeUndefined();
    // A second healthy tick while the first ping hangs does not stack another request.
    clock.advance(120_000);
    s.tick?.(report, true);
    await s.settled();
    expect(fake.requests).toHaveLength(1);
    expect(s.logger.text()).toMatch(/heartbeat to http:\/\/127\.0\.0\.1:\d+ failed: no answer within 200 ms/);
    expect(s.logger.text()).not.toContain(TOKEN);
  });

  it("hits a wrong path as a failure (the fake knows its token)", async () => {
    const s = sink({ heartbeat_url: `${new URL(fake.pingUrl).origin}/ping/not-the-token` });
    await tick(s);
    expect(fake.pings).toHaveLength(0);
    expect(s.logger.text()).toMatch(/failed: HTTP 404/);
  });
});
