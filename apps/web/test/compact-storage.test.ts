import { rmSync } from "node:fs";
import { join } from "node:path";
import { ManualClock, type SourceStatus, type TickReport } from "@dynosaur/core";
import { Kysely, PostgresDialect, SqliteDialect } from "kysely";
import { Migrator } from "kysely/migration";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../src/db/connect.js";
import { migrations } from "../src/db/migrations.js";
import type { Database } from "../src/db/schema.js";
import { openSqlite } from "../src/db/sqlite.js";
import { retention } from "../src/pruner.js";
import { isNotable } from "../src/recorder.js";
import { packBlock, unpackBlock } from "../src/store/minute-blocks.js";
import { type MinuteRow, ReadingStore as Readings } from "../src/store/readings.js";
import {
  countRows,
  dropDatabase,
  dryRunConfig,
  emptyTables,
  freshDatabase,
  onCleanup,
  startTestServer,
} from "./helpers.js";

/*
 * Compact storage: finished hours of the per-minute series packed into one row each, most
 * ticks kept only for the last hour. What the pages and the replay read must not change.
 */
let databaseUrl: string;
beforeAll(async () => {
  databaseUrl = await freshDatabase("compact");
}, 320_000);
afterAll(() => dropDatabase(databaseUrl));

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** 20 minutes into an hour: the two hours before it are finished. */
const NOW = Date.UTC(2026, 0, 2, 12, 20, 30);

/** Three hours of a web and a worker process type, two sources, gaps, nulls and every health. */
function threeHours(appId: number): MinuteRow[] {
  const rows: MinuteRow[] = [];
  const first = Math.floor(NOW / HOUR) * HOUR - 2 * HOUR;
  for (let i = 0; i < 140; i++) {
    const minute = first + i * MINUTE;
    if (i % 17 === 5) continue; // the server was down that minute
    const value = i % 23 === 3 ? null : 10 + ((i * 37) % 90) + (i % 3) / 7;
    rows.push({
      appId,
      processType: "web",
      minute,
      dynos: i % 29 === 0 ? null : 1 + (i % 9),
      estimate: value === null ? null : Math.ceil(value / 20),
      sources: [
        {
          name: "random",
          value,
          estimate: value === null ? null : Math.ceil(value / 20),
          health: value === null ? "stale" : "ok",
        },
        ...(i % 2 === 0 ? [{ name: "queue", value: i, estimate: 2, health: i % 31 === 0 ? "outage" : "ok" }] : []),
      ],
    });
    if (i % 4 === 0)
      rows.push({
        appId,
        processType: "worker",
        minute,
        dynos: 2,
        estimate: 2,
        sources: [{ name: "queue", value: i, estimate: 2, health: "ok" }],
      });
  }
  return rows;
}

const count = countRows;

