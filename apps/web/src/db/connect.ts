import { describeDatabase, herokuPostgresSsl } from "@dynosaur/host";
import { Kysely, PostgresDialect, SqliteDialect } from "kysely";
import pg from "pg";
import { type Dialect, migrate } from "./migrations.js";
import type { Database } from "./schema.js";
import { openSqlite } from "./sqlite.js";

export type { Dialect };

export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  /** `host:port/db`, or the SQLite file: never a password. */
  where: string;
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  /** PostgreSQL URL (Heroku's DATABASE_URL); without it, the SQLite `file`. */
  databaseUrl?: string;
  /** @default "dynosaur.db" */
  file?: string;
  /** PostgreSQL pool size. @default 5 */
  poolSize?: number;
}

/** Opens the database, runs the migrations, and hands back the query builder. */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  let store: Store;
  if (options.databaseUrl) {
    const pool = new pg.Pool({ ...pgClientConfig(options.databaseUrl, "dynosaur-web"), max: options.poolSize ?? 5 });
    // An idle client that loses its connection emits 'error': the pool replaces it; the process must not crash.
    pool.on("error", () => {});
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    store = { db, dialect: "postgres", where: describeDatabase(options.databaseUrl), close: () => db.destroy() };
  } else {
    const file = options.file ?? "dynosaur.db";
    const { database } = openSqlite(file);
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
    store = { db, dialect: "sqlite", where: file, close: () => db.destroy() };
  }
  try {
    await migrate(store.db as unknown as Kysely<unknown>, store.dialect);
  } catch (e) {
    await store.close().catch(() => {});
    throw e;
  }
  return store;
}

/** pg's type id of bigint: our millisecond times, read as numbers (exact until the year 287396). */
const BIGINT_OID = 20;

export function pgClientConfig(url: string, applicationName: string): pg.ClientConfig {
  const config: pg.ClientConfig = {
    connectionString: url,
    // PostgreSQL cuts application_name at 63 bytes.
    application_name: applicationName.slice(0, 63),
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    connectionTimeoutMillis: 5000,
    types: {
      getTypeParser: ((oid: number, format?: "text" | "binary") =>
        oid === BIGINT_OID
          ? (v: string) => Number(v)
          : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig["getTypeParser"],
    },
  };
  const ssl = herokuPostgresSsl(url);
  if (ssl) config.ssl = ssl;
  return config;
}
