import { createHmac } from "node:crypto";
import { join } from "node:path";
import { ManualClock, memoryLogger, type NotifyTarget, type TickReport } from "@dynosaur/core";
import { sampleTick } from "@dynosaur/core/testing";
import { type NotifyReceiver, startNotifyReceiver } from "@dynosaur/fakes/notify";
import { createNotifier } from "@dynosaur/host";
import { sql } from "kysely";
import { Agent } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, type Store } from "../src/db/connect.js";
import { NotifyOutboxStore } from "../src/store/notify-outbox.js";
import {
  dropDatabase,
  dryRunConfig,
  emptyTables,
  freshDatabase,
  nextTick,
  onCleanup,
  startTestServer,
  type TestServer,
  tempDir,
} from "./helpers.js";

/*
 * `notify:` messages survive a receiver that is down and a server restart, on a real SQLite
 * file and a real PostgreSQL (scripts/postgres.sh). The clock is a ManualClock throughout.
 */
const KEY = Buffer.from("outbox-test-key-0123456789abcdef");
const SECRET = `whsec_${KEY.toString("base64")}`;
const SECRET_KEY = "0123456789abcdef".repeat(4);

let databaseUrl: string;
beforeAll(async () => {
  databaseUrl = await freshDatabase("notify_outbox");
}, 320_000);
afterAll(() => dropDatabase(databaseUrl));

async function receiver(): Promise<NotifyReceiver> {
  const r = await startNotifyReceiver();
  onCleanup(() => r.close());
  return r;
}

/** Standard Webhooks verification, from the algorithm (not the code under test). */
function verifies(r: NotifyReceiver["received"][number]): boolean {
  const key = Buffer.from(SECRET.slice(6), "base64");
  const expected = createHmac("sha256", key)
    .update(`${r.headers["webhook-id"]}.${r.headers["webhook-timestamp"]}.${r.raw}`)
    .digest("base64");
  return String(r.headers["webhook-signature"]) === `v1,${expected}`;
}

type Sent = { type: string; to: number | null; time: string };
const sent = (r: NotifyReceiver): Sent[] =>
  r.received.flatMap((m) => (m.json as { data: Sent[] }).data.map((e) => ({ type: e.type, to: e.to, time: e.time })));

const dialects = [
  { name: "SQLite", open: async (dir: string) => openStore({ file: join(dir, "dynosaur.db") }), env: () => ({}) },
  {
    name: "PostgreSQL",
    open: async () => openStore({ databaseUrl }),
    env: () => ({ DATABASE_URL: databaseUrl, DYNOSAUR_SECRET_KEY: SECRET_KEY }),
  },
];

