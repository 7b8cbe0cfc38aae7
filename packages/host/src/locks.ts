import { hostname } from "node:os";
import { type Clock, describeError, type Logger, systemClock } from "@dynosaur/core";
import type { Client, ClientConfig, QueryResult, QueryResultRow } from "pg";

/*
 * The PostgreSQL advisory locks that keep two processes from scaling one thing: the
 * leader lock (`startLeaderLock`, one app and its process types, for the CLI) and the
 * server's per-app ownership (`pgOwnership`, every app of a dynosaur-web process on one
 * connection). Both hold session-level locks through `AdvisorySession`, the only place
 * their SQL lives.
 *
 * Two Dynosaurs scaling one app and process type would fight over the formation. With a
 * database (DATABASE_URL) they hold a PostgreSQL session-level advisory lock and only the
 * holder scales; the others read and report, and try to take the lock every few seconds.
 * The lock lives as long as the holder's connection: a holder that exits, crashes or is
 * killed (SIGKILL included) closes its socket, PostgreSQL releases the lock at once, and a
 * standby takes over within one retry interval. A holder whose host vanishes without
 * closing the socket is dropped by the server's TCP keepalives (set per session below), and
 * stops scaling itself even earlier, when its heartbeat fails or its lease runs out.
 */

/** Seconds between two attempts to take the lead while another process holds it. */
const RETRY_INTERVAL_S = 5;
/** Seconds between two checks that the lead's connection is still alive. */
const HEARTBEAT_INTERVAL_S = 5;
/**
 * Seconds the lead counts as held after the last successful heartbeat. Shorter than the
 * server's keepalive detection (10 + 3 × 5 = 25 s), so a holder cut off from the database
 * stops scaling before the server can hand the lock to anyone else.
 */
const LEASE_S = 15;
/** Seconds one query (or connecting) may take. */
const QUERY_TIMEOUT_S = 5;

export interface LeaderLockOptions {
  /** PostgreSQL connection URL (`postgres://user:password@host:port/db`). Never logged. */
  databaseUrl: string;
  app: string;
  processType: string;
  logger: Logger;
  /** Names this process in `pg_stat_activity`, so a standby can say who leads. @default `$DYNO` or the host name */
  instance?: string;
  /** Seconds between attempts to take the lead while another process holds it. @default 5 */
  retryInterval?: number;
  /** Seconds between heartbeats while leading. @default 5 */
  heartbeatInterval?: number;
  /** Seconds the lead stays valid without a successful heartbeat. @default 15 */
  lease?: number;
  /** @default systemClock */
  clock?: Clock;
}

/** The formation controller's leader gate, backed by a PostgreSQL advisory lock. */
export interface LeaderLock {
  /** Whether this process holds the lock now (and confirmed it within the lease). */
  isLeader(): boolean;
  /** Why this process does not scale, for the tick's reason. */
  describe(): string;
  /** Gives the lock up (closing the connection releases it) and stops trying. */
  stop(): Promise<void>;
}

/**
 * The advisory-lock key for an app and process type: the first 8 bytes of a SHA-256, as
 * the signed 64-bit integer `pg_try_advisory_lock(bigint)` takes.
 */
export function lockKey(app: string, processType: string): bigint {
  return keyOf(`dynosaur:${app}:${processType}`);
}

/** The advisory-lock key of an app a dynosaur-web process owns. */
export function appLockKey(app: string): bigint {
  return keyOf(`dynosaur-web:app:${app}`);
}

/**
 * The advisory-lock key a dynosaur-web process holds for as long as it runs: the others
 * count it live while the lock is held, so a process killed outright stops counting at once
 * (its heartbeat row lingers for the heartbeat timeout).
 */
export function instanceLockKey(instanceId: string): bigint {
  return keyOf(`dynosaur-web:instance:${instanceId}`);
}

