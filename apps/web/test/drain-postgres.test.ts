import type { ManualClock, TickReport } from "@dynosaur/core";
import { logplexFrame } from "@dynosaur/plugin-heroku-router";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  dropDatabase,
  emptyTables,
  freshDatabase,
  nextTick,
  onCleanup,
  startTestServer,
  type TestServer,
} from "./helpers.js";

/* Drain URLs on a real PostgreSQL, shared by two server processes (scripts/postgres.sh). */
let databaseUrl: string;
beforeAll(async () => {
  databaseUrl = await freshDatabase("drains");
}, 320_000);
afterAll(() => dropDatabase(databaseUrl));

const SECRET_KEY = "fedcba9876543210".repeat(4);

async function server(env: Record<string, string> = { DYNOSAUR_SECRET_KEY: SECRET_KEY }) {
  const t = await startTestServer({ env: { DATABASE_URL: databaseUrl, ...env } });
  onCleanup(() => emptyTables(databaseUrl));
  return t;
}

const config = {
  use: ["heroku-router"],
  scaler: { dry_run: true, heroku_app_name: "my-shop", min_dynos: 1, max_dynos: 5, interval: 5 },
  plugins: [{ type: "heroku-router", metric: "requests", requests_per_dyno: 100, interval: 5 }],
};
const frame = logplexFrame({
  appName: "heroku",
  procId: "router",
  text: 'at=info method=GET path="/" host=my-shop.herokuapp.com request_id=1 fwd="10.0.0.1" dyno=web.1 connect=0ms service=12ms status=200 bytes=5 protocol=https',
});
const deliver = async (t: TestServer, path: string, count = 1) => {
  const res = await fetch(`${t.server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/logplex-1", "logplex-msg-count": String(count) },
    body: frame.repeat(count),
  });
  await res.text();
  return res.status;
};

describe("drains on PostgreSQL", () => {
  it("a drain URL made by one server process is the same on another, which learns its token in the background", async () => {
    const a = await server();
    expect((await a.call("PUT", "/api/apps/shop/config", { body: config })).status).toBe(200);
    const b = await server();
    const url = (await a.call("GET", "/api/apps/shop/drain")).json.url as string;
    const path = new URL(url).pathname;
    expect(await deliver(a, path)).toBe(204);

    // B loaded its tokens before A made this one: 404 (Logplex retries), and a refresh starts
    // once the last one is 5 s old.
    (b.clock as ManualClock).advance(5_000);
    expect(await deliver(b, path)).toBe(404);
    await b.server.drains.settled();
    expect(await deliver(b, path)).toBe(204);
    expect(new URL((await b.call("GET", "/api/apps/shop/drain")).json.url).pathname).toBe(path);
  });

  it("without DYNOSAUR_SECRET_KEY there is no drain URL to keep, and the answer says what to set", async () => {
    const t = await server({});
    expect((await t.call("PUT", "/api/apps/shop/config", { body: config })).status).toBe(200);
    const answer = await t.call("GET", "/api/apps/shop/drain");
    expect(answer.status).toBe(409);
    expect(answer.json.error).toMatch(/set DYNOSAUR_SECRET_KEY/);
    expect(answer.json.code).toBe("DYNO_SECRET_KEY_INVALID");
  });

  it("two server processes share an app's drain: its engine reads both, its own live and the other's stored minute", async () => {
    const a = await server();
    const body = { ...config, scaler: { ...config.scaler, max_dynos: 10 } };
    expect((await a.call("PUT", "/api/apps/shop/config", { body })).status).toBe(200);
    const b = await server();
    await a.server.supervisor.sync();
    await b.server.supervisor.sync();
    const [owner, other] = a.server.supervisor.status("shop") ? [a, b] : [b, a];
    expect(owner.server.supervisor.status("shop")).not.toBeNull();
    expect(other.server.supervisor.status("shop")).toBeNull();
    const path = new URL((await a.call("GET", "/api/apps/shop/drain")).json.url).pathname;
    await b.server.drains.load();

    // Heroku spreads the drain over both: 300 requests a minute reach each. The other process
    // stores its minute 0 (as its loop does 2 s after the minute) ...
    const t0 = other.clock.now();
    expect(await deliver(other, path, 300)).toBe(204);
    expect(await other.server.drains.persist(t0)).toBe(1);
    // ... while the owner takes its share in minute 1, then reads the others' minute 0 (its
    // loop does 5 s after the minute).
    (owner.clock as ManualClock).set(t0 + 66_000);
    expect(await deliver(owner, path, 300)).toBe(204);
    await owner.server.drains.readPeers(t0);

    let report: TickReport = await nextTick(owner, "shop");
    for (let i = 0; i < 20 && report.sources[0]?.value !== 600; i++) report = await nextTick(owner, "shop");
    expect(report.sources[0]).toMatchObject({ value: 600, estimate: 6, health: "ok" });
    expect(report.estimate).toBe(6);
    // The owner's own stored minute is its own deliveries, never the other's again.
    expect(await owner.server.drains.persist(t0 + 60_000)).toBe(1);
    const rows = await owner.server.stores.store.db
      .selectFrom("drain_minutes")
      .select(["instance", "requests"])
      .execute();
    expect(rows.map((r) => r.requests).sort()).toEqual([300, 300]);
    expect(new Set(rows.map((r) => r.instance)).size).toBe(2);
  });
});