describe.each(dialects)("the notify outbox on $name", (dialect) => {
  /** The database of a fresh server: one app row for the outbox's rows to belong to. */
  async function database(dir: string): Promise<{ store: Store; appId: number }> {
    const store = await dialect.open(dir);
    onCleanup(async () => {
      if (dialect.name === "PostgreSQL") await emptyTables(databaseUrl);
    });
    const app = await store.db
      .insertInto("apps")
      .values({ name: "shop", version: 1, paused: 0, created_at: 0, updated_at: 0 })
      .returning("id")
      .executeTakeFirstOrThrow();
    return { store, appId: app.id };
  }

  function notifier(store: Store, appId: number, target: NotifyTarget, clock: ManualClock, http: Agent) {
    const logger = memoryLogger();
    const raised: string[] = [];
    const n = createNotifier([target], {
      http,
      clock,
      logger,
      alerts: { raise: (p) => raised.push(p.message), clear: () => {} },
      outbox: new NotifyOutboxStore(store.db, appId),
    });
    return Object.assign(n, { logger, raised });
  }

  const tick = (clock: ManualClock, from: number, to: number): TickReport =>
    sampleTick({
      time: clock.now(),
      before: from,
      after: to,
      events: [{ kind: "scale", level: "info", message: "", processType: "web", fields: { from, to } }],
    });

  /** Moves the clock a second at a time, letting each delivery and database write finish. */
  async function seconds(
    n: ReturnType<typeof notifier>,
    clock: ManualClock,
    count: number,
    each?: (s: number) => void,
  ) {
    for (let s = 0; s < count; s++) {
      each?.(s);
      clock.advance(1000);
      await new Promise((r) => setImmediate(r));
      await n.settled();
    }
  }

  it("a receiver down for 5 minutes gets every message when it is back, also across a restart in between", async () => {
    const dir = tempDir();
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const http = new Agent();
    onCleanup(() => http.close());
    const hook = await receiver();
    const target: NotifyTarget = { type: "webhook", url: hook.url, secret: SECRET, events: ["scale"] };
    const { store, appId } = await database(dir);

    // Down for 5 minutes: three scales happen meanwhile.
    hook.mode = "down";
    const first = notifier(store, appId, target, clock, http);
    await seconds(first, clock, 300, (s) => {
      if (s % 100 === 0) first.report(tick(clock, 2 + s / 100, 3 + s / 100));
    });
    expect(hook.received).toHaveLength(0);
    expect(hook.requests.length).toBeGreaterThanOrEqual(5);
    expect(first.raised).toHaveLength(1);
    await first.close();
    const stored = await sql<Record<string, unknown>>`select * from notify_outbox`.execute(store.db);
    expect(stored.rows).toHaveLength(3);
    // Nothing that opens the target is stored: neither the signing key nor the URL.
    const text = JSON.stringify(stored.rows);
    expect(text).not.toContain(KEY.toString("base64"));
    expect(text).not.toContain(hook.url);
    const retriedId = stored.rows.map((r) => r.message_id).find((id) => id !== null);
    expect(retriedId).toMatch(/^msg_/);
    await store.close();

    // The server restarts (a new connection, the migrations again), and the receiver is back.
    const reopened = await dialect.open(dir);
    onCleanup(() => reopened.close());
    hook.mode = "ok";
    const second = notifier(reopened, appId, target, clock, http);
    await seconds(second, clock, 301);
    expect(sent(hook).map((e) => e.to)).toEqual([3, 4, 5]);
    expect(hook.received[0]?.headers["webhook-id"]).toBe(retriedId);
    for (const r of hook.received) expect(verifies(r)).toBe(true);
    expect((await sql`select * from notify_outbox`.execute(reopened.db)).rows).toHaveLength(0);
    await second.close();
  });

  it("a burst of 20 scale events in 2 s still goes as at most 3 messages, none lost, none left stored", async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const http = new Agent();
    onCleanup(() => http.close());
    const hook = await receiver();
    const { store, appId } = await database(tempDir());
    onCleanup(() => store.close());
    const n = notifier(
      store,
      appId,
      { type: "webhook", url: hook.url, secret: SECRET, events: ["scale"] },
      clock,
      http,
    );
    for (let i = 0; i < 20; i++) {
      n.report(tick(clock, i, i + 1));
      clock.advance(100);
      await new Promise((r) => setImmediate(r));
      await n.settled();
    }
    await seconds(n, clock, 2);
    expect(hook.received.length).toBeGreaterThan(0);
    expect(hook.received.length).toBeLessThanOrEqual(3);
    expect(sent(hook).map((e) => e.to)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect((await sql`select * from notify_outbox`.execute(store.db)).rows).toHaveLength(0);
    await n.close();
  });

  it("the server: what the receiver missed while down, and across a restart, arrives when it is back", async () => {
    const hook = await receiver();
    const config = (minDynos: number) => ({
      ...dryRunConfig({ scaler: { min_dynos: minDynos, max_dynos: 8 } }),
      notify: [{ type: "webhook", url: hook.url, secret: SECRET, events: ["scale", "config-changed"] }],
    });
    const env = dialect.env();
    const t: TestServer = await startTestServer({ env });
    if (dialect.name === "PostgreSQL") onCleanup(() => emptyTables(databaseUrl));
    hook.mode = "down";
    expect((await t.call("PUT", "/api/apps/shop/config", { body: config(1) })).status).toBe(200);
    await t.server.supervisor.sync();
    await nextTick(t, "shop", 2);
    // A new version: a config-changed message, and a scale to at least 3.
    expect((await t.call("PUT", "/api/apps/shop/config", { body: config(3) })).status).toBe(200);
    await t.server.supervisor.sync();
    // Five minutes of 5 s ticks with the receiver down.
    await nextTick(t, "shop", 60);
    expect(hook.received).toHaveLength(0);
    await t.close();

    const db = await dialect.open(t.dir);
    const rows = (await db.db.selectFrom("notify_outbox").select(["event", "created_at"]).orderBy("seq").execute()).map(
      (r) => JSON.parse(r.event) as { kind: string; to: number | null; time: number },
    );
    await db.close();
    expect(rows.map((r) => r.kind)).toContain("config-changed");
    expect(rows.map((r) => r.kind)).toContain("scale");
    expect(JSON.stringify(rows)).not.toContain(KEY.toString("base64"));

    hook.mode = "ok";
    const again = await startTestServer({ env, dir: t.dir, clock: t.clock });
    await again.server.supervisor.sync();
    // Back-off after 5 minutes down is at most 5 minutes: 70 ticks of 5 s cover it.
    await nextTick(again, "shop", 70);
    const got = sent(hook);
    const wanted = rows.map((r) => ({ type: r.kind, to: r.to, time: new Date(r.time).toISOString() }));
    // Every message missed arrives, in order, before what happened after the restart.
    expect(got.slice(0, wanted.length)).toEqual(wanted);
    for (const r of hook.received) expect(verifies(r)).toBe(true);
    for (const r of hook.received) expect(r.raw).not.toContain(KEY.toString("base64"));
  });
});

