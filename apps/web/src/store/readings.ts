import { type Kysely, sql } from "kysely";
import type { Database } from "../db/schema.js";
import { DAY_MS, packedEventsSince, packFinishedDays } from "./event-days.js";
import { blockDynos, HOUR_MS, unpackBlock } from "./minute-blocks.js";
import { packFinishedHours, trimHourAt } from "./packed-hours.js";

export interface TickRow {
  appId: number;
  time: number;
  processType: string;
  report: unknown;
  /** Something happened (see isNotable): kept `ticksMs`; the others only `recentTicksMs`. Default true. */
  notable?: boolean;
}

export interface MinuteRow {
  appId: number;
  processType: string;
  minute: number;
  dynos: number | null;
  estimate: number | null;
  sources: { name: string; value: number | null; estimate: number | null; health: string }[];
}

export interface EventRow {
  appId: number;
  time: number;
  kind: string;
  message: string;
  data: Record<string, unknown>;
}

/** How long each kind of row is kept. */
export interface Retention {
  /** Every tick, notable or not, is kept this long (the live view's catch-up, the recent ticks). */
  recentTicksMs: number;
  /** Notable ticks (a change, a refusal, an error, a source not ok). */
  ticksMs: number;
  minutesMs: number;
  eventsMs: number;
}

/**
 * Rows per multi-row INSERT: SQLite allows 32,766 bound values in one statement (PostgreSQL
 * 65,535), so a batch of 8,192 four-column ticks in one statement fails. 1,000 rows of up to
 * five columns stay far below both.
 */
const CHUNK_ROWS = 1000;

function chunks<T>(rows: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += CHUNK_ROWS) out.push(rows.slice(i, i + CHUNK_ROWS));
  return out;
}

