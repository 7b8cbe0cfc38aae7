import type { Kysely } from "kysely";
import type { Database } from "../db/schema.js";

export interface AppRow {
  id: number;
  name: string;
  version: number;
  paused: boolean;
  updatedAt: number;
}

export interface VersionRow {
  version: number;
  /** Stored form: literal secrets sealed. */
  config: Record<string, unknown>;
  author: string;
  comment: string | null;
  createdAt: number;
}

/** Saving lost a race: someone saved another version since `expected`. */
export class VersionConflict extends Error {
  constructor(
    readonly expected: number | null,
    readonly current: number | null,
  ) {
    super(`the config changed since version ${expected ?? "none"}: it is at version ${current ?? "none"} now`);
  }
}

const toApp = (r: { id: number; name: string; version: number; paused: number; updated_at: number }): AppRow => ({
  id: r.id,
  name: r.name,
  version: r.version,
  paused: r.paused === 1,
  updatedAt: r.updated_at,
});

/** Apps and their config versions. */
export class AppStore {
  constructor(private readonly db: Kysely<Database>) {}

  async count(): Promise<number> {
    const r = await this.db
      .selectFrom("apps")
      .select((eb) => eb.fn.countAll<number | string>().as("n"))
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /** Every app by name, or only those of `ids` (a page of the overview). */
  async list(ids?: readonly number[]): Promise<AppRow[]> {
    if (ids?.length === 0) return [];
    const rows = await this.db
      .selectFrom("apps")
      .select(["id", "name", "version", "paused", "updated_at"])
      .$if(ids !== undefined, (q) => q.where("id", "in", ids ?? []))
      .orderBy("name")
      .execute();
    return rows.map(toApp);
  }

  async get(name: string): Promise<AppRow | null> {
    const row = await this.db
      .selectFrom("apps")
      .select(["id", "name", "version", "paused", "updated_at"])
      .where("name", "=", name)
      .executeTakeFirst();
    return row ? toApp(row) : null;
  }

  /**
   * Saves a config as the app's next version (creating the app when new). With
   * `ifMatch`, only when the app is still at that version (0 or null: only when new).
   * The version bump is a compare-and-set, so two saves racing cannot both win.
   */
  async save(
    name: string,
    config: Record<string, unknown>,
    meta: {
      author: string;
      comment: string | null;
      now: number;
      ifMatch?: number | null;
      /** The event telling of this version: written in the same transaction, so no version is without its history. */
      event?: (app: AppRow, created: boolean) => { kind: string; message: string; data: Record<string, unknown> };
    },
  ): Promise<{ app: AppRow; created: boolean }> {
    // Without If-Match a save simply wins: a race lost to another save (PostgreSQL lets both
    // read the same version) is run again on top of the winner, never answered as a conflict.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#save(name, config, meta);
      } catch (e) {
        if (!(e instanceof VersionConflict) || (meta.ifMatch !== undefined && meta.ifMatch !== null) || attempt >= 5)
          throw e;
      }
    }
  }

  async #save(
    name: string,
    config: Record<string, unknown>,
    meta: Parameters<AppStore["save"]>[2],
  ): Promise<{ app: AppRow; created: boolean }> {
    return this.db.transaction().execute(async (tx) => {
      const existing = await tx
        .selectFrom("apps")
        .select(["id", "version"])
        .where("name", "=", name)
        .executeTakeFirst();
      if (meta.ifMatch !== undefined && meta.ifMatch !== null && (existing?.version ?? 0) !== meta.ifMatch)
        throw new VersionConflict(meta.ifMatch, existing?.version ?? null);
      let id: number;
      let version: number;
      if (!existing) {
        const row = await tx
          .insertInto("apps")
          .values({ name, version: 1, paused: 0, created_at: meta.now, updated_at: meta.now })
          .onConflict((oc) => oc.column("name").doNothing())
          .returning("id")
          .executeTakeFirst();
        if (!row) throw new VersionConflict(meta.ifMatch ?? null, 1);
        id = row.id;
        version = 1;
      } else {
        // With If-Match, only from the version read; without, from whatever version the row has
        // once this transaction holds it (PostgreSQL waits for a racing save, then adds one to its version).
        const matching = meta.ifMatch !== undefined && meta.ifMatch !== null;
        const bumped = await tx
          .updateTable("apps")
          .set((eb) => ({ version: eb("version", "+", 1), updated_at: meta.now }))
          .where("id", "=", existing.id)
          .$if(matching, (q) => q.where("version", "=", existing.version))
          .returning("version")
          .executeTakeFirst();
        if (!bumped) throw new VersionConflict(meta.ifMatch ?? existing.version, null);
        id = existing.id;
        version = bumped.version;
      }
      await tx
        .insertInto("config_versions")
        .values({
          app_id: id,
          version,
          config: JSON.stringify(config),
          author: meta.author,
          comment: meta.comment,
          created_at: meta.now,
        })
        .execute();
      const app = toApp(
        await tx
          .selectFrom("apps")
          .select(["id", "name", "version", "paused", "updated_at"])
          .where("id", "=", id)
          .executeTakeFirstOrThrow(),
      );
      if (meta.event) {
        const event = meta.event(app, !existing);
        await tx
          .insertInto("events")
          .values({
            app_id: id,
            time: meta.now,
            kind: event.kind,
            message: event.message,
            data: JSON.stringify(event.data),
          })
          .execute();
      }
      return { app, created: !existing };
    });
  }

  /** `scaler.dry_run` of each app's version in force (of the apps of `ids` when given). */
  async dryRuns(ids?: readonly number[]): Promise<Map<number, boolean>> {
    if (ids?.length === 0) return new Map();
    const rows = await this.db
      .selectFrom("apps")
      .innerJoin("config_versions", (j) =>
        j.onRef("config_versions.app_id", "=", "apps.id").onRef("config_versions.version", "=", "apps.version"),
      )
      .select(["apps.id", "config_versions.config"])
      .$if(ids !== undefined, (q) => q.where("apps.id", "in", ids ?? []))
      .execute();
    return new Map(
      rows.map((r) => [r.id, (JSON.parse(r.config) as { scaler?: { dry_run?: unknown } }).scaler?.dry_run === true]),
    );
  }

  async version(appId: number, version: number): Promise<VersionRow | null> {
    const row = await this.db
      .selectFrom("config_versions")
      .select(["version", "config", "author", "comment", "created_at"])
      .where("app_id", "=", appId)
      .where("version", "=", version)
      .executeTakeFirst();
    return row
      ? {
          version: row.version,
          config: JSON.parse(row.config),
          author: row.author,
          comment: row.comment,
          createdAt: row.created_at,
        }
      : null;
  }

  async versions(appId: number): Promise<VersionRow[]> {
    const rows = await this.db
      .selectFrom("config_versions")
      .select(["version", "config", "author", "comment", "created_at"])
      .where("app_id", "=", appId)
      .orderBy("version", "desc")
      .execute();
    return rows.map((row) => ({
      version: row.version,
      config: JSON.parse(row.config),
      author: row.author,
      comment: row.comment,
      createdAt: row.created_at,
    }));
  }

  async setPaused(appId: number, paused: boolean, now: number): Promise<void> {
    await this.db
      .updateTable("apps")
      .set({ paused: paused ? 1 : 0, updated_at: now })
      .where("id", "=", appId)
      .execute();
  }

  /** Deletes the app with its versions, readings and events. */
  async delete(appId: number): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      // Explicitly, not by cascade alone: SQLite enforces foreign keys only per connection setting.
      for (const table of [
        "ticks",
        "minutes",
        "minute_blocks",
        "latest",
        "events",
        "event_days",
        "config_versions",
        "drains",
        "drain_minutes",
        "notify_outbox",
        "heroku_webhooks",
        "heroku_webhook_events",
      ] as const)
        await tx.deleteFrom(table).where("app_id", "=", appId).execute();
      await tx.deleteFrom("apps").where("id", "=", appId).execute();
    });
  }
}
