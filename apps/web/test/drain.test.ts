import type { ManualClock, TickReport } from "@dynosaur/core";
import { logplexFrame } from "@dynosaur/plugin-heroku-router";
import { describe, expect, it } from "vitest";
import { must, nextTick, startTestServer, type TestServer } from "./helpers.js";

const routerLine = (i: number) =>
  logplexFrame({
    appName: "heroku",
    procId: "router",
    timestamp: "2026-01-01T00:00:01.000000+00:00",
    text: `at=info method=GET path="/items/${i}" host=my-shop.herokuapp.com request_id=00000000-0000-4000-8000-${String(i).padStart(12, "0")} fwd="10.0.0.1" dyno=web.${(i % 3) + 1} connect=1ms service=${20 + (i % 50)}ms status=200 bytes=512 protocol=${i % 2 ? "https" : "http2.0 tls=true tls_version=tls1.3"}`,
  });

const queueLine = (dyno: string, p95: number) =>
  logplexFrame({
    appName: "app",
    procId: dyno,
    text: `dynosaur:queue_time n=50 p50=120 p95=${p95} max=800`,
    priority: 190,
  });

function config(name: string, plugin: Record<string, unknown>, minDynos = 1) {
  return {
    use: ["heroku-router"],
    // The seed policy: the estimate is the sources' own, with no forecast headroom on top.
    scaler: { dry_run: true, policy: "seed", heroku_app_name: name, min_dynos: minDynos, max_dynos: 20, interval: 5 },
    plugins: [{ type: "heroku-router", name: "router", interval: 5, ...plugin }],
  };
}

async function drainOf(t: TestServer, app: string): Promise<{ url: string; command: string; path: string }> {
  const answer = await t.call("GET", `/api/apps/${app}/drain`);
  expect(answer.status).toBe(200);
  const { url, command } = answer.json as { url: string; command: string };
  return { url, command, path: new URL(url).pathname };
}

async function deliver(
  t: TestServer,
  path: string,
  frames: string[],
  frameId: string,
  contentType = "application/logplex-1",
) {
  const res = await fetch(`${t.server.url}${path}`, {
    method: "POST",
    headers: {
      "content-type": contentType,
      "logplex-msg-count": String(frames.length),
      "logplex-frame-id": frameId,
      "logplex-drain-token": "d.8a6a4e6a-1b2b-4c3c-9d4d-5e6e7f8a9b0c",
      "user-agent": "Logplex/v123",
    },
    body: frames.join(""),
  });
  await res.text();
  return res.status;
}

/** Ticks `app` until its first source has a reading (the first ones may come before any delivery). */
async function tickUntilRead(t: TestServer, app: string): Promise<TickReport> {
  for (let i = 0; i < 20; i++) {
    const report = await nextTick(t, app);
    if (report.sources[0]?.value !== null && report.sources[0]?.health === "ok") return report;
  }
  throw new Error(`${app}'s heroku-router source never read`);
}

