import { type Kysely, sql } from "kysely";
import type { Database } from "../db/schema.js";

export interface TickRow {
  appId: number;
  time: number;
  processType: string;
  report: unknown;
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
   * Each app's newest tick: one report per process type (by name). A type
   * whose report is older than the app's newest tick is no longer in its config, and left out.
   */
  async latest(): Promise<Map<number, unknown[]>> {
    const rows = await this.db
      .selectFrom("latest")
      .select(["app_id", "time", "report"])
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

  /** An app's per-minute rows in `[since, until)`, oldest first; only those of `processTypes` when given. */
  async minutes(
    appId: number,
    since: number,
    until: number,
    limit: number,
    processTypes?: readonly string[],
  ): Promise<Omit<MinuteRow, "appId">[]> {
    if (processTypes?.length === 0) return [];
    const rows = await this.db
      .selectFrom("minutes")
      .select(["process_type", "minute", "dynos", "estimate", "sources"])
      .where("app_id", "=", appId)
      .where("minute", ">=", since)
      .where("minute", "<", until)
      .$if(processTypes !== undefined, (q) => q.where("process_type", "in", processTypes ?? []))
      .orderBy("minute")
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      processType: r.process_type,
      minute: r.minute,
      dynos: r.dynos,
      estimate: r.estimate,
      sources: JSON.parse(r.sources),
    }));
  }

  async events(appId: number, since: number, limit: number): Promise<Omit<EventRow, "appId">[]> {
    const rows = await this.db
      .selectFrom("events")
      .select(["time", "kind", "message", "data"])
      .where("app_id", "=", appId)
      .where("time", ">", since)
      .orderBy("time")
      .orderBy("id")
      .limit(limit)
      .execute();
    return rows.map((r) => ({ time: r.time, kind: r.kind, message: r.message, data: JSON.parse(r.data) }));
  }

  /**
   * Each app's dynos since `since`, in `count` buckets of `stepMs`: the most dynos (all process
   * types added up) in each bucket, null where nothing was stored. One query for every app: the
   * overview's sparklines.
   */
  async dynosSeries(since: number, stepMs: number, count: number): Promise<Map<number, (number | null)[]>> {
    // Literals, not parameters: integers both dialects divide as integers (they are computed, never input).
    const bucket = sql<number>`(m.minute - ${sql.lit(Math.trunc(since))}) / ${sql.lit(Math.trunc(stepMs))}`;
    const perMinute = this.db
      .selectFrom("minutes")
      .select((eb) => ["app_id", "minute", eb.fn.sum<number | null>("dynos").as("total")])
      .where("minute", ">=", since)
      .where("minute", "<", since + stepMs * count)
      .groupBy(["app_id", "minute"]);
    const rows = await this.db
      .selectFrom(perMinute.as("m"))
      .select((eb) => ["m.app_id", bucket.as("bucket"), eb.fn.max("m.total").as("dynos")])
      .groupBy(["m.app_id", bucket])
      .execute();
    const out = new Map<number, (number | null)[]>();
    for (const r of rows) {
      const series = out.get(r.app_id) ?? Array.from({ length: count }, () => null);
      if (r.dynos !== null) series[Number(r.bucket)] = Number(r.dynos);
      out.set(r.app_id, series);
    }
    return out;
  }

  /** Each app's newest event. */
  async lastEvents(): Promise<Map<number, Omit<EventRow, "appId" | "data">>> {
    const newest = this.db
      .selectFrom("events")
      .select((eb) => eb.fn.max("id").as("id"))
      .groupBy("app_id");
    const rows = await this.db
      .selectFrom("events")
      .select(["app_id", "time", "kind", "message"])
      .where("id", "in", newest)
      .execute();
    return new Map(rows.map((r) => [r.app_id, { time: r.time, kind: r.kind, message: r.message }]));
  }

  /** Deletes what is older than its retention; returns how many rows of each kind went. */
  async prune(now: number, retention: Retention): Promise<{ ticks: number; minutes: number; events: number }> {
    const ticks = await this.db
      .deleteFrom("ticks")
      .where("time", "<", now - retention.ticksMs)
      .executeTakeFirst();
    const minutes = await this.db
      .deleteFrom("minutes")
      .where("minute", "<", now - retention.minutesMs)
      .executeTakeFirst();
    const events = await this.db
      .deleteFrom("events")
      .where("time", "<", now - retention.eventsMs)
      .executeTakeFirst();
    return {
      ticks: Number(ticks.numDeletedRows),
      minutes: Number(minutes.numDeletedRows),
      events: Number(events.numDeletedRows),
    };
  }
}
