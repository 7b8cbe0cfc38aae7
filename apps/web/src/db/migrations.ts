import type { Kysely } from "kysely";
import { type Migration, Migrator } from "kysely/migration";

export type Dialect = "sqlite" | "postgres";

/*
 * One set of migrations for both dialects. The only difference is how a row id is made:
 * `serial` in PostgreSQL, SQLite's `integer primary key` (an alias of the rowid).
 * Migrations are append-only: never edit one that has shipped, add the next.
 */
export function migrations(dialect: Dialect): Record<string, Migration> {
  const id = dialect === "postgres" ? "serial" : "integer";
  return {
    "0001_initial": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("apps")
          .addColumn("id", id, (c) => c.primaryKey())
          .addColumn("name", "text", (c) => c.notNull().unique())
          .addColumn("version", "integer", (c) => c.notNull())
          .addColumn("paused", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addColumn("updated_at", "bigint", (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("config_versions")
          .addColumn("app_id", "integer", (c) => c.notNull().references("apps.id").onDelete("cascade"))
          .addColumn("version", "integer", (c) => c.notNull())
          .addColumn("config", "text", (c) => c.notNull())
          .addColumn("author", "text", (c) => c.notNull())
          .addColumn("comment", "text")
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addPrimaryKeyConstraint("config_versions_pk", ["app_id", "version"])
          .execute();
        await db.schema
          .createTable("ticks")
          .addColumn("app_id", "integer", (c) => c.notNull().references("apps.id").onDelete("cascade"))
          .addColumn("time", "bigint", (c) => c.notNull())
          .addColumn("process_type", "text", (c) => c.notNull())
          .addColumn("report", "text", (c) => c.notNull())
          .execute();
        await db.schema.createIndex("ticks_app_time").on("ticks").columns(["app_id", "time"]).execute();
        await db.schema.createIndex("ticks_time").on("ticks").column("time").execute();
        await db.schema
          .createTable("minutes")
          .addColumn("app_id", "integer", (c) => c.notNull().references("apps.id").onDelete("cascade"))
          .addColumn("process_type", "text", (c) => c.notNull())
          .addColumn("minute", "bigint", (c) => c.notNull())
          .addColumn("dynos", "integer")
          .addColumn("estimate", "integer")
          .addColumn("sources", "text", (c) => c.notNull())
          .addPrimaryKeyConstraint("minutes_pk", ["app_id", "process_type", "minute"])
          .execute();
        await db.schema.createIndex("minutes_minute").on("minutes").column("minute").execute();
        await db.schema
          .createTable("latest")
          .addColumn("app_id", "integer", (c) => c.primaryKey().references("apps.id").onDelete("cascade"))
          .addColumn("time", "bigint", (c) => c.notNull())
          .addColumn("report", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("events")
          .addColumn("id", id, (c) => c.primaryKey())
          .addColumn("app_id", "integer", (c) => c.notNull().references("apps.id").onDelete("cascade"))
          .addColumn("time", "bigint", (c) => c.notNull())
          .addColumn("kind", "text", (c) => c.notNull())
          .addColumn("message", "text", (c) => c.notNull())
          .addColumn("data", "text", (c) => c.notNull())
          .execute();
        await db.schema.createIndex("events_app_time").on("events").columns(["app_id", "time"]).execute();
        await db.schema.createIndex("events_time").on("events").column("time").execute();
        await db.schema
          .createTable("users")
          .addColumn("id", id, (c) => c.primaryKey())
          .addColumn("name", "text", (c) => c.notNull().unique())
          .addColumn("password_hash", "text", (c) => c.notNull())
          .addColumn("is_admin", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("sessions")
          .addColumn("id_hash", "text", (c) => c.primaryKey())
          .addColumn("user_id", "integer", (c) => c.notNull().references("users.id").onDelete("cascade"))
          .addColumn("csrf_token", "text", (c) => c.notNull())
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addColumn("expires_at", "bigint", (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("api_tokens")
          .addColumn("id", id, (c) => c.primaryKey())
          .addColumn("name", "text", (c) => c.notNull())
          .addColumn("token_hash", "text", (c) => c.notNull().unique())
          .addColumn("created_by", "integer", (c) => c.references("users.id").onDelete("set null"))
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addColumn("last_used_at", "bigint")
          .execute();
        await db.schema
          .createTable("instances")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("host", "text", (c) => c.notNull())
          .addColumn("pid", "integer", (c) => c.notNull())
          .addColumn("started_at", "bigint", (c) => c.notNull())
          .addColumn("seen_at", "bigint", (c) => c.notNull())
          .addColumn("apps", "text", (c) => c.notNull())
          .execute();
      },
    },
    // Several process types per app: the newest report of each, not of the app.
    "0002_latest_per_process": {
      async up(db: Kysely<unknown>) {
        // `latest` only caches the newest ticks: the next tick fills it again.
        await db.schema.dropTable("latest").execute();
        await db.schema
          .createTable("latest")
          .addColumn("app_id", "integer", (c) => c.notNull().references("apps.id").onDelete("cascade"))
          .addColumn("process_type", "text", (c) => c.notNull())
          .addColumn("time", "bigint", (c) => c.notNull())
          .addColumn("report", "text", (c) => c.notNull())
          .addPrimaryKeyConstraint("latest_pk", ["app_id", "process_type"])
          .execute();
      },
    },
    // Each app's log drain URL: its token hashed (to find the app of a delivery) and sealed (to show it again).
    "0003_drains": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("drains")
          .addColumn("app_id", "integer", (c) => c.primaryKey().references("apps.id").onDelete("cascade"))
          .addColumn("token_hash", "text", (c) => c.notNull().unique())
          .addColumn("token_sealed", "text", (c) => c.notNull())
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .execute();
      },
    },
    // Each minute of each app's drain, as one server process aggregated it (written after the minute).
    "0004_drain_minutes": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("drain_minutes")
          .addColumn("app_id", "integer", (c) => c.notNull().references("apps.id").onDelete("cascade"))
          .addColumn("minute", "bigint", (c) => c.notNull())
          .addColumn("instance", "text", (c) => c.notNull())
          .addColumn("requests", "integer", (c) => c.notNull())
          .addColumn("service_p50", "real")
          .addColumn("service_p95", "real")
          .addColumn("service_p99", "real")
          .addColumn("service_max", "real")
          .addColumn("connect_mean", "real")
          .addColumn("queue_n", "integer", (c) => c.notNull())
          .addColumn("queue_p50", "real")
          .addColumn("queue_p95", "real")
          .addColumn("queue_max", "real")
          .addColumn("statuses", "text", (c) => c.notNull())
          .addColumn("errors", "text", (c) => c.notNull())
          .addColumn("messages", "integer", (c) => c.notNull())
          .addPrimaryKeyConstraint("drain_minutes_pk", ["app_id", "minute", "instance"])
          .execute();
        await db.schema.createIndex("drain_minutes_minute").on("drain_minutes").column("minute").execute();
      },
    },
    // API tokens may expire.
    "0005_token_expiry": {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable("api_tokens").addColumn("expires_at", "bigint").execute();
      },
    },
    // Compact storage (issue 27; 0005 is the tokens' expiry): most ticks only for a recent window, finished hours of the
    // per-minute series packed into one row per app, process type and hour.
    "0006_compact_readings": {
      async up(db: Kysely<unknown>) {
        // Ticks stored before kept their 48 h: they count as notable.
        await db.schema
          .alterTable("ticks")
          .addColumn("notable", "integer", (c) => c.notNull().defaultTo(1))
          .execute();
        // Pruning deletes by (notable, time): one index range per kind, never a scan of the kept ones.
        await db.schema.createIndex("ticks_notable_time").on("ticks").columns(["notable", "time"]).execute();
        await db.schema.dropIndex("ticks_time").execute();
        await db.schema
          .createTable("minute_blocks")
          .addColumn("app_id", "integer", (c) => c.notNull().references("apps.id").onDelete("cascade"))
          .addColumn("process_type", "text", (c) => c.notNull())
          .addColumn("start", "bigint", (c) => c.notNull())
          .addColumn("names", "text", (c) => c.notNull())
          .addColumn("dynos", "text", (c) => c.notNull())
          .addColumn("estimate", "text", (c) => c.notNull())
          .addColumn("sources", "text", (c) => c.notNull())
          .addPrimaryKeyConstraint("minute_blocks_pk", ["app_id", "process_type", "start"])
          .execute();
        await db.schema.createIndex("minute_blocks_start").on("minute_blocks").column("start").execute();
      },
    },
    // Each app's Heroku webhook: its URL's token (hashed to find the app, sealed to show the URL again) and
    // the secret deliveries are signed with (sealed); and the events taken, so a retried one counts once.
    "0007_heroku_webhooks": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("heroku_webhooks")
          .addColumn("app_id", "integer", (c) => c.primaryKey().references("apps.id").onDelete("cascade"))
          .addColumn("token_hash", "text", (c) => c.notNull().unique())
          .addColumn("token_sealed", "text", (c) => c.notNull())
          .addColumn("secret_sealed", "text", (c) => c.notNull())
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("heroku_webhook_events")
          .addColumn("app_id", "integer", (c) => c.notNull().references("apps.id").onDelete("cascade"))
          .addColumn("event_id", "text", (c) => c.notNull())
          .addColumn("received_at", "bigint", (c) => c.notNull())
          .addPrimaryKeyConstraint("heroku_webhook_events_pk", ["app_id", "event_id"])
          .execute();
        await db.schema
          .createIndex("heroku_webhook_events_received")
          .on("heroku_webhook_events")
          .column("received_at")
          .execute();
      },
    },
    // One Platform API budget per Heroku key (issue 23): each server process's use of each key (its hash, never
    // the key), so the processes sharing a database space their formation reads to one budget.
    "0008_api_budget": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("api_budgets")
          .addColumn("instance", "text", (c) => c.notNull())
          .addColumn("account", "text", (c) => c.notNull())
          .addColumn("apps", "integer", (c) => c.notNull())
          .addColumn("wanted_per_hour", "real", (c) => c.notNull())
          .addColumn("changes_per_hour", "integer", (c) => c.notNull())
          .addColumn("seen_at", "bigint", (c) => c.notNull())
          .addPrimaryKeyConstraint("api_budgets_pk", ["instance", "account"])
          .execute();
      },
    },
    // `notify:` messages not delivered yet (issue 23), so a restart loses none: one row per event and
    // target, kept until delivered or a day old. The target is its hash (host's targetKeys), never its URL.
    "0009_notify_outbox": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("notify_outbox")
          .addColumn("seq", id, (c) => c.primaryKey())
          .addColumn("app_id", "integer", (c) => c.notNull().references("apps.id").onDelete("cascade"))
          .addColumn("event_id", "text", (c) => c.notNull().unique())
          .addColumn("target", "text", (c) => c.notNull())
          .addColumn("event", "text", (c) => c.notNull())
          .addColumn("message_id", "text")
          .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("next_at", "bigint", (c) => c.notNull().defaultTo(0))
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .execute();
        await db.schema.createIndex("notify_outbox_app_seq").on("notify_outbox").columns(["app_id", "seq"]).execute();
      },
    },
    // Apps spread across server processes (issue 27): each instance says its fair share.
    "0010_instance_share": {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable("instances").addColumn("share", "integer").execute();
      },
    },
    "0011_event_days": {
      async up(db: Kysely<unknown>) {
        // Events of finished days, one row per app and day: a busy app's 90 days of history fit in
        // under a megabyte instead of the several a row per event takes.
        await db.schema
          .createTable("event_days")
          .addColumn("app_id", "integer", (c) => c.notNull().references("apps.id").onDelete("cascade"))
          .addColumn("day", "bigint", (c) => c.notNull())
          .addColumn("count", "integer", (c) => c.notNull())
          .addColumn("packed", "text", (c) => c.notNull())
          .addPrimaryKeyConstraint("event_days_pk", ["app_id", "day"])
          .execute();
        await db.schema.createIndex("event_days_day").on("event_days").column("day").execute();
      },
    },
  };
}

/** Brings the schema up to date; throws (naming the migration) when one fails. */
export async function migrate(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const all = migrations(dialect);
  const migrator = new Migrator({ db, provider: { getMigrations: async () => all } });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === "Error");
  if (error)
    throw new Error(`database migration ${failed?.migrationName ?? ""} failed: ${(error as Error).message ?? error}`, {
      cause: error,
    });
}
