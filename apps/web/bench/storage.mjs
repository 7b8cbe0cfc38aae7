// Measures what the web app's database holds per app: ticks, the per-minute series and events,
// written through the server's own Recorder and ReadingStore and pruned (and packed) as its
// pruner does, on a simulated clock. Tick reports look like the random plugin's (one source,
// 10 s interval); how often the dynos change is the workload:
//  - `--change-every 30`: a change every 30 ticks (5 minutes), a busy real app (the default)
//  - `--change-every 1`: the dynos follow every reading, like bench/hundred-apps.mjs's random plugin
// Reports bytes per app per day of each kind and the steady size per app (each kind times its
// retention: ticks 48 h, ordinary ticks 1 h where the build keeps them apart, the series 14 days,
// events 90 days), on SQLite and, with DATABASE_URL, on PostgreSQL.
// `--dist` runs another build of apps/web (e.g. a copy of the previous one) for a before/after.
// Usage: node bench/storage.mjs [--apps 50] [--hours 4] [--change-every 30] [--dist ../dist] [--json]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    apps: { type: "string", default: "50" },
    hours: { type: "string", default: "4" },
    "change-every": { type: "string", default: "30" },
    dist: { type: "string", default: new URL("../dist", import.meta.url).pathname },
    json: { type: "boolean", default: false },
  },
});
const APPS = Number(values.apps);
const HOURS = Number(values.hours);
const CHANGE_EVERY = Number(values["change-every"]);
const INTERVAL_MS = 10_000;
const MINUTES_DAYS = 14;
const EVENTS_DAYS = 90;
const dist = pathToFileURL(`${resolve(values.dist)}/`);
const { openStore } = await import(new URL("db/connect.js", dist));
const { ReadingStore } = await import(new URL("store/readings.js", dist));
const { Recorder } = await import(new URL("recorder.js", dist));
const { retention } = await import(new URL("pruner.js", dist));
const say = (text) => values.json || process.stderr.write(`${text}\n`);
const logger = { debug() {}, info() {}, warn() {}, error: (m) => say(m) };