describe("an app's log drain in dynosaur-web", () => {
  it("gives a drain URL and the heroku drains:add line, the same on every ask", async () => {
    const t = await startTestServer({ env: { DYNOSAUR_PUBLIC_URL: "https://dynosaur.example.com/" } });
    expect(
      (
        await t.call("PUT", "/api/apps/shop/config", {
          body: config("my-shop", { metric: "requests", requests_per_dyno: 100 }),
        })
      ).status,
    ).toBe(200);
    const drain = await drainOf(t, "shop");
    expect(drain.url).toMatch(/^https:\/\/dynosaur\.example\.com\/drain\/dd_[A-Za-z0-9_-]{43}$/);
    expect(drain.command).toBe(`heroku drains:add ${drain.url} -a my-shop`);
    expect((await drainOf(t, "shop")).url).toBe(drain.url);
    expect((await t.call("GET", "/api/apps/nope/drain")).status).toBe(404);
    expect((await t.call("GET", "/api/apps/shop/drain", { token: null })).status).toBe(401);
    // Only its hash and a sealed copy are stored.
    const rows = await t.server.stores.store.db.selectFrom("drains").selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(drain.path.slice("/drain/".length));
  });

  it("600 router lines within a minute at requests_per_dyno 100 read ~600 requests/min and need 6 dynos; a retry and a wrong URL count nothing", async () => {
    const t = await startTestServer();
    expect(
      (
        await t.call("PUT", "/api/apps/shop/config", {
          body: config("my-shop", { metric: "requests", requests_per_dyno: 100 }),
        })
      ).status,
    ).toBe(200);
    const { path } = await drainOf(t, "shop");

    const lines = Array.from({ length: 600 }, (_, i) => routerLine(i));
    for (let batch = 0; batch < 6; batch++) {
      expect(await deliver(t, path, lines.slice(batch * 100, batch * 100 + 100), `frame-${batch}`)).toBe(204);
    }
    // Logplex retries a delivery; a wrong URL and a wrong content type are refused; none counts.
    expect(await deliver(t, path, lines.slice(0, 100), "frame-0")).toBe(204);
    expect(await deliver(t, "/drain/dd_not-the-token", lines.slice(0, 100), "frame-x")).toBe(404);
    expect(await deliver(t, "/drain/", lines.slice(0, 100), "frame-y")).toBe(404);
    expect(await deliver(t, path, lines.slice(0, 100), "frame-z", "text/plain")).toBe(415);
    expect(await deliver(t, path, ["9".repeat(5 * 1024 * 1024)], "frame-huge")).toBe(413);
    // Unreadable frames are skipped and counted, never a 500.
    expect(await deliver(t, path, ["12 <1>1 garbage", "x"], "frame-bad")).toBe(204);

    const report = await tickUntilRead(t, "shop");
    const source = must(report.sources[0], "the router source");
    expect(source.value).toBe(600);
    expect(source.estimate).toBe(6);
    expect(report.estimate).toBe(6);

    // A live config change: the new source reads the same app's drain.
    const changed = config("my-shop", { metric: "requests", requests_per_dyno: 200 });
    expect((await t.call("PUT", "/api/apps/shop/config", { body: changed })).status).toBe(200);
    let after = await nextTick(t, "shop");
    for (let i = 0; i < 20 && after.sources[0]?.estimate !== 3; i++) after = await nextTick(t, "shop");
    expect(after.sources[0]).toMatchObject({ value: 600, estimate: 3, health: "ok" });

    const drain = (await t.call("GET", "/api/apps/shop/drain")).json;
    expect(drain.last_minute.requests).toBe(600);
    expect(drain).toMatchObject({ deliveries: 7, duplicates: 1, malformed: 2 });
  });

  it("queue time p95 of 400 ms against target_ms 100 raises the estimate above the dynos running", async () => {
    const t = await startTestServer();
    const body = config("my-shop", { metric: "queue_time", target_ms: 100 }, 2);
    expect((await t.call("PUT", "/api/apps/shop/config", { body })).status).toBe(200);
    const { path } = await drainOf(t, "shop");
    expect(await deliver(t, path, [queueLine("web.1", 400), queueLine("web.2", 400), routerLine(1)], "q-1")).toBe(204);

    const report = await tickUntilRead(t, "shop");
    expect(report.sources[0]?.value).toBe(400);
    expect(report.before).toBe(2);
    expect(report.estimate).toBeGreaterThan(2);
    expect(report.estimate).toBe(8); // 2 dynos x 400 / 100
  });

  it("stores each finished minute of the drain, and answers it per minute", async () => {
    const t = await startTestServer();
    const start = t.clock.now(); // 2026-01-01T00:00:00Z: a minute starts
    expect(
      (
        await t.call("PUT", "/api/apps/shop/config", {
          body: config("my-shop", { metric: "requests", requests_per_dyno: 100 }),
        })
      ).status,
    ).toBe(200);
    const { path } = await drainOf(t, "shop");
    const h12 = logplexFrame({
      appName: "heroku",
      procId: "router",
      text: 'at=error code=H12 desc="Request timeout" method=GET path="/" host=my-shop.herokuapp.com request_id=1 fwd="10.0.0.1" dyno=web.1 connect=1ms service=30000ms status=503 bytes=0 protocol=https',
    });
    const lines = [...Array.from({ length: 40 }, (_, i) => routerLine(i)), h12, queueLine("web.1", 30)];
    expect(await deliver(t, path, lines, "m-1")).toBe(204);
    while (t.clock.now() < start + 63_000) await nextTick(t, "shop");

    let minutes: { minute: string; requests: number; errors: Record<string, number>; queue_p95_ms: number | null }[] =
      [];
    for (let i = 0; i < 100 && minutes.length === 0; i++) {
      minutes = (await t.call("GET", "/api/apps/shop/drain/minutes?since=2026-01-01T00:00:00Z")).json.minutes;
    }
    expect(minutes).toHaveLength(1);
    expect(minutes[0]).toMatchObject({
      minute: "2026-01-01T00:00:00.000Z",
      requests: 41,
      errors: { H12: 1 },
      statuses: { "2xx": 40, "5xx": 1 },
      queue_n: 50,
      queue_p95_ms: 30,
      messages: 42,
    });
  });

  it("refuses what is no delivery to a drain with {error, code}, as the API answers", async () => {
    const t = await startTestServer();
    expect(
      (
        await t.call("PUT", "/api/apps/shop/config", {
          body: config("my-shop", { metric: "requests", requests_per_dyno: 100 }),
        })
      ).status,
    ).toBe(200);
    const { path } = await drainOf(t, "shop");
    const post = (to: string, init: RequestInit = {}) =>
      fetch(`${t.server.url}${to}`, {
        method: "POST",
        headers: { "content-type": "application/logplex-1" },
        body: routerLine(1),
        ...init,
      });
    const refusals: [what: string, answer: Promise<Response>, status: number, code: string][] = [
      ["a wrong drain URL", post("/drain/dd_not-the-token"), 404, "DYNO_NOT_FOUND"],
      ["a GET", post(path, { method: "GET", body: null }), 405, "DYNO_REQUEST_INVALID"],
      [
        "no Logplex content type",
        post(path, { headers: { "content-type": "text/plain" } }),
        415,
        "DYNO_REQUEST_INVALID",
      ],
      ["a body over 4 MiB", post(path, { body: "9".repeat(5 * 1024 * 1024) }), 413, "DYNO_REQUEST_INVALID"],
    ];
    for (const [what, answer, status, code] of refusals) {
      const r = await answer;
      const body = (await r.json()) as { error?: unknown; code?: unknown };
      expect([what, r.status, body.code, typeof body.error]).toEqual([what, status, code, "string"]);
    }
    expect((await t.call("GET", "/api/apps/shop/drain")).json).toMatchObject({ deliveries: 0 });
    const noApp = await t.call("GET", "/api/apps/nope/drain/minutes");
    expect([noApp.status, noApp.json.code]).toEqual([404, "DYNO_APP_NOT_FOUND"]);
  });

  it("a delivery that cannot be taken (a bug) is answered 500 and logged; the server goes on", async () => {
    const t = await startTestServer();
    const body = config("my-shop", { metric: "requests", requests_per_dyno: 100 });
    expect((await t.call("PUT", "/api/apps/shop/config", { body })).status).toBe(200);
    const { path } = await drainOf(t, "shop");
    const take = t.server.drains.take;
    t.server.drains.take = () => {
      throw new Error("broken feed");
    };
    expect(await deliver(t, path, [routerLine(1)], "b-1")).toBe(500);
    expect(t.lines.some((l) => l.includes("taking a delivery to shop's drain failed: broken feed"))).toBe(true);
    t.server.drains.take = take;
    expect(await deliver(t, path, [routerLine(2)], "b-2")).toBe(204);
  });

  it("a source whose app has no drain deliveries stays stale and never reads 0", async () => {
    const t = await startTestServer();
    expect(
      (
        await t.call("PUT", "/api/apps/shop/config", {
          body: config("my-shop", { metric: "requests", requests_per_dyno: 100 }),
        })
      ).status,
    ).toBe(200);
    const report = await nextTick(t, "shop");
    expect(report.sources[0]).toMatchObject({ value: null, health: "stale" });
    expect(report.sources[0]?.lastError).toMatch(/drain has delivered nothing yet/);
  });

  it("refuses listen: in a config the server runs", async () => {
    const t = await startTestServer();
    const body = config("my-shop", { metric: "requests", requests_per_dyno: 100, listen: "127.0.0.1:8514" });
    await t.call("PUT", "/api/apps/shop/config", { body });
    await t.server.supervisor.sync();
    expect(t.server.supervisor.problem("shop")).toMatch(/listen: dynosaur-web takes the app's drain itself/);
  });
});

describe("the drain chart's answer (GET /api/apps/{name}/drain/chart)", () => {
  it("no drain: says so and nothing else; a drain that never sent a line is silent; lines end the silence until 5 minutes pass", async () => {
    const t = await startTestServer();
    const body = config("my-shop", { metric: "requests", requests_per_dyno: 100 });
    expect((await t.call("PUT", "/api/apps/shop/config", { body })).status).toBe(200);
    const chart = async () => (await t.call("GET", "/api/apps/shop/drain/chart")).json;
    expect(await chart()).toMatchObject({ drain: false, silent: false, minutes: [], bursts: [] });
    expect((await t.call("GET", "/api/apps/nope/drain/chart")).status).toBe(404);

    const { path } = await drainOf(t, "shop");
    expect(await chart()).toMatchObject({ drain: true, silent: true, last_line_at: null, silent_after_seconds: 300 });
    expect(await deliver(t, path, [routerLine(1)], "c-1")).toBe(204);
    expect(await chart()).toMatchObject({ silent: false, last_line_at: new Date(t.clock.now()).toISOString() });
    (t.clock as ManualClock).advance(5 * 60_000);
    expect((await chart()).silent).toBe(false);
    (t.clock as ManualClock).advance(1000);
    expect((await chart()).silent).toBe(true);
  });
});

describe("drain minutes past the retention", () => {
  it("are deleted, an hour at a time, however many days of them there are; the kept ones stay", async () => {
    const t = await startTestServer({ retentionDays: 1 });
    expect(
      (
        await t.call("PUT", "/api/apps/shop/config", {
          body: config("my-shop", { metric: "requests", requests_per_dyno: 100 }),
        })
      ).status,
    ).toBe(200);
    const shop = must(await t.server.stores.apps.get("shop"), "shop in the store");
    const db = t.server.stores.store.db;
    const now = t.clock.now();
    // Three days of minutes, as a server back after a long stop finds them.
    const rows = Array.from({ length: 3 * 24 * 60 }, (_, i) => ({
      app_id: shop.id,
      minute: now - (i + 1) * 60_000,
      instance: "another-process",
      requests: 1,
      queue_n: 0,
      statuses: "{}",
      errors: "{}",
      messages: 1,
    }));
    for (let i = 0; i < rows.length; i += 500)
      await db
        .insertInto("drain_minutes")
        .values(rows.slice(i, i + 500))
        .execute();
    await t.server.drains.persist(now - 60_000);
    const left = await db.selectFrom("drain_minutes").select("minute").orderBy("minute").execute();
    expect(left).toHaveLength(24 * 60);
    expect(Number(left[0]?.minute)).toBe(now - 24 * 60 * 60_000);
  });
});