/** Tick reports, per-minute series, the latest report per app, and events. */
export class ReadingStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** Writes a batch in one transaction: a second's worth of ticks of every app costs one commit. */
  async write(batch: { ticks: TickRow[]; minutes: MinuteRow[]; events: EventRow[] }): Promise<void> {
    if (batch.ticks.length + batch.minutes.length + batch.events.length === 0) return;
    await this.db.transaction().execute(async (tx) => {
      if (batch.ticks.length > 0) {
        for (const rows of chunks(batch.ticks))
          await tx
            .insertInto("ticks")
            .values(
              rows.map((t) => ({
                app_id: t.appId,
                time: t.time,
                process_type: t.processType,
                report: JSON.stringify(t.report),
                notable: t.notable === false ? 0 : 1,
              })),
            )
            .execute();
        // The newest report per app and process type, for listing apps without scanning ticks.
        const newest = new Map<string, TickRow>();
        for (const t of batch.ticks) {
          const key = `${t.appId}:${t.processType}`;
          if ((newest.get(key)?.time ?? -1) <= t.time) newest.set(key, t);
        }
        for (const t of newest.values()) {
          await tx
            .insertInto("latest")
            .values({ app_id: t.appId, process_type: t.processType, time: t.time, report: JSON.stringify(t.report) })
            .onConflict((oc) =>
              oc
                .columns(["app_id", "process_type"])
                .doUpdateSet((eb) => ({ time: eb.ref("excluded.time"), report: eb.ref("excluded.report") })),
            )
            .execute();
        }
      }
      for (const m of batch.minutes) {
        await tx
          .insertInto("minutes")
          .values({
            app_id: m.appId,
            process_type: m.processType,
            minute: m.minute,
            dynos: m.dynos,
            estimate: m.estimate,
            sources: JSON.stringify(m.sources),
          })
          .onConflict((oc) =>
            oc.columns(["app_id", "process_type", "minute"]).doUpdateSet((eb) => ({
              dynos: eb.ref("excluded.dynos"),
              estimate: eb.ref("excluded.estimate"),
              sources: eb.ref("excluded.sources"),
            })),
          )
          .execute();
      }
      for (const rows of chunks(batch.events)) {
        await tx
          .insertInto("events")
          .values(
            rows.map((e) => ({
              app_id: e.appId,
              time: e.time,
              kind: e.kind,
              message: e.message,
              data: JSON.stringify(e.data),
            })),
          )
          .execute();
      }
    });
  }

  /**
   * Each app's (or each of `appIds`') newest tick: one report per process type (by name). A type
   * whose report is older than the app's newest tick is no longer in its config, and left out.
   */
  async latest(appIds?: readonly number[]): Promise<Map<number, unknown[]>> {
    if (appIds?.length === 0) return new Map();
    const rows = await this.db
      .selectFrom("latest")
      .select(["app_id", "time", "report"])
      .$if(appIds !== undefined, (q) => q.where("app_id", "in", appIds ?? []))
      .orderBy("app_id")
      .orderBy("process_type")
      .execute();
    const newest = new Map<number, number>();
    for (const r of rows) newest.set(r.app_id, Math.max(newest.get(r.app_id) ?? 0, r.time));
    const out = new Map<number, unknown[]>();
    for (const r of rows) {
      if (r.time !== newest.get(r.app_id)) continue;
      out.set(r.app_id, [...(out.get(r.app_id) ?? []), JSON.parse(r.report)]);
    }
    return out;
  }

  async ticks(appId: number, since: number, limit: number): Promise<{ time: number; report: unknown }[]> {
    const rows = await this.db
      .selectFrom("ticks")
      .select(["time", "report"])
      .where("app_id", "=", appId)
      .where("time", ">", since)
      .orderBy("time")
      .limit(limit)
      .execute();
    return rows.map((r) => ({ time: r.time, report: JSON.parse(r.report) }));
  }

  /**
   * An app's per-minute rows in `[since, until)`, oldest first (process types by name within a
   * minute); only those of `processTypes` when given. Finished hours come from the packed
   * blocks, the last hour or so from the minute rows; a minute in both is the row's.
   */
  async minutes(
    appId: number,
    since: number,
    until: number,
    limit: number,
    processTypes?: readonly string[],
  ): Promise<Omit<MinuteRow, "appId">[]> {
    if (processTypes?.length === 0) return [];
    const [blocks, rows] = await Promise.all([
      this.db
        .selectFrom("minute_blocks")
        .select(["process_type", "start", "names", "dynos", "estimate", "sources"])
        .where("app_id", "=", appId)
        .where("start", ">", since - HOUR_MS)
        .where("start", "<", until)
        .$if(processTypes !== undefined, (q) => q.where("process_type", "in", processTypes ?? []))
        .execute(),
      this.db
        .selectFrom("minutes")
        .select(["process_type", "minute", "dynos", "estimate", "sources"])
        .where("app_id", "=", appId)
        .where("minute", ">=", since)
        .where("minute", "<", until)
        .$if(processTypes !== undefined, (q) => q.where("process_type", "in", processTypes ?? []))
        .orderBy("minute")
        .limit(limit)
        .execute(),
    ]);
    const byKey = new Map<string, Omit<MinuteRow, "appId">>();
    for (const b of blocks)
      for (const m of unpackBlock(b.start, b))
        if (m.minute >= since && m.minute < until)
          byKey.set(`${m.minute}:${b.process_type}`, { processType: b.process_type, ...m });
    for (const r of rows)
      byKey.set(`${r.minute}:${r.process_type}`, {
        processType: r.process_type,
        minute: r.minute,
        dynos: r.dynos,
        estimate: r.estimate,
        sources: JSON.parse(r.sources),
      });
    return [...byKey.values()]
      .sort(
        (a, b) => a.minute - b.minute || (a.processType < b.processType ? -1 : a.processType > b.processType ? 1 : 0),
      )
      .slice(0, limit);
  }

  /**
   * Packs the minute rows of finished hours (before the hour holding `before`) into blocks, a
   * batch of rows per transaction; returns how many minute rows were packed (see packed-hours).
   */
  compact(before: number, batchRows = 5000): Promise<number> {
    return packFinishedHours(this.db, before, batchRows);
  }

  /** Packs the events of days that ended before the day holding `before` (see event-days.ts). */
  packEvents(before: number, batchRows = 5000): Promise<number> {
    return packFinishedDays(this.db, before, batchRows);
  }

  /** An app's events after `since`, oldest first: packed days, then rows. */
  async events(appId: number, since: number, limit: number): Promise<Omit<EventRow, "appId">[]> {
    // Rows first: a day packed between the two reads then shows up twice (and is deduplicated),
    // never not at all.
    const rows = (
      await this.db
        .selectFrom("events")
        .select(["time", "kind", "message", "data"])
        .where("app_id", "=", appId)
        .where("time", ">", since)
        .orderBy("time")
        .orderBy("id")
        .limit(limit)
        .execute()
    ).map((r) => ({ time: r.time, kind: r.kind, message: r.message, data: JSON.parse(r.data) }));
    const seen = new Set(rows.map((r) => `${r.time}|${r.kind}|${r.message}`));
    const packed = (await packedEventsSince(this.db, appId, since, limit)).filter(
      (e) => !seen.has(`${e.time}|${e.kind}|${e.message}`),
    );
    return [...packed, ...rows].slice(0, limit);
  }

  /**
   * The apps' dynos since `since`, in `count` buckets of `stepMs`: the most dynos (all process
   * types added up) in each bucket, null where nothing was stored. Two queries for the apps
   * asked for (a page of the overview): their packed hours and their recent minute rows.
   */
  async dynosSeries(
    appIds: readonly number[],
    since: number,
    stepMs: number,
    count: number,
  ): Promise<Map<number, (number | null)[]>> {
    const out = new Map<number, (number | null)[]>();
    if (appIds.length === 0) return out;
    const until = since + stepMs * count;
    const [blocks, rows] = await Promise.all([
      this.db
        .selectFrom("minute_blocks")
        .select(["app_id", "process_type", "start", "dynos"])
        .where("app_id", "in", appIds)
        .where("start", ">", since - HOUR_MS)
        .where("start", "<", until)
        .execute(),
      this.db
        .selectFrom("minutes")
        .select(["app_id", "process_type", "minute", "dynos"])
        .where("app_id", "in", appIds)
        .where("minute", ">=", since)
        .where("minute", "<", until)
        .execute(),
    ]);
    // Per app and minute, per process type (a row overrides its packed copy), then summed.
    const perMinute = new Map<number, Map<number, Map<string, number | null>>>();
    const put = (app: number, minute: number, type: string, dynos: number | null) => {
      if (minute < since || minute >= until) return;
      const minutes = perMinute.get(app) ?? new Map<number, Map<string, number | null>>();
      perMinute.set(app, minutes);
      const types = minutes.get(minute) ?? new Map<string, number | null>();
      minutes.set(minute, types);
      types.set(type, dynos);
    };
    for (const b of blocks) {
      // A minute without dynos adds nothing to a total, stored or not.
      blockDynos(b).forEach((d, i) => {
        if (d !== null) put(b.app_id, b.start + i * 60_000, b.process_type, d);
      });
    }
    for (const r of rows) put(r.app_id, r.minute, r.process_type, r.dynos);
    for (const [app, minutes] of perMinute) {
      const series: (number | null)[] = Array.from({ length: count }, () => null);
      for (const [minute, types] of minutes) {
        let total: number | null = null;
        for (const d of types.values()) if (d !== null) total = (total ?? 0) + d;
        if (total === null) continue;
        const i = Math.floor((minute - since) / stepMs);
        series[i] = Math.max(series[i] ?? total, total);
      }
      out.set(app, series);
    }
    return out;
  }

  /** The newest event of each app of `appIds` (one indexed look-up each, by the events' (app_id, time) index). */
  async lastEvents(appIds: readonly number[]): Promise<Map<number, Omit<EventRow, "appId" | "data">>> {
    if (appIds.length === 0) return new Map();
    // Per app, the top of its (app_id, time) index: never a scan of its 90 days of events.
    const newest = this.db
      .selectFrom("apps")
      .select(
        sql<number>`(select e.id from events e where e.app_id = apps.id order by e.time desc, e.id desc limit 1)`.as(
          "id",
        ),
      )
      .where("apps.id", "in", appIds);
    const rows = await this.db
      .selectFrom("events")
      .select(["app_id", "time", "kind", "message"])
      .where("id", "in", newest)
      .execute();
    return new Map(rows.map((r) => [r.app_id, { time: r.time, kind: r.kind, message: r.message }]));
  }

  /** Deletes what is older than its retention; returns how many rows of each kind went (a packed hour is one). */
  async prune(now: number, retention: Retention): Promise<{ ticks: number; minutes: number; events: number }> {
    const recent = await this.db
      .deleteFrom("ticks")
      .where("notable", "=", 0)
      .where("time", "<", now - retention.recentTicksMs)
      .executeTakeFirst();
    const ticks = await this.db
      .deleteFrom("ticks")
      .where("notable", "=", 1)
      .where("time", "<", now - retention.ticksMs)
      .executeTakeFirst();
    const cutoff = now - retention.minutesMs;
    const minutes = await this.db.deleteFrom("minutes").where("minute", "<", cutoff).executeTakeFirst();
    const blocks = await this.db
      .deleteFrom("minute_blocks")
      .where("start", "<=", cutoff - HOUR_MS)
      .executeTakeFirst();
    await trimHourAt(this.db, cutoff);
    const events = await this.db
      .deleteFrom("events")
      .where("time", "<", now - retention.eventsMs)
      .executeTakeFirst();
    // A packed day goes once all of it is past retention (a day's events live up to a day longer).
    const days = await this.db
      .deleteFrom("event_days")
      .where("day", "<=", now - retention.eventsMs - DAY_MS)
      .executeTakeFirst();
    return {
      ticks: Number(recent.numDeletedRows) + Number(ticks.numDeletedRows),
      minutes: Number(minutes.numDeletedRows) + Number(blocks.numDeletedRows),
      events: Number(events.numDeletedRows) + Number(days.numDeletedRows),
    };
  }
}
