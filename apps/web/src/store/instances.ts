import type { Kysely } from "kysely";
import type { Database } from "../db/schema.js";

export interface InstanceRow {
  id: string;
  host: string;
  pid: number;
  startedAt: number;
  seenAt: number;
  apps: string[];
  /** The process's fair share of the apps, as it saw it (null from a version that did not say). */
  share: number | null;
}

/** Server processes sharing the database, each saying which apps it scales. */
export class InstanceStore {
  constructor(private readonly db: Kysely<Database>) {}

  async heartbeat(row: InstanceRow): Promise<void> {
    await this.db
      .insertInto("instances")
      .values({
        id: row.id,
        host: row.host,
        pid: row.pid,
        started_at: row.startedAt,
        seen_at: row.seenAt,
        apps: JSON.stringify(row.apps),
        share: row.share,
      })
      .onConflict((oc) =>
        oc.column("id").doUpdateSet({ seen_at: row.seenAt, apps: JSON.stringify(row.apps), share: row.share }),
      )
      .execute();
  }

  async live(since: number): Promise<InstanceRow[]> {
    const rows = await this.db
      .selectFrom("instances")
      .selectAll()
      .where("seen_at", ">=", since)
      .orderBy("started_at")
      .execute();
    return rows.map((r) => ({
      id: r.id,
      host: r.host,
      pid: r.pid,
      startedAt: r.started_at,
      seenAt: r.seen_at,
      apps: JSON.parse(r.apps),
      share: r.share ?? null,
    }));
  }

  async remove(id: string): Promise<void> {
    await this.db.deleteFrom("instances").where("id", "=", id).execute();
  }

  async prune(before: number): Promise<void> {
    await this.db.deleteFrom("instances").where("seen_at", "<", before).execute();
  }
}