function keyOf(text: string): bigint {
  // Loaded here, not at the top: node:crypto at start-up would cost every dry run (and the
  // web app's pages) for a lock most never take.
  const { createHash } = process.getBuiltinModule("node:crypto");
  return createHash("sha256").update(text).digest().readBigInt64BE(0);
}

/**
 * One PostgreSQL session and the advisory locks it holds. The locks live as long as the
 * session: closing it (or the process dying) releases every one at once. `onLost` hears of
 * a connection that failed or was closed by the server.
 */
export class AdvisorySession {
  readonly #client: Client;
  /** The statement under way: one at a time on the connection (pg no longer queues them itself). */
  #last: Promise<unknown> = Promise.resolve();

  private constructor(client: Client) {
    this.#client = client;
  }

  #query<R extends QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>> {
    const run = this.#last.catch(() => {}).then(() => this.#client.query<R>(text, values));
    this.#last = run;
    return run;
  }

  static async open(
    databaseUrl: string,
    applicationName: string,
    onLost: (why: string) => void,
  ): Promise<AdvisorySession> {
    const { Client: PgClient } = await import("pg");
    const c = new PgClient(clientConfig(databaseUrl, applicationName));
    let open = true;
    // An idle client reports a dropped connection as an 'error' event: without a listener it would crash the process.
    c.on("error", (e) => onLost(`the database connection failed: ${describeError(e)}`));
    c.on("end", () => {
      if (open) onLost("the database closed the connection");
    });
    const session = new AdvisorySession(c);
    session.#closed = () => {
      open = false;
    };
    try {
      await c.connect();
      // Have the server notice a vanished holder within ~25 s instead of the OS default of hours.
      await c.query("SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3");
    } catch (e) {
      await session.close();
      throw e;
    }
    return session;
  }

  #closed: () => void = () => {};

  /** Tries every key in one statement; `true` where this session holds the lock now. */
  async tryLock(keys: readonly bigint[]): Promise<boolean[]> {
    if (keys.length === 0) return [];
    const { rows } = await this.#query<{ i: number; locked: boolean }>(
      "SELECT k.i::int AS i, pg_try_advisory_lock(k.key) AS locked FROM unnest($1::bigint[]) WITH ORDINALITY AS k(key, i)",
      [keys.map(String)],
    );
    const held = keys.map(() => false);
    // WITH ORDINALITY counts from 1.
    for (const row of rows) if (row.locked) held[row.i - 1] = true;
    return held;
  }

  /**
   * Tries, in the order given, the first `limit` keys no session of this database holds:
   * one statement that never asks for a lock another process has, so a process that may
   * take only a few more apps spends its few tries on free ones.
   */
  async tryLockFree(keys: readonly bigint[], limit: number): Promise<boolean[]> {
    if (keys.length === 0 || limit <= 0) return keys.map(() => false);
    const { rows } = await this.#query<{ i: number; locked: boolean }>(
      `WITH held AS MATERIALIZED (${HELD_KEYS}),
       free AS MATERIALIZED (
         SELECT k.key, k.i FROM unnest($1::bigint[]) WITH ORDINALITY AS k(key, i)
         WHERE k.key NOT IN (SELECT key FROM held) ORDER BY k.i LIMIT $2
       )
       SELECT f.i::int AS i, pg_try_advisory_lock(f.key) AS locked FROM free f`,
      [keys.map(String), limit],
    );
    const held = keys.map(() => false);
    for (const row of rows) if (row.locked) held[row.i - 1] = true;
    return held;
  }

  /** Which of `keys` some session of this database (this one included) holds now. */
  async held(keys: readonly bigint[]): Promise<boolean[]> {
    if (keys.length === 0) return [];
    const { rows } = await this.#query<{ i: number }>(
      `WITH held AS MATERIALIZED (${HELD_KEYS})
       SELECT k.i::int AS i FROM unnest($1::bigint[]) WITH ORDINALITY AS k(key, i) WHERE k.key IN (SELECT key FROM held)`,
      [keys.map(String)],
    );
    const held = keys.map(() => false);
    for (const row of rows) held[row.i - 1] = true;
    return held;
  }

  async unlock(key: bigint): Promise<void> {
    await this.#query("SELECT pg_advisory_unlock($1::bigint)", [key.toString()]);
  }

  /** A round trip: proves the session (and so its locks) is alive. */
  async ping(): Promise<void> {
    await this.#query("SELECT 1");
  }

  /** Who holds `key` (its application name, server pid and address), or null when nobody does. */
  async holder(key: bigint): Promise<string | null> {
    const high = Number((BigInt.asUintN(64, key) >> 32n) & 0xffffffffn);
    const low = Number(BigInt.asUintN(64, key) & 0xffffffffn);
    const { rows } = await this.#query<{ pid: number; application_name: string | null; addr: string | null }>(
      `SELECT a.pid, a.application_name, host(a.client_addr) AS addr FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
       WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint = $1 AND l.objid::bigint = $2 AND l.objsubid = 1`,
      [high, low],
    );
    const row = rows[0];
    if (!row) return null;
    return `${row.application_name || "a process"} (server pid ${row.pid}${row.addr ? ` from ${row.addr}` : ""})`;
  }

  /** Ends the session, which releases every lock it holds. */
  async close(): Promise<void> {
    this.#closed();
    await this.#client.end().catch(() => {});
  }
}

