import { describe, expect, it } from "vitest";
import type { MinuteRow } from "../src/store/readings.js";
import { ADMIN_PASSWORD, dryRunConfig, startTestServer, type TestServer } from "./helpers.js";

const MINUTE = 60_000;
const HEROKU_KEY = "hrku-replay-secret-that-must-never-be-echoed";

/**
 * An app scaled by nothing: created, its engine stopped (so no tick adds a row), every row it
 * stored so far removed; the test then stores exactly the minutes it replays.
 */
async function quietApp(t: TestServer, config: unknown): Promise<number> {
  expect((await t.call("PUT", "/api/apps/shop/config", { body: config })).status).toBe(200);
  await t.server.supervisor.stop();
  await t.server.recorder.flush();
  const db = t.server.stores.store.db;
  await db.deleteFrom("minutes").execute();
  const app = await t.server.stores.apps.get("shop");
  if (!app) throw new Error("shop was not created");
  return app.id;
}

/** One stored row per value (null: a failed read; undefined: no row that minute), ending at the clock's minute. */
async function storeMinutes(t: TestServer, appId: number, values: (number | null | undefined)[], source = "random") {
  const last = Math.floor(t.clock.now() / MINUTE) * MINUTE;
  const minutes: MinuteRow[] = [];
  values.forEach((value, i) => {
    if (value === undefined) return;
    minutes.push({
      appId,
      processType: "web",
      minute: last - (values.length - 1 - i) * MINUTE,
      dynos: null,
      estimate: null,
      sources: [{ name: source, value, estimate: null, health: value === null ? "stale" : "ok" }],
    });
  });
  await t.server.stores.readings.write({ ticks: [], minutes, events: [] });
}

/** Follows the last reading: each minute's value is read at its end and obeyed at once. */
const followConfig = (scaler: Record<string, unknown> = {}) =>
  dryRunConfig({
    scaler: { policy: "seed", blackout: 0, scale_down_step: 0, boot_seconds: 0, interval: 60, ...scaler },
    plugins: [{ type: "random", seed: 7, interval: 60 }],
  });

