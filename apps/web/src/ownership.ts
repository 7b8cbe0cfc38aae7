import { createHash } from "node:crypto";
import { type Clock, describeError, type Logger } from "@dynosaur/core";
import pg from "pg";
import { pgClientConfig } from "./db/connect.js";

/**
 * Which apps this process may scale. With SQLite there is one process (a second one is
 * refused at start), so it owns every app. With PostgreSQL each app is guarded by a
 * session-level advisory lock, held on one dedicated connection for all of this process's
 * apps: when the process dies, even by SIGKILL, its socket closes, PostgreSQL frees every
 * lock at once, and the next `claim` of another process takes them over.
 */
export interface Ownership {
  /** Tries to own each of `apps` (one round trip for all); returns those this process owns now. */
  claim(apps: readonly string[]): Promise<Set<string>>;
  release(app: string): Promise<void>;
  /** Whether this process owns `app` now (confirmed within the lease). */
  owns(app: string): boolean;
  /** Why not, for a tick's reason. */
  describe(app: string): string;
  /** Checks the connection is alive; call once per supervision round. */
  heartbeat(): Promise<void>;
  close(): Promise<void>;
}

export function localOwnership(): Ownership {
  const owned = new Set<string>();
  return {
    claim: async (apps) => {
      for (const app of apps) owned.add(app);
      return new Set(apps);
    },
    release: async (app) => {
      owned.delete(app);
    },
    owns: (app) => owned.has(app),
    describe: () => "this server does not scale the app",
    heartbeat: async () => {},
    close: async () => owned.clear(),
  };
}

/** The advisory-lock key of an app: the first 8 bytes of a SHA-256, as the signed bigint PostgreSQL takes. */
export function appLockKey(app: string): string {
  return createHash("sha256").update(`dynosaur-web:app:${app}`).digest().readBigInt64BE(0).toString();
}

export interface PgOwnershipOptions {
  databaseUrl: string;
  instance: string;
  logger: Logger;
  clock: Clock;
  /** Milliseconds the locks count as held after the last good heartbeat. */
  leaseMs: number;
}

export function pgOwnership(options: PgOwnershipOptions): Ownership {
  const { logger, clock } = options;
  const held = new Set<string>();
  let client: pg.Client | null = null;
  let confirmedAt = 0;
  let problem: string | null = null;

  const lose = (why: string) => {
    if (held.size > 0)
      logger.error(`LOST the app locks (${[...held].join(", ")}): ${why}; not scaling them until they are held again`, {
        event: "locks-lost",
      });
    held.clear();
    const c = client;
    client = null;
    // Closing the connection is what releases locks the server may still count as ours.
    c?.end().catch(() => {});
  };

  const connection = async (): Promise<pg.Client> => {
    if (client) return client;
    const c = new pg.Client({
      ...pgClientConfig(options.databaseUrl, `dynosaur-web locks ${options.instance}`),
      query_timeout: 5000,
    });
    c.on("error", (e) => lose(`the database connection failed: ${describeError(e)}`));
    c.on("end", () => {
      if (client === c) lose("the database closed the connection");
    });
    await c.connect();
    // The server notices a vanished holder within ~25 s instead of the OS default of hours.
    await c.query("SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3");
    client = c;
    confirmedAt = clock.now();
    return c;
  };

  const guard = async <T>(what: () => Promise<T>, fallback: T): Promise<T> => {
    try {
      const result = await what();
      if (problem !== null) logger.info("the lock database answers again", { event: "locks-db-ok" });
      problem = null;
      return result;
    } catch (e) {
      const p = describeError(e);
      if (p !== problem)
        logger.error(`cannot use the app locks: ${p}; not scaling until the database answers`, {
          event: "locks-db-error",
        });
      problem = p;
      lose(`the database did not answer: ${p}`);
      return fallback;
    }
  };

  return {
    claim: (apps) =>
      guard(async () => {
        const wanted = apps.filter((a) => !held.has(a));
        if (wanted.length > 0) {
          const c = await connection();
          // One statement for every free app: a standby with 100 apps to watch sends one query a round.
          const { rows } = await c.query<{ i: number; locked: boolean }>(
            "SELECT k.i::int AS i, pg_try_advisory_lock(k.key) AS locked FROM unnest($1::bigint[]) WITH ORDINALITY AS k(key, i)",
            [wanted.map(appLockKey)],
          );
          // WITH ORDINALITY counts from 1.
          for (const row of rows) {
            const app = wanted[row.i - 1];
            if (row.locked && app !== undefined) held.add(app);
          }
        }
        return new Set(apps.filter((a) => held.has(a)));
      }, new Set<string>()),
    release: (app) =>
      guard(async () => {
        if (!held.delete(app) || !client) return;
        await client.query("SELECT pg_advisory_unlock($1::bigint)", [appLockKey(app)]);
      }, undefined),
    owns: (app) => held.has(app) && clock.now() - confirmedAt < options.leaseMs,
    describe: (app) =>
      problem !== null
        ? `the lock database does not answer (${problem})`
        : held.has(app)
          ? "the app lock was not confirmed within its lease"
          : "another dynosaur-web process scales this app",
    heartbeat: () =>
      guard(async () => {
        const c = await connection();
        await c.query("SELECT 1");
        confirmedAt = clock.now();
      }, undefined),
    async close() {
      const c = client;
      client = null;
      held.clear();
      // Ending the session frees every advisory lock it holds.
      await c?.end().catch(() => {});
    },
  };
}