describe.each(["sqlite", "postgres"] as const)("compact storage on %s", (dialect) => {
  const serverEnv = () =>
    dialect === "postgres" ? { DATABASE_URL: databaseUrl, DYNOSAUR_SECRET_KEY: "0".repeat(64) } : {};

  it("packs finished hours: the readings, the overview's dynos and a replay answer the same before and after", async () => {
    const t = await startTestServer({ clock: new ManualClock(NOW), env: serverEnv() });
    if (dialect === "postgres") onCleanup(() => emptyTables(databaseUrl));
    const config = dryRunConfig({ use: ["random"], scaler: { max_dynos: 10 } });
    expect((await t.call("PUT", "/api/apps/shop/config", { body: config })).status).toBe(200);
    await t.server.supervisor.stop();
    await t.server.recorder.flush();
    const db = t.server.stores.store.db;
    await db.deleteFrom("minutes").execute();
    const shop = await t.server.stores.apps.get("shop");
    if (!shop) throw new Error("shop was not stored");
    const readings = t.server.stores.readings;
    await readings.write({ ticks: [], minutes: threeHours(shop.id), events: [] });

    const since = new Date(NOW - 4 * HOUR).toISOString();
    const answers = async () => ({
      readings: (await t.call("GET", `/api/apps/shop/readings?since=${since}`)).json,
      overview: (await t.call("GET", "/api/overview")).json,
      replay: (await t.call("POST", "/api/apps/shop/replay", { body: { config, days: 1 } })).json,
    });
    const before = await answers();
    expect(before.readings.readings.length).toBeGreaterThan(150);
    expect(before.replay.span.minutes).toBeGreaterThan(100);

    const packed = await readings.compact(NOW);
    // Two finished hours packed, per process type one row each; the current hour stays in rows.
    expect(packed).toBe(
      before.readings.readings.filter((r: { minute: string }) => Date.parse(r.minute) < Math.floor(NOW / HOUR) * HOUR)
        .length,
    );
    expect(await count(db, "minute_blocks")).toBe(4);
    expect(await count(db, "minutes")).toBe(before.readings.readings.length - packed);
    expect(await answers()).toEqual(before);

    // A late row for a packed hour: read at once, merged into its block on the next pass.
    const late = Math.floor(NOW / HOUR) * HOUR - HOUR + 13 * MINUTE; // i = 73: a minute left empty above
    await readings.write({
      ticks: [],
      minutes: [{ appId: shop.id, processType: "web", minute: late, dynos: 7, estimate: 7, sources: [] }],
      events: [],
    });
    const withLate = await answers();
    expect(withLate.readings.readings).toHaveLength(before.readings.readings.length + 1);
    expect(withLate.readings.readings.find((r: { minute: string }) => Date.parse(r.minute) === late)).toMatchObject({
      dynos: 7,
    });
    expect(await readings.compact(NOW)).toBe(1);
    expect(await count(db, "minute_blocks")).toBe(4);
    expect(await answers()).toEqual(withLate);
  });

  it("keeps every tick for an hour and the notable ones for 48 h; trims the series at retention to the minute", async () => {
    const t = await startTestServer({ clock: new ManualClock(NOW), env: serverEnv() });
    if (dialect === "postgres") onCleanup(() => emptyTables(databaseUrl));
    expect((await t.call("PUT", "/api/apps/shop/config", { body: dryRunConfig() })).status).toBe(200);
    await t.server.supervisor.stop();
    await t.server.recorder.flush();
    const db = t.server.stores.store.db;
    for (const table of ["ticks", "minutes", "latest"] as const) await db.deleteFrom(table).execute();
    const shop = await t.server.stores.apps.get("shop");
    if (!shop) throw new Error("shop was not stored");
    const readings = t.server.stores.readings;
    const tick = (time: number, notable: boolean) => ({
      appId: shop.id,
      time,
      processType: "web",
      report: { time },
      notable,
    });
    await readings.write({ ticks: [tick(NOW, false), tick(NOW + 1, true)], minutes: threeHours(shop.id), events: [] });
    const keep = retention(1);
    const ticks = async () => (await readings.ticks(shop.id, 0, 100)).map((r) => r.time);

    expect((await readings.prune(NOW + HOUR - 1, keep)).ticks).toBe(0);
    expect((await readings.prune(NOW + HOUR + 1, keep)).ticks).toBe(1);
    expect(await ticks()).toEqual([NOW + 1]);
    expect((await readings.prune(NOW + 48 * HOUR, keep)).ticks).toBe(0);
    expect((await readings.prune(NOW + 48 * HOUR + 2, keep)).ticks).toBe(1);
    expect(await ticks()).toEqual([]);

    // The series, packed and not: what is left after pruning is the same either way.
    const all = await readings.minutes(shop.id, 0, NOW + HOUR, 10_000);
    const cut = all[Math.floor(all.length / 2)]?.minute ?? 0;
    await readings.compact(NOW);
    await readings.prune(cut + 1 + 24 * HOUR - 1, keep);
    expect(await readings.minutes(shop.id, 0, NOW + HOUR, 10_000)).toEqual(all.filter((m) => m.minute >= cut));
  });

  it("upgrades a database of the previous schema: its ticks keep their 48 h, its minutes are packed", async () => {
    // The previous schema has no Kysely types of its own: the current ones name its tables.
    let db: Kysely<Database>;
    let open: () => ReturnType<typeof openStore>;
    if (dialect === "sqlite") {
      const file = join(
        await import("node:os").then((os) => os.tmpdir()),
        `dynosaur-upgrade-${process.pid}-${Date.now()}.db`,
      );
      onCleanup(() => rmSync(file, { force: true }));
      db = new Kysely({ dialect: new SqliteDialect({ database: openSqlite(file).database }) });
      open = () => openStore({ file });
    } else {
      const url = await freshDatabase("upgrade");
      onCleanup(() => dropDatabase(url));
      db = new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }) });
      open = () => openStore({ databaseUrl: url });
    }
    const old = new Migrator({ db, provider: { getMigrations: async () => migrations(dialect) } });
    expect((await old.migrateTo("0002_latest_per_process")).error).toBeUndefined();
    await db
      .insertInto("apps")
      .values({ id: 1, name: "shop", version: 1, paused: 0, created_at: 0, updated_at: 0 })
      .execute();
    const rows = threeHours(1);
    await db
      .insertInto("ticks")
      .values([{ app_id: 1, time: NOW, process_type: "web", report: JSON.stringify({ time: NOW }) }])
      .execute();
    await db
      .insertInto("minutes")
      .values(
        rows.map((m) => ({
          app_id: 1,
          process_type: m.processType,
          minute: m.minute,
          dynos: m.dynos,
          estimate: m.estimate,
          sources: JSON.stringify(m.sources),
        })),
      )
      .execute();
    await db.destroy();

    const store = await open();
    try {
      const readings = new Readings(store.db);
      const expected = await readings.minutes(1, 0, NOW + HOUR, 10_000);
      expect(expected).toHaveLength(rows.length);
      expect(await readings.compact(NOW)).toBeGreaterThan(0);
      expect(await readings.minutes(1, 0, NOW + HOUR, 10_000)).toEqual(expected);
      // A tick from before the upgrade is not known to be ordinary: it stays its 48 h.
      await readings.prune(NOW + 2 * HOUR, retention(14));
      expect((await readings.ticks(1, 0, 10)).map((r) => r.time)).toEqual([NOW]);
    } finally {
      await store.close();
    }
  });
});