describe("POST /api/apps/{name}/replay: the draft and the running config on the stored readings", () => {
  it("matches a hand-worked replay of six stored minutes, gaps carried over, and saves nothing", async () => {
    const t = await startTestServer();
    const id = await quietApp(t, followConfig());
    // random needs ceil(value / 2) dynos: 1, 4, 4, 1, then 1 and 1 (a missing row, then a failed
    // read: the previous value, 2, stands in for both).
    await storeMinutes(t, id, [2, 8, 8, 2, undefined, null]);

    const r = await t.call("POST", "/api/apps/shop/replay", {
      body: { config: followConfig({ min_dynos: 2 }), days: 1 },
    });
    expect(r.status).toBe(200);
    const start = Math.floor(t.clock.now() / MINUTE) * MINUTE - 5 * MINUTE;
    expect(r.json.span).toEqual({
      from: new Date(start).toISOString(),
      to: new Date(start + 6 * MINUTE).toISOString(),
      minutes: 6,
    });
    expect(r.json.skipped).toEqual([]);
    const [web] = r.json.processes;
    expect(web).toMatchObject({ type: "web", sources: { running: ["random"], draft: ["random"] }, filled_minutes: 2 });
    // Running (min 1): the tick at the end of minute 1 reads 8 and scales to 4 for minutes 2-3;
    // the tick at the end of minute 3 reads 2 and scales back to 1. 12 dyno-minutes paid;
    // minute 1 needed 4 and had 1: 3 of the 12 needed dyno-minutes short = 25 %.
    expect(web.series.minutes).toEqual([0, 1, 2, 3, 4, 5].map((i) => (start + i * MINUTE) / 1000));
    expect(web.series.running).toEqual({ dynos: [1, 1, 4, 4, 1, 1], needed: [1, 4, 4, 1, 1, 1] });
    expect(r.json.running).toEqual({
      cost_dyno_hours: 12 / 60,
      shortfall_percent: 25,
      scale_events: 2,
      shortfall_dyno_minutes: 3,
      needed_dyno_minutes: 12,
    });
    // Draft (min 2): the same moves from 2, 16 dyno-minutes paid. The need is the load's, not raised
    // to min_dynos: minute 1 is 2 short of the same 12 needed = 16.7 %.
    expect(web.series.draft).toEqual({ dynos: [2, 2, 4, 4, 2, 2], needed: [1, 4, 4, 1, 1, 1] });
    expect(r.json.draft).toEqual({
      cost_dyno_hours: 16 / 60,
      shortfall_percent: (100 * 2) / 12,
      scale_events: 2,
      shortfall_dyno_minutes: 2,
      needed_dyno_minutes: 12,
    });
    expect(web.running).toEqual(r.json.running);

    const stored = (await t.call("GET", "/api/apps/shop/config")).json;
    expect(stored.version).toBe(1);
    expect(stored.config.scaler.min_dynos).toBe(1);
  });

  it("a day of traffic under the default policy: a draft with a higher min_dynos costs more and falls short less", async () => {
    const t = await startTestServer();
    const running = dryRunConfig({ scaler: { max_dynos: 10 } });
    const id = await quietApp(t, running);
    // A daily wave from 0 to 18 (0 to 9 dynos), with a spike every three hours.
    const values = Array.from({ length: 1440 }, (_, i) =>
      i % 180 === 90 ? 18 : Math.round(9 - 9 * Math.cos((2 * Math.PI * i) / 1440)),
    );
    await storeMinutes(t, id, values);
    const draft = dryRunConfig({ scaler: { max_dynos: 10, min_dynos: 4 } });
    const r = await t.call("POST", "/api/apps/shop/replay", { body: { config: draft } });
    expect(r.status).toBe(200);
    expect(r.json.span.minutes).toBe(1440);
    expect(r.json.draft.cost_dyno_hours).toBeGreaterThan(r.json.running.cost_dyno_hours);
    expect(r.json.draft.shortfall_percent).toBeLessThan(r.json.running.shortfall_percent);
    expect(r.json.running.scale_events).toBeGreaterThan(0);
    expect(r.json.processes[0].series.draft.dynos).toHaveLength(1440);
    expect(Math.min(...r.json.processes[0].series.draft.dynos)).toBe(4);

    // One more row, 30 hours back: outside the last day, inside the last two (the gap up to the
    // wave is filled with its value).
    await storeMinutes(t, id, [5, ...Array.from({ length: 30 * 60 - 1 }, () => undefined)]);
    const one = await t.call("POST", "/api/apps/shop/replay", { body: { config: draft, days: 1 } });
    expect(one.json.span.minutes).toBe(1440);
    expect(one.json.draft).toEqual(r.json.draft);
    const two = await t.call("POST", "/api/apps/shop/replay", { body: { config: draft, days: 2 } });
    expect(two.json.span).toMatchObject({
      minutes: 30 * 60,
      from: new Date(t.clock.now() - (30 * 60 - 1) * MINUTE).toISOString(),
    });
    expect(two.json.processes[0].filled_minutes).toBe(30 * 60 - 1440 - 1);
  });

  it("a lower max_dynos falls shorter against the same demand: the need is the load's, not capped by the draft", async () => {
    const t = await startTestServer();
    const running = dryRunConfig({ scaler: { max_dynos: 6 } });
    const id = await quietApp(t, running);
    // A day's wave from 0 to 16 (0 to 8 dynos): above 6, 3 and 1 dynos for part of the day.
    await storeMinutes(
      t,
      id,
      Array.from({ length: 1440 }, (_, i) => Math.round(8 - 8 * Math.cos((2 * Math.PI * i) / 1440))),
    );
    const replayWithMax = async (max: number) => {
      const r = await t.call("POST", "/api/apps/shop/replay", {
        body: { config: dryRunConfig({ scaler: { max_dynos: max } }), days: 1 },
      });
      expect(r.status).toBe(200);
      return r.json;
    };
    const [six, three, one] = [await replayWithMax(6), await replayWithMax(3), await replayWithMax(1)];
    // Every draft, and the running version, is scored against one demand, beyond any of their caps.
    const needed = six.running.needed_dyno_minutes;
    for (const r of [six, three, one]) {
      expect(r.running.needed_dyno_minutes).toBe(needed);
      expect(r.draft.needed_dyno_minutes).toBe(needed);
      expect(r.processes[0].series.draft.needed).toEqual(six.processes[0].series.running.needed);
    }
    expect(Math.max(...six.processes[0].series.draft.needed)).toBe(8);
    expect(six.draft).toEqual(six.running);
    // Cheaper, and shorter of the demand, as max_dynos goes down.
    expect(three.draft.cost_dyno_hours).toBeLessThan(six.draft.cost_dyno_hours);
    expect(one.draft.cost_dyno_hours).toBeLessThan(three.draft.cost_dyno_hours);
    expect(six.draft.shortfall_percent).toBeGreaterThan(0);
    expect(three.draft.shortfall_percent).toBeGreaterThan(six.draft.shortfall_percent);
    expect(one.draft.shortfall_percent).toBeGreaterThan(three.draft.shortfall_percent);
  });

  it("a draft that leaves a secret out replays with the stored one, and no answer holds it", async () => {
    const t = await startTestServer();
    const id = await quietApp(t, followConfig({ heroku_api_key: HEROKU_KEY }));
    await storeMinutes(t, id, [2, 8, 2]);
    // The draft as the page has it: from GET config, where the secret is left out.
    const shown = (await t.call("GET", "/api/apps/shop/config")).json;
    expect(shown.config.scaler.heroku_api_key).toBeUndefined();
    const r = await t.call("POST", "/api/apps/shop/replay", { body: { config: shown.config } });
    expect(r.status).toBe(200);
    expect(r.json.draft).toEqual(r.json.running);
    expect(r.text).not.toContain(HEROKU_KEY);
    const bad = await t.call("POST", "/api/apps/shop/replay", {
      body: { config: { ...shown.config, scaler: { ...shown.config.scaler, max_dynos: HEROKU_KEY } } },
    });
    expect(bad.status).toBe(422);
    expect(bad.text).not.toContain(HEROKU_KEY);
  });

  it("an invalid draft is refused as a PUT would refuse it: 422 with every problem at its path, nothing saved", async () => {
    const t = await startTestServer();
    const id = await quietApp(t, followConfig());
    await storeMinutes(t, id, [2, 8, 2]);
    const r = await t.call("POST", "/api/apps/shop/replay", {
      body: {
        config: { ...followConfig({ min_dynos: -1 }), plugins: [{ type: "random", max_value: 0 }] },
        days: 1,
      },
    });
    expect(r.status).toBe(422);
    const paths = (r.json.errors as { path: string }[]).map((e) => e.path);
    expect(paths).toContain("scaler.min_dynos");
    expect(paths).toContain("plugins[0].max_value");
    // The same draft, PUT, is refused with the same problems.
    const put = await t.call("PUT", "/api/apps/shop/config", {
      body: { ...followConfig({ min_dynos: -1 }), plugins: [{ type: "random", max_value: 0 }] },
    });
    expect(put.status).toBe(422);
    expect(r.json.errors).toEqual(put.json.errors);
    expect((await t.call("GET", "/api/apps/shop/config")).json.version).toBe(1);

    // The request itself: days within 1..14, no unknown fields.
    const days = await t.call("POST", "/api/apps/shop/replay", { body: { config: followConfig(), days: 15 } });
    expect(days.status).toBe(422);
    expect(days.json.errors[0].path).toBe("days");
    const extra = await t.call("POST", "/api/apps/shop/replay", { body: { config: followConfig(), save: true } });
    expect(extra.status).toBe(422);
  });

  it("with no stored readings, says so (409); an unknown app is 404", async () => {
    const t = await startTestServer();
    await quietApp(t, followConfig());
    const r = await t.call("POST", "/api/apps/shop/replay", { body: { config: followConfig(), days: 3 } });
    expect(r.status).toBe(409);
    expect(r.json.error).toMatch(/^no readings stored yet for this app in the last 3 days/);
    const none = await t.call("POST", "/api/apps/nope/replay", { body: { config: followConfig() } });
    expect(none.status).toBe(404);
  });

  it("a source the draft renames has no readings yet: that is said, not guessed", async () => {
    const t = await startTestServer();
    const id = await quietApp(t, followConfig());
    await storeMinutes(t, id, [2, 8, 2]);
    const renamed = { ...followConfig(), plugins: [{ type: "random", name: "dice", interval: 60 }] };
    const r = await t.call("POST", "/api/apps/shop/replay", { body: { config: renamed } });
    expect(r.status).toBe(409);
    expect(r.json.error).toMatch(/web: no stored readings of its sources/);
  });

  it("needs a login, and with a session the CSRF token like any state change; it is in the OpenAPI document", async () => {
    const t = await startTestServer();
    const id = await quietApp(t, followConfig());
    await storeMinutes(t, id, [2, 8, 2]);
    const body = { config: followConfig() };
    expect((await t.call("POST", "/api/apps/shop/replay", { token: null, body })).status).toBe(401);

    const login = await t.call("POST", "/api/login", { token: null, body: { password: ADMIN_PASSWORD } });
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const noCsrf = await t.call("POST", "/api/apps/shop/replay", { token: null, headers: { cookie }, body });
    expect(noCsrf.status).toBe(403);
    const ok = await t.call("POST", "/api/apps/shop/replay", {
      token: null,
      headers: { cookie, "x-csrf-token": login.json.csrf_token },
      body,
    });
    expect(ok.status).toBe(200);

    const doc = (await t.call("GET", "/api/openapi.json")).json;
    const op = doc.paths["/api/apps/{name}/replay"].post;
    expect(Object.keys(op.responses)).toEqual(["200", "409", "422"]);
    expect(op.requestBody.content["application/json"].schema.properties.days).toMatchObject({
      minimum: 1,
      maximum: 14,
      default: 1,
    });
  });
});
