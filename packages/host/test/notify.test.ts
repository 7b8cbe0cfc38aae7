import { createHmac, timingSafeEqual } from "node:crypto";
import {
  ManualClock,
  memoryLogger,
  type NotifyTarget,
  type Problem,
  parseConfig,
  type TickReport,
} from "@dynosaur/core";
import { type NotifyReceiver, startNotifyReceiver } from "@dynosaur/fakes/notify";
import { Agent } from "undici";
import { beforeEach, describe, expect, it } from "vitest";
import { createNotifier, DEAD_AFTER, memoryOutbox, type NotifyOutbox } from "../src/notify/index.js";
import { eachTest, sampleTick } from "./fixtures.js";

const KEY = Buffer.from("0123456789abcdef0123456789abcdef");
const SECRET = `whsec_${KEY.toString("base64")}`;
const SLACK_PATH = "/services/T000/B000/XXXXSLACKTOKEN";

let slack: NotifyReceiver;
let hook: NotifyReceiver;
let http: Agent;
let clock: ManualClock;

eachTest(async () => {
  slack = await startNotifyReceiver({ slack: { path: SLACK_PATH } });
  hook = await startNotifyReceiver();
  http = new Agent();
  return [slack, hook, http];
});
beforeEach(() => {
  clock = new ManualClock();
});

function scaleTick(from: number, to: number, over: Partial<TickReport> = {}): TickReport {
  return sampleTick({
    time: clock.now(),
    before: from,
    after: to,
    events: [
      { kind: "scale", level: "info", message: `scaled ${from} → ${to}`, processType: "web", fields: { from, to } },
    ],
    ...over,
  });
}

function notifier(targets: NotifyTarget[], publicUrl?: string, outbox?: NotifyOutbox) {
  const raised: Problem[] = [];
  const cleared: string[] = [];
  const logger = memoryLogger();
  const n = createNotifier(targets, {
    http,
    clock,
    logger,
    publicUrl,
    outbox,
    alerts: { raise: (p) => raised.push(p), clear: (k) => cleared.push(k) },
  });
  return Object.assign(n, { raised, cleared, logger });
}

const slackTarget = (): NotifyTarget => ({ type: "slack", url: slack.url, events: ["scale", "refused"] });
const hookTarget = (): NotifyTarget => ({ type: "webhook", url: hook.url, secret: SECRET, events: ["scale"] });

/** Lets what a clock advance woke up run, then waits for the deliveries it started. */
async function advance(n: ReturnType<typeof notifier>, ms: number) {
  clock.advance(ms);
  await new Promise((r) => setImmediate(r));
  await n.settled();
}

/** Standard Webhooks verification, written from the algorithm, not from the code under test. */
function verifies(headers: Record<string, string | string[] | undefined>, raw: string, secret: string): boolean {
  const id = String(headers["webhook-id"]);
  const ts = String(headers["webhook-timestamp"]);
  if (!/^\d+$/.test(ts)) return false;
  const key = Buffer.from(secret.split("_")[1] ?? "", "base64");
  const expected = createHmac("sha256", key).update(`${id}.${ts}.${raw}`).digest();
  return String(headers["webhook-signature"])
    .split(" ")
    .some((sig) => {
      const [version, value] = sig.split(",");
      const given = Buffer.from(value ?? "", "base64");
      return version === "v1" && given.length === expected.length && timingSafeEqual(given, expected);
    });
}

