import type { Kysely } from "kysely";
import type { Database } from "../db/schema.js";
import { HOUR_MS, hourOf, type PackedMinute, packBlock, unpackBlock } from "./minute-blocks.js";

/*
 * The database side of packed hours (minute-blocks.ts packs and unpacks): turning finished
 * hours of minute rows into blocks, and cutting the block of the hour retention ends in.
 */

/**
 * Packs the minute rows of finished hours (before the hour holding `before`) into blocks,
 * merged with any block already stored for the hour, and deletes the rows: a batch of rows
 * per transaction, so a first run over an upgraded database never holds a long lock.
 * Returns how many minute rows were packed.
 */
export async function packFinishedHours(db: Kysely<Database>, before: number, batchRows: number): Promise<number> {
  const cutoff = hourOf(before);
  let packed = 0;
  for (;;) {
    const done = await db.transaction().execute(async (tx) => {
      const rows = await tx
        .selectFrom("minutes")
        .select(["app_id", "process_type", "minute", "dynos", "estimate", "sources"])
        .where("minute", "<", cutoff)
        .orderBy("app_id")
        .orderBy("process_type")
        .orderBy("minute")
        .limit(batchRows)
        .execute();
      const groups = new Map<string, { appId: number; type: string; start: number; minutes: PackedMinute[] }>();
      for (const r of rows) {
        const start = hourOf(r.minute);
        const key = `${r.app_id}:${r.process_type}:${start}`;
        const g = groups.get(key) ?? { appId: r.app_id, type: r.process_type, start, minutes: [] };
        groups.set(key, g);
        g.minutes.push({ minute: r.minute, dynos: r.dynos, estimate: r.estimate, sources: JSON.parse(r.sources) });
      }
      for (const g of groups.values()) {
        const existing = await tx
          .selectFrom("minute_blocks")
          .select(["names", "dynos", "estimate", "sources"])
          .where("app_id", "=", g.appId)
          .where("process_type", "=", g.type)
          .where("start", "=", g.start)
          .executeTakeFirst();
        const block = packBlock(g.start, [...(existing ? unpackBlock(g.start, existing) : []), ...g.minutes]);
        await tx
          .insertInto("minute_blocks")
          .values({ app_id: g.appId, process_type: g.type, start: g.start, ...block })
          .onConflict((oc) =>
            oc.columns(["app_id", "process_type", "start"]).doUpdateSet((eb) => ({
              names: eb.ref("excluded.names"),
              dynos: eb.ref("excluded.dynos"),
              estimate: eb.ref("excluded.estimate"),
              sources: eb.ref("excluded.sources"),
            })),
          )
          .execute();
        await tx
          .deleteFrom("minutes")
          .where("app_id", "=", g.appId)
          .where("process_type", "=", g.type)
          .where("minute", ">=", g.start)
          .where("minute", "<", g.start + HOUR_MS)
          .execute();
      }
      packed += rows.length;
      return rows.length < batchRows;
    });
    if (done) return packed;
  }
}

/** The blocks of the hour `cutoff` falls in keep only their minutes from `cutoff` on (none left: deleted). */
export async function trimHourAt(db: Kysely<Database>, cutoff: number): Promise<void> {
  const straddling = await db
    .selectFrom("minute_blocks")
    .select(["app_id", "process_type", "start", "names", "dynos", "estimate", "sources"])
    .where("start", ">", cutoff - HOUR_MS)
    .where("start", "<", cutoff)
    .execute();
  for (const b of straddling) {
    const kept = unpackBlock(b.start, b).filter((m) => m.minute >= cutoff);
    if (kept.length > 0)
      await db
        .updateTable("minute_blocks")
        .set(packBlock(b.start, kept))
        .where("app_id", "=", b.app_id)
        .where("process_type", "=", b.process_type)
        .where("start", "=", b.start)
        .execute();
    else
      await db
        .deleteFrom("minute_blocks")
        .where("app_id", "=", b.app_id)
        .where("process_type", "=", b.process_type)
        .where("start", "=", b.start)
        .execute();
  }
}
