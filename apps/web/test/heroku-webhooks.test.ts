import { ManualClock, type TickReport } from "@dynosaur/core";
import { type HerokuFake, signHerokuWebhook, startHerokuFake } from "@dynosaur/fakes/heroku";
import { describe, expect, it } from "vitest";
import {
  dryRunConfig,
  gauge,
  must,
  nextTick,
  onCleanup,
  startPublicTestServer,
  startTestServer,
  type TestServer,
} from "./helpers.js";

const HEROKU_KEY = "heroku-fake-0123456789abcdef";

interface Setup {
  t: TestServer;
  heroku: HerokuFake;
  load: { state: { value: number } };
  hook: { url: string; secret: string; command: string; subscribed: boolean; subscribe_error: string | null };
}

/** A server scaling the fake's `example` app from a gauge, its webhook made (and subscribed, unless `subscribe` is false). */
async function setUp(
  options: { features?: string[]; subscribe?: boolean; web?: number; herokuNow?: () => number } = {},
): Promise<Setup> {
  const heroku = await startHerokuFake({
    apiKey: HEROKU_KEY,
    now: options.herokuNow,
    apps: { example: { formation: { web: { quantity: options.web ?? 2 } }, features: options.features } },
  });
  onCleanup(() => heroku.close());
  const load = await gauge();
  load.state.value = 4 * (options.web ?? 2);
  const t = await startPublicTestServer();
  const config = {
    use: ["dynosaur-plugin-example"],
    scaler: {
      policy: "seed",
      heroku_app_name: "example",
      heroku_api_key: HEROKU_KEY,
      heroku_api_url: heroku.url,
      min_dynos: 1,
      max_dynos: 10,
      interval: 5,
      blackout: 300,
      scale_down_step: 0,
      heroku_poll_interval: 5,
    },
    plugins: [{ type: "example", name: "load", url: load.url, json_pointer: "/n", per_dyno: 4, interval: 5 }],
  };
  expect((await t.call("PUT", "/api/apps/shop/config", { body: config })).status).toBe(200);
  // The engine has read the formation once.
  await nextTick(t, "shop");
  const made = await t.call(
    "POST",
    `/api/apps/shop/heroku-webhook${options.subscribe === false ? "" : "?subscribe=true"}`,
  );
  expect(made.status).toBe(200);
  return { t, heroku, load, hook: made.json as Setup["hook"] };
}

type Event = { kind: string; message: string; data: Record<string, unknown> };
const eventsOf = async (t: TestServer) => (await t.call("GET", "/api/apps/shop/events")).json.events as Event[];
const status = async (t: TestServer) => (await t.call("GET", "/api/apps/shop/status")).json as Record<string, unknown>;

/** Ticks until `done(report)` holds (at most `max` ticks). */
async function tickUntil(t: TestServer, done: (r: TickReport) => boolean, max = 200): Promise<TickReport> {
  for (let i = 0; i < max; i++) {
    const r = await nextTick(t, "shop");
    if (done(r)) return r;
  }
  throw new Error(`condition not reached in ${max} ticks`);
}

