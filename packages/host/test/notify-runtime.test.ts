import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { definePlugin, ManualClock, z } from "@dynosaur/core";
import { startHerokuFake } from "@dynosaur/fakes/heroku";
import { type NotifyReceiver, startNotifyReceiver } from "@dynosaur/fakes/notify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ApiBudgets } from "../src/api-budget.js";
import { createHostRuntime } from "../src/runtime.js";

const SECRET = `whsec_${Buffer.from("0123456789abcdef0123456789abcdef").toString("base64")}`;
const SLACK_PATH = "/services/T1/B1/runtimeSlackToken";

const steady = definePlugin({
  type: "steady",
  unit: "units",
  options: z.object({ value: z.number() }),
  create: (options) => ({ retrieve: async () => options.value, estimateDynos: (v) => Math.ceil(v / 10) }),
});

let dir: string;
let hook: NotifyReceiver;
let slack: NotifyReceiver;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "dynosaur-notify-runtime-"));
  hook = await startNotifyReceiver();
  slack = await startNotifyReceiver({ slack: { path: SLACK_PATH } });
});
afterEach(async () => {
  await Promise.all([hook.close(), slack.close(), rm(dir, { recursive: true, force: true })]);
});

const config = (value: number) => ({
  scaler: { heroku_app_name: "shop", dry_run: true, max_dynos: 10, blackout: 0, stats_file: join(dir, "dry.txt") },
  plugins: [{ type: "steady", name: "s", value }],
  notify: [
    { type: "webhook", url: hook.url, secret: SECRET, events: ["scale", "config-changed"] },
    { type: "slack", url: slack.url },
  ],
});

