import type { Logger } from "@dynosaur/core";
import pg from "pg";
import { abortedError, describeFailure, type Schema } from "./errors.js";
import { clientConfig, type Target } from "./target.js";

export interface DatabaseOptions {
  target: Target;
  /** The source's name, for application_name. */
  sourceName: string;
  /** The source's timeout in seconds: connect, statement and read timeouts follow it. */
  timeoutSeconds: number;
  logger: Logger;
}

type Row = Record<string, unknown>;

/**
 * One connection per source, opened at the first poll and kept between polls. Any failure
 * drops it, so the next poll starts on a fresh one. The session is read-only and has a
 * statement timeout, whatever a query tries.
 */
export class Database {
  readonly #options: DatabaseOptions;
  #client: pg.Client | undefined;
  // Connections given up on (a poll aborted while they connected): never to be kept.
  readonly #dropped = new WeakSet<pg.Client>();
  #closed = false;

  constructor(options: DatabaseOptions) {
    this.#options = options;
  }

  /**
   * Runs one statement (with `values`) and returns its rows, or, for a text of several
   * statements without values, the rows of the one at `resultIndex`. Throws a PluginError.
   */
  async query(
    text: string,
    values: unknown[] | undefined,
    signal: AbortSignal,
    schema?: Schema,
    resultIndex = 0,
  ): Promise<Row[]> {
    const { target, timeoutSeconds } = this.#options;
    if (this.#closed) throw abortedError(target, timeoutSeconds);
    signal.throwIfAborted();
    let client: pg.Client | undefined;
    const run = async () => {
      client = this.#client ?? (await this.#connect((c) => (client = c)));
      const result = (await client.query(text, values)) as pg.QueryResult<Row> | pg.QueryResult<Row>[];
      return Array.isArray(result) ? (result[resultIndex]?.rows ?? []) : result.rows;
    };
    try {
      return await abortable(run(), signal);
    } catch (e) {
      // A failed or abandoned connection may be mid-query or broken: never reuse it.
      this.#drop(client);
      if (signal.aborted) throw abortedError(target, timeoutSeconds);
      throw describeFailure(e, target, schema, timeoutSeconds);
    }
  }

  /** Ends the connection. Safe to call twice; never waits on a server that stopped answering. */
  close(): void {
    this.#closed = true;
    this.#drop(this.#client);
  }

  async #connect(started: (c: pg.Client) => void): Promise<pg.Client> {
    const { target, sourceName, timeoutSeconds, logger } = this.#options;
    const client = new pg.Client(clientConfig(target, sourceName, timeoutSeconds));
    started(client);
    // An idle connection reports a drop as an 'error' event: unhandled, it would crash the process.
    client.on("error", (e) => {
      if (this.#dropped.has(client)) return;
      logger.warn(`connection to ${target.display} lost: ${target.redact(e.message)}; the next poll reconnects`);
      this.#drop(client);
    });
    client.on("end", () => {
      if (this.#client === client) this.#client = undefined;
    });
    await client.connect();
    // Server-side guards for every statement on this session. Set after connecting (not as
    // startup options) so PgBouncer, which refuses unknown startup parameters, still works.
    const statementMs = Math.max(100, Math.floor(timeoutSeconds * 900));
    // Rails writes UTC into `timestamp without time zone` columns: compare them in UTC.
    await client.query(
      `SET statement_timeout = ${statementMs}; SET default_transaction_read_only = on; SET TimeZone = 'UTC'`,
    );
    if (this.#closed || this.#dropped.has(client)) {
      this.#drop(client);
      throw abortedError(target, timeoutSeconds);
    }
    this.#client = client;
    return client;
  }

  #drop(client: pg.Client | undefined): void {
    if (!client) return;
    if (this.#client === client) this.#client = undefined;
    if (this.#dropped.has(client)) return;
    this.#dropped.add(client);
    // pg destroys the socket of a connection with a query in flight; not awaited, so a
    // server that never answers cannot hold up a poll or a shutdown.
    client.end().catch(() => {});
  }
}

/** `promise`, or a rejection as soon as `signal` aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
