import { promisify } from "node:util";
import { deflateRaw, inflateRaw } from "node:zlib";
import type { Kysely } from "kysely";
import type { Database } from "../db/schema.js";

/*
 * Events of finished days, packed: one row per app and UTC day holding that day's events as
 * deflated JSON. A row per event costs ~190 bytes (with its indexes) and a busy app has
 * hundreds a day for 90 days; a day packed costs a few bytes an event, since the events of
 * one app repeat the same words. The newest event of each app stays a row, so the overview's
 * "last event" is still one index look-up.
 */

export const DAY_MS = 24 * 60 * 60 * 1000;

export const dayOf = (time: number): number => Math.floor(time / DAY_MS) * DAY_MS;

/** One event as stored: the same fields as readings.ts's EventRow, without its app. */
interface Event {
  time: number;
  kind: string;
  message: string;
  data: Record<string, unknown>;
}
/** One packed event: [ms since the day began, kind, message, data]. */
type PackedEvent = [number, string, string, Record<string, unknown>];

const deflate = promisify(deflateRaw);
const inflate = promisify(inflateRaw);

export async function packEvents(day: number, events: readonly Event[]): Promise<string> {
  const entries: PackedEvent[] = events.map((e) => [e.time - day, e.kind, e.message, e.data]);
  return (await deflate(JSON.stringify(entries))).toString("base64");
}

export async function unpackEvents(day: number, packed: string): Promise<Event[]> {
  const entries = JSON.parse((await inflate(Buffer.from(packed, "base64"))).toString("utf8")) as PackedEvent[];
  return entries.map(([offset, kind, message, data]) => ({ time: day + offset, kind, message, data }));
}

/**
 * Packs the event rows of days that ended before the day holding `before` (each app's newest
 * event aside), merged with the day's block if there is one, and deletes the rows: a batch of
 * rows per transaction, so a first run over a database full of rows never holds a long lock.
 * Returns how many rows were packed.
 */
export async function packFinishedDays(db: Kysely<Database>, before: number, batchRows: number): Promise<number> {
  const cutoff = dayOf(before);
  let packed = 0;
  for (;;) {
    const done = await db.transaction().execute(async (tx) => {
      const rows = await tx
        .selectFrom("events")
        .select(["id", "app_id", "time", "kind", "message", "data"])
        .where("time", "<", cutoff)
        .where(({ eb, selectFrom }) =>
          eb(
            "id",
            "!=",
            selectFrom("events as newest")
              .select("newest.id")
              .whereRef("newest.app_id", "=", "events.app_id")
              .orderBy("newest.time", "desc")
              .orderBy("newest.id", "desc")
              .limit(1),
          ),
        )
        .orderBy("app_id")
        .orderBy("time")
        .orderBy("id")
        .limit(batchRows)
        .execute();
      const groups = new Map<string, { appId: number; day: number; ids: number[]; events: Event[] }>();
      for (const r of rows) {
        const day = dayOf(r.time);
        const key = `${r.app_id}:${day}`;
        const g = groups.get(key) ?? { appId: r.app_id, day, ids: [], events: [] };
        groups.set(key, g);
        g.ids.push(r.id);
        g.events.push({ time: r.time, kind: r.kind, message: r.message, data: JSON.parse(r.data) });
      }
      for (const g of groups.values()) {
        const existing = await tx
          .selectFrom("event_days")
          .select("packed")
          .where("app_id", "=", g.appId)
          .where("day", "=", g.day)
          .executeTakeFirst();
        const events = [...(existing ? await unpackEvents(g.day, existing.packed) : []), ...g.events].sort(
          (a, b) => a.time - b.time,
        );
        const block = { count: events.length, packed: await packEvents(g.day, events) };
        await tx
          .insertInto("event_days")
          .values({ app_id: g.appId, day: g.day, ...block })
          .onConflict((oc) =>
            oc.columns(["app_id", "day"]).doUpdateSet((eb) => ({
              count: eb.ref("excluded.count"),
              packed: eb.ref("excluded.packed"),
            })),
          )
          .execute();
        for (let i = 0; i < g.ids.length; i += 1000)
          await tx
            .deleteFrom("events")
            .where("id", "in", g.ids.slice(i, i + 1000))
            .execute();
      }
      packed += rows.length;
      return rows.length < batchRows;
    });
    if (done) return packed;
  }
}

/** An app's packed events after `since`, oldest first, at most `limit`. */
export async function packedEventsSince(
  db: Kysely<Database>,
  appId: number,
  since: number,
  limit: number,
): Promise<Event[]> {
  const out: Event[] = [];
  // Day by day, so a page of events never unpacks the whole 90 days.
  let from = dayOf(since);
  while (out.length < limit) {
    const blocks = await db
      .selectFrom("event_days")
      .select(["day", "packed"])
      .where("app_id", "=", appId)
      .where("day", ">=", from)
      .orderBy("day")
      .limit(7)
      .execute();
    for (const b of blocks) {
      for (const e of await unpackEvents(b.day, b.packed)) if (e.time > since && out.length < limit) out.push(e);
      from = b.day + DAY_MS;
    }
    if (blocks.length < 7) break;
  }
  return out;
}