describe("notify: in the host runtime (the CLI's and the web server's)", () => {
  it("tells every target what a tick scaled, and the webhook target of a config change", async () => {
    const clock = new ManualClock(0);
    const runtime = await createHostRuntime(config(30), {
      plugins: [steady],
      clock,
      env: { DYNOSAUR_PUBLIC_URL: "https://dyno.example.com" },
    });
    await runtime.tick();
    clock.advance(5000);
    await runtime.reconfigure(config(50));
    await runtime.tick();
    await runtime.stop();
    const kinds = hook.received.flatMap((r) => (r.json as { data: { type: string }[] }).data.map((e) => e.type));
    expect(kinds).toContain("scale");
    expect(kinds).toContain("config-changed");
    const text = (slack.received[0]?.json as { text?: string } | undefined)?.text;
    expect(text).toMatch(/^shop web scaled \d+ → 3/);
    expect(JSON.stringify(slack.received[0]?.json)).toContain("https://dyno.example.com/apps/shop");
    // Neither the signing key nor the Slack URL's token is in any message.
    for (const r of [...hook.received, ...slack.received]) {
      expect(r.raw).not.toContain(SECRET.slice(6));
      expect(r.raw).not.toContain("runtimeSlackToken");
    }
    // The Slack URL is a credential: scrubbed like any secret.
    expect(runtime.redactor.scrub(`posting to ${slack.url}`)).not.toContain("runtimeSlackToken");
  });

  it("tells of a source's outage once, and of its recovery once", async () => {
    let failing = false;
    const flaky = definePlugin({
      type: "flaky",
      unit: "units",
      options: z.object({}),
      create: () => ({
        retrieve: async () => {
          if (failing) throw new Error("source down");
          return 30;
        },
        estimateDynos: (v: number) => Math.ceil(v / 10),
      }),
    });
    const clock = new ManualClock(0);
    const runtime = await createHostRuntime(
      {
        scaler: { heroku_app_name: "shop", dry_run: true, max_dynos: 10, blackout: 0, stats_file: join(dir, "d.txt") },
        plugins: [{ type: "flaky", name: "f" }],
        notify: [{ type: "webhook", url: hook.url, secret: SECRET, events: ["outage", "recovered"] }],
      },
      { plugins: [flaky], clock, env: {} },
    );
    await runtime.tick();
    failing = true;
    for (let i = 0; i < 40; i++) {
      clock.advance(60_000);
      await runtime.tick();
    }
    failing = false;
    clock.advance(60_000);
    await runtime.tick();
    clock.advance(60_000);
    await runtime.tick();
    await runtime.stop();
    const events = hook.received.flatMap((r) =>
      (r.json as { data: { type: string; reason: string }[] }).data.map((e) => `${e.type}: ${e.reason}`),
    );
    expect(events.filter((e) => e.startsWith("outage") && e.includes("source f"))).toHaveLength(1);
    expect(events.filter((e) => e.startsWith("recovered") && e.includes("source-outage:f"))).toHaveLength(1);
  });

  it("tells of a change made by hand and of Heroku refusing a scale, from the real engine against Heroku", async () => {
    const heroku = await startHerokuFake({ maxQuantity: 3, apps: { shop: { formation: { web: { quantity: 1 } } } } });
    let value = 10;
    const load = definePlugin({
      type: "load",
      unit: "units",
      options: z.object({}),
      create: () => ({ retrieve: async () => value, estimateDynos: (v: number) => Math.ceil(v / 10) }),
    });
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const runtime = await createHostRuntime(
      {
        scaler: {
          heroku_app_name: "shop",
          heroku_api_key: heroku.apiKey,
          heroku_api_url: heroku.url,
          max_dynos: 10,
          heroku_poll_interval: 5,
        },
        plugins: [{ type: "load", name: "l" }],
        notify: [{ type: "webhook", url: hook.url, secret: SECRET, events: ["manual-change", "refused"] }],
      },
      { plugins: [load], clock, env: {} },
    );
    try {
      await runtime.tick();
      heroku.setQuantity("shop", "web", 2);
      clock.advance(60_000);
      await runtime.tick();
      value = 80;
      for (let i = 0; i < 3; i++) {
        clock.advance(60_000);
        await runtime.tick();
      }
    } finally {
      await runtime.stop();
      await heroku.close();
    }
    const events = hook.received.flatMap((r) =>
      (r.json as { data: { type: string; from: number | null; to: number | null }[] }).data.map((e) => e),
    );
    expect(events.find((e) => e.type === "manual-change")).toMatchObject({ from: 1, to: 2 });
    expect(events.map((e) => e.type)).toContain("refused");
    for (const r of hook.received) expect(r.raw).not.toContain(heroku.apiKey);
  });

  it("tells once when the key's API budget starts spacing the app's formation reads", async () => {
    const heroku = await startHerokuFake({ apps: { shop: { formation: { web: { quantity: 1 } } } } });
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    // 149 other apps of this server on the same key: 150 reading every 60 s need 9,000 reads an hour.
    const apiBudgets = new ApiBudgets({ clock });
    for (let i = 0; i < 149; i++) apiBudgets.join(heroku.apiKey, () => 60_000);
    const runtime = await createHostRuntime(
      {
        scaler: { heroku_app_name: "shop", heroku_api_key: heroku.apiKey, heroku_api_url: heroku.url, max_dynos: 10 },
        plugins: [{ type: "steady", name: "s", value: 10 }],
        notify: [{ type: "webhook", url: hook.url, secret: SECRET, events: ["budget"] }],
      },
      { plugins: [steady], clock, env: {}, apiBudgets },
    );
    try {
      for (let i = 0; i < 3; i++) {
        await runtime.tick();
        clock.advance(60_000);
      }
    } finally {
      await runtime.stop();
      await heroku.close();
    }
    const events = hook.received.flatMap((r) => (r.json as { data: { type: string; reason: string }[] }).data);
    expect(events.map((e) => e.type)).toEqual(["budget"]);
    expect(events[0]?.reason).toMatch(/150 apps on this key need 9000 formation reads\/h; .*Use Heroku webhooks/);
    for (const r of hook.received) expect(r.raw).not.toContain(heroku.apiKey);
  });

  it("a reconfiguration that rebuilds the notifier keeps what was not delivered yet, and sends it once", async () => {
    const clock = new ManualClock(0);
    const withEvents = (events: string[], value = 30) => ({
      ...config(value),
      notify: [{ type: "webhook", url: hook.url, secret: SECRET, events }],
    });
    hook.mode = "down";
    const runtime = await createHostRuntime(withEvents(["scale"]), { plugins: [steady], clock, env: {} });
    await runtime.tick();
    clock.advance(5000);
    // Another events list: the notifier is rebuilt, and told of the (other) change.
    await runtime.reconfigure(withEvents(["scale", "config-changed"], 20));
    hook.mode = "ok";
    for (let i = 0; i < 10; i++) {
      clock.advance(60_000);
      await runtime.tick();
    }
    await runtime.stop();
    const events = hook.received.flatMap((r) => (r.json as { data: { type: string; to: number }[] }).data);
    // The scale to 3 the first notifier could not deliver, once; then the change and its scale to 2.
    expect(events.map((e) => (e.type === "scale" ? `scale to ${e.to}` : e.type))).toEqual([
      "scale to 3",
      "config-changed",
      "scale to 2",
    ]);
    expect(new Set(hook.received.map((r) => r.headers["webhook-id"])).size).toBe(hook.received.length);
  });
});