describe("the notify outbox with two server processes on one PostgreSQL", () => {
  it("each message goes out once, from the process scaling the app; the other takes what is left over", async () => {
    const hook = await receiver();
    const body = {
      ...dryRunConfig({ scaler: { min_dynos: 1, max_dynos: 8 } }),
      notify: [{ type: "webhook", url: hook.url, secret: SECRET, events: ["scale", "config-changed"] }],
    };
    const env = { DATABASE_URL: databaseUrl, DYNOSAUR_SECRET_KEY: SECRET_KEY };
    const a = await startTestServer({ env });
    onCleanup(() => emptyTables(databaseUrl));
    hook.mode = "down";
    expect((await a.call("PUT", "/api/apps/shop/config", { body })).status).toBe(200);
    await a.server.supervisor.sync();
    const b = await startTestServer({ env, clock: a.clock });
    await b.server.supervisor.sync();
    expect(a.server.supervisor.scaling).toEqual(["shop"]);
    expect(b.server.supervisor.scaling).toEqual([]);

    const pending = async () =>
      (await b.server.stores.store.db.selectFrom("notify_outbox").select("event").orderBy("seq").execute()).map(
        (r) => JSON.parse(r.event) as { kind: string; to: number | null; time: number },
      );
    // Down, then back while both run: every message arrives once (b never sends the app's rows).
    await nextTick(a, "shop", 20);
    const missed = await pending();
    expect(missed.length).toBeGreaterThan(0);
    hook.mode = "ok";
    await nextTick(a, "shop", 40);
    const once = sent(hook);
    expect(new Set(once.map((e) => JSON.stringify(e))).size).toBe(once.length);
    expect(new Set(hook.received.map((r) => r.headers["webhook-id"])).size).toBe(hook.received.length);
    const key = (e: { kind: string; to: number | null; time: number }) =>
      JSON.stringify({ type: e.kind, to: e.to, time: new Date(e.time).toISOString() });
    for (const e of missed) expect(once.map((x) => JSON.stringify(x))).toContain(key(e));

    // Down again; the scaling process stops: the other takes the app, and its messages, over.
    hook.mode = "down";
    const before = hook.received.length;
    expect(
      (await a.call("PUT", "/api/apps/shop/config", { body: { ...body, scaler: { ...body.scaler, min_dynos: 4 } } }))
        .status,
    ).toBe(200);
    await a.server.supervisor.sync();
    await nextTick(a, "shop", 10);
    await a.close();
    const left = await pending();
    expect(left.map((e) => e.kind)).toContain("config-changed");
    hook.mode = "ok";
    await b.server.supervisor.sync();
    expect(b.server.supervisor.scaling).toEqual(["shop"]);
    await nextTick(b, "shop", 70);
    const after = sent({ ...hook, received: hook.received.slice(before) });
    expect(after.slice(0, left.length).map((x) => JSON.stringify(x))).toEqual(left.map(key));
    expect(new Set(after.map((e) => JSON.stringify(e))).size).toBe(after.length);
    expect(await pending()).toEqual([]);
  });
});