describe("what is kept", () => {
  const report = (over: Partial<TickReport> = {}): TickReport => ({
    time: NOW,
    app: "shop",
    processType: "web",
    dryRun: false,
    before: 2,
    after: 2,
    estimate: 2,
    winner: "random",
    reason: "no change",
    sources: [
      {
        name: "random",
        type: "random",
        unit: "random units",
        value: 3,
        estimate: 2,
        health: "ok",
        busy: null,
        lastRetrieval: NOW,
        lastError: null,
      },
    ] as TickReport["sources"],
    events: [],
    ...over,
  });

  it("a tick is notable when the dynos change or cannot be read, an event happens, or a source is not ok", () => {
    expect(isNotable(report())).toBe(false);
    expect(isNotable(report({ after: 3 }))).toBe(true);
    expect(isNotable(report({ before: null, after: null }))).toBe(true);
    const refused = { kind: "heroku-refused", level: "warn", message: "m", processType: "web", fields: {} } as const;
    expect(isNotable(report({ events: [refused] }))).toBe(true);
    const [source] = report().sources;
    expect(isNotable(report({ sources: [{ ...(source as SourceStatus), health: "stale" }] }))).toBe(true);
    expect(isNotable(report({ sources: [{ ...(source as SourceStatus), lastError: "timeout" }] }))).toBe(true);
  });

  it("a packed hour unpacks to the same minutes, a health it does not know included", () => {
    const start = Math.floor(NOW / HOUR) * HOUR;
    const minutes = [
      { minute: start, dynos: 1, estimate: null, sources: [] },
      {
        minute: start + 59 * MINUTE,
        dynos: null,
        estimate: 4,
        sources: [
          { name: "b", value: 0.1 + 0.2, estimate: null, health: "outage" },
          { name: "a", value: null, estimate: 4, health: "warming" },
        ],
      },
    ];
    expect(unpackBlock(start, packBlock(start, minutes))).toEqual(minutes);
    expect(() => packBlock(start, [{ ...minutes[0], minute: start + HOUR } as (typeof minutes)[0]])).toThrow(
      /not in the hour/,
    );
  });
});
