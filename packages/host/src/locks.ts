import { hostname } from "node:os";
import type { Client, ClientConfig } from "pg";
import { type Clock, systemClock } from "../clock.js";
import { describeError } from "../errors.js";
import type { Logger } from "../logger.js";

/*
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
  // Loaded here, not at the top: core's entry re-exports this module, and node:crypto at
  // start-up would cost every dry run (and the web app's pages) for a lock most never take.
  const { createHash } = process.getBuiltinModule("node:crypto");
  return createHash("sha256").update(`dynosaur:${app}:${processType}`).digest().readBigInt64BE(0);
}

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
  const { Client: PgClient } = await import("pg");
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

  let client: Client | null = null;
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
    c?.end().catch(() => {});
  };

  const connect = async (): Promise<Client> => {
    const c = new PgClient(
      clientConfig(
        options.databaseUrl,
        `dynosaur ${options.app}/${options.processType} ${instance} pid ${process.pid}`,
      ),
    );
    // An idle client reports a dropped connection as an 'error' event: without a listener it would crash the process.
    c.on("error", (e) => lose(`the database connection failed: ${describeError(e)}`));
    c.on("end", () => {
      if (client === c) lose("the database closed the connection");
    });
    await c.connect();
    // Have the server notice a vanished holder within ~25 s instead of the OS default of hours.
    await c.query("SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3");
    return c;
  };

  const describeHolder = async (c: Client): Promise<string | null> => {
    const high = Number((BigInt.asUintN(64, key) >> 32n) & 0xffffffffn);
    const low = Number(BigInt.asUintN(64, key) & 0xffffffffn);
    const { rows } = await c.query<{ pid: number; application_name: string | null; addr: string | null }>(
      `SELECT a.pid, a.application_name, host(a.client_addr) AS addr FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
       WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint = $1 AND l.objid::bigint = $2 AND l.objsubid = 1`,
      [high, low],
    );
    const row = rows[0];
    if (!row) return null;
    return `${row.application_name || "a process"} (server pid ${row.pid}${row.addr ? ` from ${row.addr}` : ""})`;
  };

  const attempt = async (): Promise<void> => {
    try {
      client ??= await connect();
      const c = client;
      if (leading) {
        await c.query("SELECT 1");
        confirmedAt = clock.now();
      } else {
        const { rows } = await c.query<{ locked: boolean }>("SELECT pg_try_advisory_lock($1::bigint) AS locked", [
          key.toString(),
        ]);
        if (rows[0]?.locked) {
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
          const who = await describeHolder(c).catch(() => null);
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
        await c.query("SELECT pg_advisory_unlock($1::bigint)", [key.toString()]).catch(() => {});
        await c.end().catch(() => {});
      }
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