describe("notify targets", () => {
  it("tells a Slack webhook about a scale: text for phones, blocks with the figures and a link", async () => {
    const n = notifier([slackTarget()], "https://dynosaur.example.com/");
    n.report(scaleTick(2, 5));
    await n.settled();
    expect(slack.received).toHaveLength(1);
    const body = slack.received[0]?.json as { text: string; blocks: unknown[] };
    expect(body.text).toBe("shop web scaled 2 → 5 (scale up, winner ga)");
    const blocks = JSON.stringify(body.blocks);
    for (const part of ["*App:* shop", "*Process type:* web", "2 → 5", "*Reason:* scale up", "*Winning source:* ga"])
      expect(blocks).toContain(part);
    expect(blocks).toContain("https://dynosaur.example.com/apps/shop");
    await n.close();
  });

  it("signs a webhook as Standard Webhooks does, and the signature verifies independently", async () => {
    const n = notifier([hookTarget()]);
    n.report(scaleTick(2, 5));
    await n.settled();
    expect(hook.received).toHaveLength(1);
    const got = hook.received[0];
    if (!got) throw new Error("nothing received");
    expect(got.headers["webhook-id"]).toMatch(/^msg_/);
    expect(got.headers["webhook-timestamp"]).toBe(String(Math.floor(clock.now() / 1000)));
    expect(verifies(got.headers, got.raw, SECRET)).toBe(true);
    // A body changed in transit, or another key, does not verify.
    expect(verifies(got.headers, got.raw.replace("scale", "scalf"), SECRET)).toBe(false);
    expect(
      verifies(got.headers, got.raw, `whsec_${Buffer.from("another key of 32 bytes, 32 byte").toString("base64")}`),
    ).toBe(false);
    expect(got.json).toMatchObject({
      data: [{ type: "scale", app: "shop", process_type: "web", from: 2, to: 5, winner: "ga" }],
    });
    // No secret in what was sent.
    expect(got.raw).not.toContain(KEY.toString("base64"));
    expect(JSON.stringify(got.headers)).not.toContain(KEY.toString("base64"));
    await n.close();
  });

  it("sends only the events a target asks for", async () => {
    const n = notifier([hookTarget()]);
    n.report(
      sampleTick({
        events: [{ kind: "manual-change", level: "warn", message: "changed by hand", processType: "web", fields: {} }],
      }),
    );
    n.notify({
      kind: "outage",
      time: clock.now(),
      app: "shop",
      processType: null,
      from: null,
      to: null,
      reason: "x",
      winner: null,
    });
    await n.settled();
    expect(hook.received).toHaveLength(0);
    expect(n.pending()).toEqual([0]);
    await n.close();
  });

  it("coalesces a burst: 20 scale events in 2 s make at most 3 messages, and none is lost", async () => {
    const n = notifier([slackTarget(), hookTarget()]);
    for (let i = 0; i < 20; i++) {
      n.report(scaleTick(i, i + 1));
      await advance(n, 100);
    }
    await advance(n, 1000);
    expect(slack.received.length).toBeGreaterThan(0);
    expect(slack.received.length).toBeLessThanOrEqual(3);
    expect(hook.received.length).toBeLessThanOrEqual(3);
    const events = hook.received.flatMap((r) => (r.json as { data: { to: number }[] }).data.map((e) => e.to));
    expect(events).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const texts = slack.received.map((r) => (r.json as { text: string }).text);
    expect(texts.some((t) => t.includes("more)"))).toBe(true);
    for (const r of hook.received) expect(verifies(r.headers, r.raw, SECRET)).toBe(true);
    await n.close();
  });

  it("keeps the messages while a receiver is down, retries with back-off, alerts once, and delivers when it is back", async () => {
    const n = notifier([hookTarget()]);
    hook.mode = "down";
    n.report(scaleTick(2, 3));
    await n.settled();
    // Five minutes down: attempts back off (1 s, 2 s, 4 s…), never more than one a second.
    for (let s = 0; s < 300; s++) {
      if (s === 60) n.report(scaleTick(3, 4));
      await advance(n, 1000);
    }
    const attempts = hook.requests.length;
    expect(attempts).toBeGreaterThanOrEqual(DEAD_AFTER);
    expect(attempts).toBeLessThan(20);
    expect(hook.received).toHaveLength(0);
    expect(n.raised).toHaveLength(1);
    expect(n.raised[0]?.message).toContain("refused");
    expect(JSON.stringify(n.raised)).not.toContain(KEY.toString("base64"));
    expect(n.pending()).toEqual([2]);

    hook.mode = "ok";
    await advance(n, 300_000);
    await advance(n, 1000);
    const tos = hook.received.flatMap((r) => (r.json as { data: { to: number }[] }).data.map((e) => e.to));
    expect(tos).toEqual([3, 4]);
    for (const r of hook.received) expect(verifies(r.headers, r.raw, SECRET)).toBe(true);
    expect(n.cleared).toHaveLength(1);
    expect(n.pending()).toEqual([0]);
    await n.close();
  });
});