/**
 * Every single-key advisory lock granted in this database, as the bigint it was taken
 * with: PostgreSQL shows it split into classid (high 32 bits) and objid (low 32 bits).
 * pg_locks is read once per statement (it is a snapshot of the whole lock table).
 */
const HELD_KEYS = `SELECT (l.classid::bigint << 32) | l.objid::bigint AS key FROM pg_locks l
  WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`;

/** `host:port/db` of a connection URL: enough to tell which database, never the password. */
export function describeDatabase(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}${u.port ? `:${u.port}` : ""}${u.pathname.length > 1 ? u.pathname : ""}`;
  } catch {
    return "the database in DATABASE_URL";
  }
}

/**
 * Starts competing for the lead of `app`/`processType` and resolves after the first
 * attempt, so the first tick already knows whether it may scale.
 */
export async function startLeaderLock(options: LeaderLockOptions): Promise<LeaderLock> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger.child({ component: "leader" });
  const key = lockKey(options.app, options.processType);
  const what = `${options.app} ${options.processType}`;
  const where = describeDatabase(options.databaseUrl);
  const retryMs = (options.retryInterval ?? RETRY_INTERVAL_S) * 1000;
  const heartbeatMs = (options.heartbeatInterval ?? HEARTBEAT_INTERVAL_S) * 1000;
  const leaseMs = (options.lease ?? LEASE_S) * 1000;
  const instance = options.instance ?? hostname();
  const stopping = new AbortController();

  let client: AdvisorySession | null = null;
  let leading = false;
  let confirmedAt = 0;
  let holder: string | null = null;
  let lastProblem: string | null = null;
  let standbyLogged = false;
  let everLed = false;

  const lose = (why: string) => {
    if (leading) {
      logger.error(`LOST THE LEAD for ${what}: ${why}; not scaling until the lock is held again`, {
        event: "leader-lost",
        app: options.app,
        process_type: options.processType,
      });
    }
    leading = false;
    const c = client;
    client = null;
    // Closing the connection is what releases a lock we might still hold on the server.
    c?.close();
  };

  const connect = async (): Promise<AdvisorySession> => {
    const session = await AdvisorySession.open(
      options.databaseUrl,
      `dynosaur ${options.app}/${options.processType} ${instance} pid ${process.pid}`,
      (why) => {
        if (client === session) lose(why);
      },
    );
    return session;
  };

  const attempt = async (): Promise<void> => {
    try {
      client ??= await connect();
      const c = client;
      if (leading) {
        await c.ping();
        confirmedAt = clock.now();
      } else {
        const [locked] = await c.tryLock([key]);
        if (locked) {
          const tookOver = everLed || standbyLogged;
          leading = true;
          confirmedAt = clock.now();
          holder = null;
          standbyLogged = false;
          everLed = true;
          logger.warn(
            `${tookOver ? "TOOK OVER" : "LEADING"}: this process holds the lock for ${what} on ${where} and scales it`,
            { event: "leader" },
          );
        } else {
          const who = await c.holder(key).catch(() => null);
          if (!standbyLogged || who !== holder) {
            logger.warn(
              `STANDING BY: ${who ?? "another dynosaur"} holds the lock for ${what} on ${where}; this process reads and reports but does not scale, and takes over within ${retryMs / 1000} s of the lock being free`,
              { event: "standby" },
            );
            standbyLogged = true;
          }
          holder = who;
        }
      }
      if (lastProblem !== null)
        logger.info(`the leader-lock database ${where} answers again`, { event: "leader-db-ok" });
      lastProblem = null;
    } catch (e) {
      const problem = describeError(e);
      lose(`the database did not answer: ${problem}`);
      if (problem !== lastProblem) {
        logger.error(
          `cannot use the leader lock on ${where}: ${problem}; not scaling until it answers (retrying every ${retryMs / 1000} s)`,
          {
            event: "leader-db-error",
          },
        );
      }
      lastProblem = problem;
    }
  };

  await attempt();
  const loop = (async () => {
    while (!stopping.signal.aborted) {
      await clock.sleep(leading ? heartbeatMs : retryMs, stopping.signal).catch(() => {});
      if (stopping.signal.aborted) break;
      await attempt();
    }
  })();

  return {
    isLeader: () => leading && clock.now() - confirmedAt < leaseMs,
    describe: () =>
      lastProblem !== null
        ? `the leader-lock database does not answer (${lastProblem})`
        : leading
          ? `the lead was not confirmed for ${Math.round((clock.now() - confirmedAt) / 1000)} s`
          : `${holder ?? "another dynosaur"} holds the lead`,
    async stop() {
      stopping.abort();
      await loop;
      const c = client;
      client = null;
      leading = false;
      if (c) {
        await c.unlock(key).catch(() => {});
        await c.close();
      }
    },
  };
}

/**
 * Which apps a dynosaur-web process may scale. With SQLite there is one process (a second
 * one is refused at start), so it owns every app. With PostgreSQL each app is guarded by an
 * advisory lock, all held on one session for all of this process's apps: when the process
 * dies, even by SIGKILL, its socket closes, PostgreSQL frees every lock at once, and the
 * next `claim` of another process takes them over.
 */
export interface Ownership {
  /**
   * Tries to own each of `apps` (one round trip for all); returns those this process owns
   * now. With `limit`, takes at most that many more: the first free ones in the order given.
   */
  claim(apps: readonly string[], limit?: number): Promise<Set<string>>;
  /**
   * Which of these server instances (ids) run now, for sharing the apps among them; null
   * when this process is the only one (SQLite), so it owns every app.
   */
  live(instanceIds: readonly string[]): Promise<Set<string> | null>;
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
    claim: async (apps, limit = Number.POSITIVE_INFINITY) => {
      let taken = 0;
      for (const app of apps) {
        if (owned.has(app) || taken >= limit) continue;
        owned.add(app);
        taken++;
      }
      return new Set(apps.filter((a) => owned.has(a)));
    },
    live: async () => null,
    release: async (app) => {
      owned.delete(app);
    },
    owns: (app) => owned.has(app),
    describe: () => "this server does not scale the app",
    heartbeat: async () => {},
    close: async () => owned.clear(),
  };
}

export interface PgOwnershipOptions {
  databaseUrl: string;
  /** Names the session in `pg_stat_activity`. */
  instance: string;
  /** This process's instance id: its session holds `instanceLockKey(instanceId)`, which tells the others it runs. */
  instanceId: string;
  logger: Logger;
  clock: Clock;
  /** Milliseconds the locks count as held after the last good heartbeat. */
  leaseMs: number;
}

export function pgOwnership(options: PgOwnershipOptions): Ownership {
  const { logger, clock } = options;
  const held = new Set<string>();
  let session: AdvisorySession | null = null;
  let confirmedAt = 0;
  let problem: string | null = null;

  const lose = (why: string) => {
    if (held.size > 0)
      logger.error(`LOST the app locks (${[...held].join(", ")}): ${why}; not scaling them until they are held again`, {
        event: "locks-lost",
      });
    held.clear();
    const s = session;
    session = null;
    // Closing the connection is what releases locks the server may still count as ours.
    s?.close();
  };

  const connection = async (): Promise<AdvisorySession> => {
    if (session) return session;
    const s = await AdvisorySession.open(options.databaseUrl, `dynosaur-web locks ${options.instance}`, (why) => {
      if (session === s) lose(why);
    });
    try {
      // Held for the session's life: the others count this process live while it is.
      await s.tryLock([instanceLockKey(options.instanceId)]);
    } catch (e) {
      await s.close();
      throw e;
    }
    session = s;
    confirmedAt = clock.now();
    return s;
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
    claim: (apps, limit) =>
      guard(async () => {
        const wanted = apps.filter((a) => !held.has(a));
        if (wanted.length > 0 && (limit === undefined || limit > 0)) {
          // One statement for every free app: a standby with 100 apps to watch sends one query a round.
          const c = await connection();
          const keys = wanted.map(appLockKey);
          const locked = limit === undefined ? await c.tryLock(keys) : await c.tryLockFree(keys, limit);
          for (const [i, app] of wanted.entries()) if (locked[i]) held.add(app);
        }
        return new Set(apps.filter((a) => held.has(a)));
      }, new Set<string>()),
    live: (ids) =>
      // Without an answer every instance counts as live: a smaller share, never a grab of more apps.
      guard(async () => {
        const running = await (await connection()).held(ids.map(instanceLockKey));
        return new Set(ids.filter((_, i) => running[i]));
      }, new Set(ids)),
    release: (app) =>
      guard(async () => {
        if (!held.delete(app) || !session) return;
        await session.unlock(appLockKey(app));
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
        await (await connection()).ping();
        confirmedAt = clock.now();
      }, undefined),
    async close() {
      const s = session;
      session = null;
      held.clear();
      // Ending the session frees every advisory lock it holds.
      await s?.close();
    },
  };
}

function clientConfig(url: string, applicationName: string): ClientConfig {
  const config: ClientConfig = {
    connectionString: url,
    // PostgreSQL cuts application_name at 63 bytes.
    application_name: applicationName.slice(0, 63),
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    connectionTimeoutMillis: QUERY_TIMEOUT_S * 1000,
    query_timeout: QUERY_TIMEOUT_S * 1000,
  };
  const ssl = herokuPostgresSsl(url);
  if (ssl) config.ssl = ssl;
  return config;
}

/**
 * The TLS settings a PostgreSQL URL needs: Heroku Postgres only accepts TLS, with a
 * certificate Node cannot verify by default, and its DATABASE_URL carries no sslmode. An
 * explicit sslmode in the URL always wins; a local server needs none.
 */
export function herokuPostgresSsl(url: string): { rejectUnauthorized: false } | undefined {
  let host = "";
  let sslmode: string | null = null;
  try {
    const u = new URL(url);
    host = u.hostname;
    sslmode = u.searchParams.get("sslmode");
  } catch {
    // pg reports a malformed URL itself, on connect.
  }
  const local = host === "" || ["localhost", "127.0.0.1", "::1", "[::1]"].includes(host) || host.startsWith("/");
  return sslmode === null && !local ? { rejectUnauthorized: false } : undefined;
}
