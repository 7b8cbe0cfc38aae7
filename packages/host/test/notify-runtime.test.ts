import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { definePlugin, ManualClock, z } from "@dynosaur/core";
import { type NotifyReceiver, startNotifyReceiver } from "@dynosaur/fakes/notify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
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
});