const results = [];
for (const dialect of process.env.DATABASE_URL ? ["sqlite", "postgres"] : ["sqlite"]) {
  const dir = mkdtempSync(join(tmpdir(), "dynosaur-storage-bench-"));
  const store = await openStore(
    dialect === "postgres" ? { databaseUrl: process.env.DATABASE_URL } : { file: join(dir, "bench.db") },
  );
  try {
    results.push(await run(store, dialect));
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
if (values.json) process.stdout.write(`${JSON.stringify(results)}\n`);
else
  for (const r of results) {
    console.log(
      `${r.dialect}, ${r.apps} apps, ${r.hours} h simulated, dynos changing every ${r.change_every} ticks (${r.build}):`,
    );
    for (const [kind, k] of Object.entries(r.kinds))
      console.log(
        `  ${kind.padEnd(8)} ${String(k.per_app_per_day_mb).padStart(7)} MB per app per day written, kept ${k.kept}: ${k.steady_mb} MB per app`,
      );
    console.log(
      `  steady size per app: ${r.steady_mb} MB (events at 14 days instead of 90: ${r.steady_events_14d_mb} MB)`,
    );
  }

async function run(store, dialect) {
  const db = store.db;
  const readings = new ReadingStore(db);
  const recorder = new Recorder(readings, logger);
  const packs = typeof readings.compact === "function";
  const keep = retention(MINUTES_DAYS);
  const start = Date.UTC(2026, 0, 1);
  const ids = [];
  for (let i = 0; i < APPS; i++) {
    const row = await db
      .insertInto("apps")
      .values({ name: `app-${i}`, version: 1, paused: 0, created_at: start, updated_at: start })
      .returning("id")
      .executeTakeFirstOrThrow();
    ids.push(row.id);
  }
  say(`${dialect}: ${APPS} apps, ${HOURS} h of ticks every ${INTERVAL_MS / 1000} s...`);
  const rng = mulberry32(1);
  const dynos = ids.map(() => 1);
  let ticks = 0;
  let notable = 0;
  let events = 0;
  const ticksPerRun = HOURS * (3_600_000 / INTERVAL_MS);
  for (let n = 0; n < ticksPerRun; n++) {
    const now = start + n * INTERVAL_MS;
    ids.forEach((appId, i) => {
      const value = Math.floor(rng() * 100);
      const estimate = Math.min(50, Math.max(1, Math.ceil(value / 2)));
      const before = dynos[i];
      const change = (n + i) % CHANGE_EVERY === 0 && estimate !== before;
      const after = change ? estimate : before;
      dynos[i] = after;
      const scale = change
        ? [
            {
              kind: "scale",
              level: "info",
              message: `scaled web ${before} → ${after}`,
              processType: "web",
              fields: { from: before, to: after },
            },
          ]
        : [];
      recorder.tick(appId, {
        time: now,
        app: `app-${i}`,
        processType: "web",
        dryRun: false,
        before,
        after,
        reason: change ? (after > before ? "scale up" : "scale down") : "no change",
        estimate,
        winner: "random",
        sources: [
          {
            name: "random",
            type: "random",
            unit: "random units",
            value,
            estimate,
            health: "ok",
            busy: null,
            lastRetrieval: now,
            lastError: null,
          },
        ],
        events: scale,
      });
      ticks++;
      if (change) {
        notable++;
        events++;
        recorder.event(appId, {
          time: now,
          kind: after > before ? "scale-up" : "scale-down",
          message: `scaled web from ${before} to ${after} (random: ${value} random units)`,
          data: { reason: after > before ? "scale up" : "scale down", winner: "random", from: before, to: after },
        });
      }
    });
    await recorder.flush();
    // The pruner's pass, every 10 simulated minutes.
    if (n % 60 === 59) {
      await readings.prune(now, keep);
      if (packs) await readings.compact(now - 10 * 60_000);
    }
  }
  const bytes = await tableBytes(store);
  const rows = async (table) =>
    Number(
      (
        await db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as("n"))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const perDay = 86_400_000 / (HOURS * 3_600_000);
  const mb = (b) => Math.round((b / 2 ** 20) * 1000) / 1000;
  const tickRows = await rows("ticks");
  const tickRowBytes = bytes.ticks / Math.max(1, tickRows);
  const ticksPerDay = (ticks / APPS) * perDay;
  const notablePerDay = (notable / APPS) * perDay;
  // Ticks: every one for the last hour and the notable ones for 48 h, or (a build that keeps all alike) all for 48 h.
  const tickSteady = packs ? tickRowBytes * (notablePerDay * 2 + ticksPerDay / 24) : tickRowBytes * ticksPerDay * 2;
  // The series: what is stored now covers the simulated hours (packed ones, and the last hour or so in rows).
  const seriesBytes = (bytes.minutes + (bytes.minute_blocks ?? 0)) / APPS;
  const seriesSteady = packs
    ? ((bytes.minute_blocks ?? 0) / APPS / Math.max(1, HOURS - 1)) * 24 * MINUTES_DAYS + bytes.minutes / APPS
    : seriesBytes * perDay * MINUTES_DAYS;
  const eventRows = await rows("events");
  const eventRowBytes = bytes.events / Math.max(1, eventRows);
  const eventsPerDay = (events / APPS) * perDay;
  // A build that packs finished days: pack everything but each app's newest event to weigh a
  // packed event (a day here holds only the simulated hours' events, so this overstates it).
  let eventSteady = eventRowBytes * eventsPerDay * EVENTS_DAYS;
  if (typeof readings.packEvents === "function") {
    const packed = await readings.packEvents(start + ticksPerRun * INTERVAL_MS + 2 * 86_400_000);
    const after = await tableBytes(store);
    const packedBytes = (after.event_days ?? 0) / Math.max(1, packed);
    // Rows live up to two days before their day is packed.
    eventSteady = eventRowBytes * eventsPerDay * 2 + packedBytes * eventsPerDay * (EVENTS_DAYS - 2);
  }
  const kinds = {
    ticks: {
      per_app_per_day_mb: mb(tickRowBytes * ticksPerDay),
      kept: packs ? "1 h (notable 48 h)" : "48 h",
      steady_mb: mb(tickSteady),
    },
    series: { per_app_per_day_mb: mb(seriesBytes * perDay), kept: `${MINUTES_DAYS} days`, steady_mb: mb(seriesSteady) },
    events: {
      per_app_per_day_mb: mb(eventRowBytes * eventsPerDay),
      kept: `${EVENTS_DAYS} days`,
      steady_mb: mb(eventSteady),
    },
  };
  const rest = tickSteady + seriesSteady + (bytes.latest ?? 0) / APPS;
  return {
    dialect,
    build: packs ? "compact storage" : "every tick, a row per minute",
    apps: APPS,
    hours: HOURS,
    change_every: CHANGE_EVERY,
    notable_share: Math.round((notable / ticks) * 1000) / 1000,
    kinds,
    steady_mb: mb(rest + eventSteady),
    steady_events_14d_mb: mb(rest + (eventSteady * 14) / EVENTS_DAYS),
  };
}

/** Bytes each table takes with its indexes (and TOAST in PostgreSQL), by table name. */
async function tableBytes(store) {
  const { sql } = await import("kysely");
  const out = {};
  if (store.dialect === "sqlite") {
    // Rebuilt without free space, as in PostgreSQL below: the live data, not what deletes left behind.
    await sql`VACUUM`.execute(store.db);
    await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(store.db);
    const r =
      await sql`SELECT m.tbl_name AS t, sum(d.pgsize) AS b FROM dbstat d JOIN sqlite_schema m ON m.name = d.name GROUP BY m.tbl_name`.execute(
        store.db,
      );
    for (const row of r.rows) out[row.t] = Number(row.b);
  } else {
    await sql`VACUUM FULL`.execute(store.db);
    const r =
      await sql`SELECT c.relname AS t, pg_total_relation_size(c.oid) AS b FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname = 'public'`.execute(
        store.db,
      );
    for (const row of r.rows) out[row.t] = Number(row.b);
  }
  return out;
}

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