describe("undelivered messages kept in the outbox", () => {
  const tos = (r: NotifyReceiver) =>
    r.received.flatMap((m) => (m.json as { data: { to: number }[] }).data.map((e) => e.to));

  it("a notifier started on what another left (a restart) delivers every message, the retried one with its id", async () => {
    const outbox = memoryOutbox();
    const first = notifier([hookTarget()], undefined, outbox);
    hook.mode = "down";
    first.report(scaleTick(2, 3));
    await first.settled();
    for (let s = 0; s < 300; s++) {
      if (s === 100) first.report(scaleTick(3, 4));
      if (s === 200) first.report(scaleTick(4, 6));
      await advance(first, 1000);
    }
    expect(hook.received).toHaveLength(0);
    await first.close();
    // Kept: each event once, the one being retried with its message id, attempts and next try.
    const rows = [...outbox.rows.values()];
    expect(rows.map((r) => r.event.to)).toEqual([3, 4, 6]);
    const retried = rows.find((r) => r.messageId !== null);
    expect(retried?.attempts).toBeGreaterThanOrEqual(DEAD_AFTER);
    expect(retried?.nextAt).toBeGreaterThan(clock.now() - 300_000);
    // Nothing of the target's secret is stored.
    expect(JSON.stringify(rows)).not.toContain(KEY.toString("base64"));
    expect(JSON.stringify(rows)).not.toContain(hook.url);

    hook.mode = "ok";
    const second = notifier([hookTarget()], undefined, outbox);
    await second.settled();
    for (let s = 0; s < 301; s++) await advance(second, 1000);
    expect(tos(hook)).toEqual([3, 4, 6]);
    // The message that was being retried keeps its webhook-id, so a receiver can tell a repeat.
    expect(hook.received[0]?.headers["webhook-id"]).toBe(retried?.messageId);
    for (const r of hook.received) expect(verifies(r.headers, r.raw, SECRET)).toBe(true);
    expect(outbox.rows.size).toBe(0);
    expect(second.pending()).toEqual([0]);
    await second.close();
  });

  it("drops a message undelivered for a day, saying so in one line, and goes on", async () => {
    const outbox = memoryOutbox();
    const first = notifier([hookTarget()], undefined, outbox);
    hook.mode = "fail";
    first.report(scaleTick(2, 3));
    first.report(scaleTick(3, 4));
    await advance(first, 1000);
    await first.close();
    expect(outbox.rows.size).toBe(2);

    clock.advance(24 * 3600_000 + 5000);
    hook.mode = "ok";
    const second = notifier([hookTarget()], undefined, outbox);
    await advance(second, 1000);
    expect(hook.received).toHaveLength(0);
    const dropped = second.logger.records.filter((l) => l.message.includes("more than a day"));
    expect(dropped).toHaveLength(1);
    expect(dropped[0]?.level).toBe("warn");
    expect(dropped[0]?.message).toContain("2 message(s)");
    expect(outbox.rows.size).toBe(0);
    second.report(scaleTick(4, 5));
    await advance(second, 1000);
    expect(tos(hook)).toEqual([5]);
    await second.close();
  });

  it("drops, with a line, what waits for a target whose URL or secret changed; other targets keep theirs", async () => {
    const outbox = memoryOutbox();
    const first = notifier([hookTarget(), slackTarget()], undefined, outbox);
    hook.mode = "down";
    slack.mode = "down";
    first.report(scaleTick(2, 3));
    await first.settled();
    await first.close();
    expect(outbox.rows.size).toBe(2);
    hook.mode = "ok";
    slack.mode = "ok";
    const otherKey = `whsec_${Buffer.from("another key of 32 bytes, 32 byte").toString("base64")}`;
    // The Slack target moved to the front, the webhook's secret changed.
    const second = notifier(
      [slackTarget(), { type: "webhook", url: hook.url, secret: otherKey, events: ["scale"] }],
      undefined,
      outbox,
    );
    await advance(second, 2000);
    expect(hook.received).toHaveLength(0);
    expect(slack.received).toHaveLength(1);
    expect(second.logger.records.filter((l) => l.message.includes("no longer in the config"))).toHaveLength(1);
    expect(outbox.rows.size).toBe(0);
    await second.close();
  });

  it("goes on from memory when the outbox fails, saying so once", async () => {
    const broken: NotifyOutbox = {
      where: "the database",
      durable: true,
      load: async () => [],
      add: async () => {
        throw new Error("database down");
      },
      failed: async () => {},
      remove: async () => {
        throw new Error("database down");
      },
    };
    const n = notifier([hookTarget()], undefined, broken);
    for (let i = 0; i < 5; i++) {
      n.report(scaleTick(i, i + 1));
      await advance(n, 1000);
    }
    expect(tos(hook)).toEqual([1, 2, 3, 4, 5]);
    expect(n.logger.records.filter((l) => l.message.includes("database down"))).toHaveLength(1);
    await n.close();
  });
});

describe("notify: in the config", () => {
  const base = { plugins: [{ type: "random" }], scaler: { dry_run: true } };
  const parse = (notify: unknown) => parseConfig({ ...base, notify }, {});

  it("takes Slack and webhook targets, with the default events", () => {
    const { config, redactor } = parse([
      { type: "slack", url: "https://hooks.slack.com/services/T/B/X" },
      { type: "webhook", url: "http://127.0.0.1:9/x", secret: SECRET, events: ["scale", "config-changed"] },
    ]);
    expect(config.notify?.[0]?.events).toEqual(["scale", "refused", "outage", "recovered"]);
    expect(config.notify?.[1]?.events).toEqual(["scale", "config-changed"]);
    // The secret is a secret: blanked out of any text.
    expect(redactor.scrub(`key ${SECRET}`)).not.toContain(SECRET);
  });

  it.each([
    [[{ type: "slack", url: "http://hooks.slack.com/services/T/B/X" }], "notify[0].url", "https://"],
    [[{ type: "webhook", url: "https://x.example/h" }], "notify[0].secret", ""],
    [[{ type: "webhook", url: "https://x.example/h", secret: "plain" }], "notify[0].secret", "whsec_"],
    [[{ type: "slack", url: "https://x.example/h", events: ["scaled"] }], "notify[0].events[0]", ""],
    [[{ type: "teams", url: "https://x.example/h" }], "notify[0].type", ""],
  ])("refuses %j naming its path", (notify, path, hint) => {
    let err: unknown;
    try {
      parse(notify);
    } catch (e) {
      err = e;
    }
    expect(String((err as Error)?.message)).toContain(path);
    expect(String((err as Error)?.message)).toContain(hint);
    if (JSON.stringify(notify).includes("plain")) expect(String((err as Error).message)).not.toContain("plain");
  });
});