describe("Heroku app webhooks in", () => {
  it("makes a URL, a secret shown once and the heroku webhooks:add line; subscribes itself when asked", async () => {
    const { t, heroku, hook } = await setUp();
    expect(hook.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/heroku-webhook\/dw_[A-Za-z0-9_-]{43}$/);
    expect(hook.secret).toMatch(/^dws_[A-Za-z0-9_-]{43}$/);
    expect(hook.command).toBe(
      `heroku webhooks:add -i api:formation,api:release,api:dyno -l notify -u ${hook.url} -s ${hook.secret} -a example`,
    );
    expect([hook.subscribed, hook.subscribe_error]).toEqual([true, null]);
    const [subscription] = heroku.webhooks("example");
    expect(subscription).toMatchObject({ url: hook.url, level: "notify" });
    expect(subscription?.include).toEqual(["api:formation", "api:release", "api:dyno"]);
    // The secret is stored sealed, and never shown again.
    const row = await t.server.stores.store.db.selectFrom("heroku_webhooks").selectAll().executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(hook.secret);
    const again = await t.call("GET", "/api/apps/shop/heroku-webhook");
    expect(again.text).not.toContain(hook.secret);
    expect(again.json).toMatchObject({ configured: true, deliveries: 0 });
    // A second POST gives the same URL and a new secret.
    const second = (await t.call("POST", "/api/apps/shop/heroku-webhook")).json as Setup["hook"];
    expect(second.url).toBe(hook.url);
    expect(second.secret).not.toBe(hook.secret);
    expect(t.lines.join("\n")).not.toContain(hook.secret);
    expect(t.lines.join("\n")).not.toContain(second.secret);
  });

  it("a request's Host header never chooses where Heroku sends an app's events or logs", async () => {
    // With DYNOSAUR_PUBLIC_URL: the server registers its own address, whatever Host says.
    const { t, heroku } = await setUp({ subscribe: false });
    const forged = { headers: { host: "attacker.example" } };
    const hook = await t.call("POST", "/api/apps/shop/heroku-webhook?subscribe=true", forged);
    expect(hook.json.subscribed).toBe(true);
    const drain = await t.call("POST", "/api/apps/shop/drain/register", forged);
    expect(drain.status).toBe(201);
    const own = new URL(t.server.url).host;
    expect(heroku.webhooks("example").map((w) => new URL(w.url).host)).toEqual([own]);
    expect(heroku.logDrains("example").map((d) => new URL(d.url).host)).toEqual([own]);

    // Without it the server does not know its address: it registers nothing, and says why.
    const bare = await startTestServer();
    const config = (await t.call("GET", "/api/apps/shop/config")).json.config;
    expect(
      (
        await bare.call("PUT", "/api/apps/shop/config", {
          body: { ...config, scaler: { ...config.scaler, heroku_api_key: HEROKU_KEY } },
        })
      ).status,
    ).toBe(200);
    for (const path of ["/api/apps/shop/heroku-webhook?subscribe=true", "/api/apps/shop/drain/register"]) {
      const refused = await bare.call("POST", path, forged);
      expect([refused.status, refused.json.code]).toEqual([409, "DYNO_PUBLIC_URL_MISSING"]);
    }
    // The drain's refusal gives the line to run instead (its URL shown to the caller, registered by nobody).
    const drainRefused = await bare.call("POST", "/api/apps/shop/drain/register");
    expect(drainRefused.json.command).toMatch(
      /^heroku drains:add http:\/\/127\.0\.0\.1:\d+\/drain\/dd_\S+ -a example$/,
    );
    expect(heroku.webhooks("example")).toHaveLength(1);
    expect(heroku.logDrains("example")).toHaveLength(1);
  });

  it("a dry run cannot subscribe itself, and says to run the command", async () => {
    const t = await startPublicTestServer();
    const config = {
      use: ["random"],
      scaler: { dry_run: true, heroku_app_name: "example" },
      plugins: [{ type: "random" }],
    };
    expect((await t.call("PUT", "/api/apps/shop/config", { body: config })).status).toBe(200);
    const made = await t.call("POST", "/api/apps/shop/heroku-webhook?subscribe=true");
    expect(made.status).toBe(200);
    expect(made.json).toMatchObject({ subscribed: false, subscribe_error: expect.stringMatching(/dry run/) });
    expect(made.json.command).toMatch(/ -a example$/);
    expect(made.headers.get("cache-control")).toBe("no-store");
  });

  it("a signed formation change by someone else is an event naming them at once, and restarts the blackout", async () => {
    const { t, heroku } = await setUp();
    const before = await status(t);
    // Without webhooks flowing, the formation is read at the configured interval.
    expect([before.webhooks, before.formationPollMs]).toEqual([false, 5000]);
    const at = t.clock.now();

    heroku.setQuantity("example", "web", 5, "alice@example.com");
    await heroku.webhooksSettled();
    expect(heroku.webhookDeliveries.map((d) => d.status)).toEqual([200]);

    // No tick ran since: the delivery itself made the event.
    expect(t.clock.now()).toBe(at);
    const manual = (await eventsOf(t)).filter((e) => e.kind === "manual-change");
    expect(manual).toHaveLength(1);
    expect(manual[0]?.message).toContain("alice@example.com");
    expect(manual[0]?.message).toContain("web 2 → 5");
    expect(manual[0]?.data).toMatchObject({ process: "web", from: 2, to: 5, actor: "alice@example.com" });
    const after = await status(t);
    expect(after.current).toBe(5);
    expect(after.lastChange).toBe(at);
    // With webhooks flowing, reads drop to a safety read every 10 minutes.
    expect([after.webhooks, after.formationPollMs]).toEqual([true, 600_000]);

    // The load wants 2: the blackout since alice's change holds the 5.
    const held = await nextTick(t, "shop");
    expect([held.before, held.after]).toEqual([5, 5]);
    expect(held.reason).toMatch(/blackout/);
  });

  it("a formation change that arrives after a newer one is stale: no event, the newer quantity stands", async () => {
    const herokuClock = new ManualClock(Date.UTC(2026, 0, 1));
    const { t, heroku } = await setUp({ herokuNow: () => herokuClock.now() });
    heroku.setQuantity("example", "web", 4, "ann@example.com");
    await heroku.webhooksSettled();
    const [older] = heroku.webhookDeliveries;
    herokuClock.advance(3_000);
    heroku.setQuantity("example", "web", 6, "bob@example.com");
    await heroku.webhooksSettled();
    // Ann's change again, as a new event that Heroku sent late (its formation's updated_at is older).
    const late = JSON.parse(must(older, "ann's delivery").body) as { data: Record<string, unknown> };
    const [stale] = await heroku.sendWebhook("example", {
      resource: "formation",
      action: "update",
      data: late.data,
      previous_data: { quantity: 6 },
      actor: { email: "ann@example.com" },
    });
    expect(stale?.status).toBe(200);
    const manual = (await eventsOf(t)).filter((e) => e.kind === "manual-change").map((e) => e.data.to);
    expect(manual).toEqual([4, 6]);
    expect((await status(t)).current).toBe(6);
  });

  it("the server's own scaling, told back by the webhook, is no manual change", async () => {
    const { t, heroku, load } = await setUp();
    load.state.value = 28;
    const up = await tickUntil(t, (r) => r.after === 7);
    expect(up.before).toBe(2);
    await heroku.webhooksSettled();
    const own = heroku.webhookDeliveries.map((d) => JSON.parse(d.body) as { actor: { email: string } });
    expect(own.map((d) => d.actor.email)).toEqual(["scaler@example.com"]);
    expect(heroku.webhookDeliveries[0]?.status).toBe(200);
    const kinds = (await eventsOf(t)).map((e) => e.kind);
    expect(kinds).toContain("scale-up");
    expect(kinds).not.toContain("manual-change");
  });

  it("a bad or missing signature is refused with 401 and leaves nothing", async () => {
    const { t, heroku, hook } = await setUp({ subscribe: false });
    // Subscribed by hand with a wrong secret, and once with none.
    heroku.addWebhook("example", {
      include: ["api:formation"],
      level: "notify",
      url: hook.url,
      secret: "not-the-secret",
    });
    heroku.setQuantity("example", "web", 6, "mallory@example.com");
    await heroku.webhooksSettled();
    const [bad] = heroku.webhookDeliveries;
    expect(bad?.status).toBe(401);
    expect(JSON.parse(bad?.answer ?? "{}")).toMatchObject({ code: "DYNO_WEBHOOK_SIGNATURE" });

    // The right body, unsigned.
    const unsigned = await fetch(hook.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: bad?.body,
    });
    expect(unsigned.status).toBe(401);
    // A signature of another body.
    const tampered = await fetch(hook.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "heroku-webhook-hmac-sha256": signHerokuWebhook(hook.secret, `${bad?.body} `),
      },
      body: bad?.body,
    });
    expect(tampered.status).toBe(401);

    expect((await eventsOf(t)).filter((e) => e.kind === "manual-change")).toEqual([]);
    const taken = await t.server.stores.store.db.selectFrom("heroku_webhook_events").selectAll().execute();
    expect(taken).toEqual([]);
    const state = await status(t);
    expect([state.current, state.webhooks]).toEqual([2, false]);
    expect((await t.call("GET", "/api/apps/shop/heroku-webhook")).json).toMatchObject({ deliveries: 0, refused: 3 });
    // The same body signed with the app's secret is taken: the refusals were for the signature alone.
    const good = await fetch(hook.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "heroku-webhook-hmac-sha256": signHerokuWebhook(hook.secret, bad?.body ?? ""),
      },
      body: bad?.body,
    });
    expect(good.status).toBe(200);
    expect((await eventsOf(t)).filter((e) => e.kind === "manual-change")).toHaveLength(1);
  });

  it("a token that names no app is 404", async () => {
    const { hook } = await setUp({ subscribe: false });
    const res = await fetch(hook.url.replace(/dw_.*/, "dw_nope"), {
      method: "POST",
      headers: { "content-type": "application/json", "heroku-webhook-hmac-sha256": "x" },
      body: "{}",
    });
    expect(res.status).toBe(404);
  });

  it("a deleted app's webhook dies with it: a new app (which SQLite may give the same id) does not inherit it", async () => {
    const { t, hook } = await setUp({ subscribe: false });
    expect((await t.call("DELETE", "/api/apps/shop")).status).toBe(200);
    // Its sealed secret is gone with it, not left behind for a row id SQLite may hand out again.
    const db = t.server.stores.store.db;
    expect(await db.selectFrom("heroku_webhooks").selectAll().execute()).toEqual([]);
    expect(await db.selectFrom("heroku_webhook_events").selectAll().execute()).toEqual([]);
    expect((await t.call("PUT", "/api/apps/other/config", { body: dryRunConfig() })).status).toBe(200);
    const body = JSON.stringify({ id: "evt-after-delete", resource: "formation", action: "update", data: {} });
    const res = await fetch(hook.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "heroku-webhook-hmac-sha256": signHerokuWebhook(hook.secret, body),
      },
      body,
    });
    expect(res.status).toBe(404);
  });

  it("a replayed event (Heroku's retry: a new delivery id, the same event id) counts once", async () => {
    const { t, heroku } = await setUp();
    heroku.setQuantity("example", "web", 4, "bob@example.com");
    await heroku.webhooksSettled();
    const [first] = heroku.webhookDeliveries;
    const retry = await heroku.redeliver(must(first, "a delivery"));
    expect(retry.deliveryId).not.toBe(first?.deliveryId);
    expect(retry.eventId).toBe(first?.eventId);
    expect(retry.status).toBe(200);
    expect(JSON.parse(retry.answer)).toEqual({ taken: false, duplicate: true });
    // The very same request again (same delivery id too).
    const same = await fetch(retry.url, { method: "POST", headers: retry.headers, body: retry.body });
    expect(same.status).toBe(200);

    expect((await eventsOf(t)).filter((e) => e.kind === "manual-change")).toHaveLength(1);
    expect((await t.call("GET", "/api/apps/shop/heroku-webhook")).json).toMatchObject({
      deliveries: 1,
      duplicates: 2,
    });
  });

  it("a release with preboot on holds formation changes and says why; a failed one lifts the hold", async () => {
    const { t, heroku, load } = await setUp({ features: ["preboot"] });
    await heroku.sendRelease("example", { version: 42, status: "pending", description: "Deploy 4f2a" });
    expect((await status(t)).hold).toBeNull();
    await heroku.sendRelease("example", { version: 42, status: "succeeded", description: "Deploy 4f2a" });
    const held = await status(t);
    const hold = held.hold as { reason: string; until: number };
    expect(hold.reason).toMatch(/prebooting release v42/);
    expect(hold.until).toBe(t.clock.now() + 5 * 60_000);
    const events = await eventsOf(t);
    expect(events.filter((e) => e.kind === "release").map((e) => e.message)).toEqual([
      "Heroku release v42 pending: Deploy 4f2a (by developer@example.com)",
      "Heroku release v42 succeeded: Deploy 4f2a (by developer@example.com)",
    ]);
    expect(events.some((e) => e.kind === "formation-held")).toBe(true);

    // The load wants 7: nothing is asked of Heroku while the release preboots.
    load.state.value = 28;
    const patches = heroku.count("PATCH");
    const tick = await nextTick(t, "shop");
    expect([tick.before, tick.after]).toEqual([2, 2]);
    expect(tick.reason).toMatch(/held: Heroku is prebooting release v42/);
    expect(heroku.count("PATCH")).toBe(patches);

    // Past the hold, it scales.
    const up = await tickUntil(t, (r) => r.after === 7);
    expect(up.time).toBeGreaterThanOrEqual(hold.until);
    expect(heroku.formation("example", "web")?.quantity).toBe(7);

    // Another release, then it fails: the hold is lifted at once.
    await heroku.sendRelease("example", { version: 43, status: "succeeded" });
    expect((await status(t)).hold).not.toBeNull();
    await heroku.sendRelease("example", { version: 43, status: "failed" });
    expect((await status(t)).hold).toBeNull();
  });

  it("a release without preboot holds nothing", async () => {
    const { t, heroku } = await setUp();
    await heroku.sendRelease("example", { version: 7, status: "succeeded" });
    expect((await status(t)).hold).toBeNull();
    expect((await eventsOf(t)).map((e) => e.kind)).toContain("release");
  });

  it("dyno deliveries measure real boot time per process type, shown next to boot_seconds", async () => {
    const { t, heroku } = await setUp();
    const clock = t.clock as ManualClock;
    await heroku.sendDyno("example", { name: "web.3", state: "starting" });
    clock.advance(42_000);
    await heroku.sendDyno("example", { name: "web.3", state: "up" });
    await heroku.sendDyno("example", { name: "web.4", state: "starting" });
    clock.advance(30_000);
    await heroku.sendDyno("example", { name: "web.4", state: "crashed" });
    await heroku.sendDyno("example", { name: "web.5", state: "starting" });
    clock.advance(50_000);
    await heroku.sendDyno("example", { name: "web.5", state: "up" });
    const state = (await t.call("GET", "/api/apps/shop/heroku-webhook")).json as { boot: Record<string, unknown> };
    // A crashed dyno never booted: not a sample.
    expect(state.boot).toEqual({ web: { last_seconds: 50, median_seconds: 42, samples: 2 } });
    const live = await status(t);
    expect(live.measured_boot).toEqual(state.boot);
    expect(live.bootSeconds).toBeTypeOf("number");
  });
});
