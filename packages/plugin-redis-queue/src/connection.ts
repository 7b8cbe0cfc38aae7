import { PluginError } from "@dynosaur/core";
import { createClient } from "@redis/client";
import type { RedisTarget } from "./options.js";

export type Redis = ReturnType<typeof newClient>;

export interface ConnectionOptions {
  target: RedisTarget;
  /** Verify the TLS certificate (`rediss://` only). */
  tlsVerify: boolean;
  /** Longest a TCP/TLS connect may take, in ms. */
  connectTimeoutMs: number;
}

export interface Connection {
  /**
   * Runs `read` on a ready client, connecting first if needed. Rejects with a secret-free
   * PluginError on any failure, and as soon as `signal` aborts.
   */
  run<T>(signal: AbortSignal, read: (redis: Redis) => Promise<T>): Promise<T>;
  /** Drops the connection. Safe to call twice. */
  close(): void;
}

/**
 * One Redis connection per source, opened on the first poll and kept between polls.
 * After any failure it is thrown away and the next poll opens a new one: a command that
 * timed out may still get its reply later, which would be taken for the next command's.
 * The client never reconnects by itself (`reconnectStrategy: false`), so a dead server
 * costs one failed poll per interval, not a reconnect loop.
 */
export function createConnection(options: ConnectionOptions): Connection {
  const { target } = options;
  let client: Redis | undefined;
  let opening: Promise<Redis> | undefined;

  function discard(): void {
    const c = client;
    client = undefined;
    opening = undefined;
    if (c) {
      try {
        c.destroy();
      } catch {
        // already closed
      }
    }
  }

  function open(): Promise<Redis> {
    if (client?.isReady) return Promise.resolve(client);
    if (opening) return opening;
    discard();
    const c = newClient(options);
    // Without a listener an 'error' event would crash the process; failures reach us through
    // the rejected commands instead.
    c.on("error", () => {});
    client = c;
    const connecting = c.connect().then(() => c);
    opening = connecting;
    connecting.then(
      () => {
        if (opening === connecting) opening = undefined;
      },
      () => {},
    );
    return connecting;
  }

  return {
    async run(signal, read) {
      if (signal.aborted) throw timeoutError(target);
      try {
        return await abortable(
          open().then((redis) => read(redis)),
          signal,
        );
      } catch (error) {
        discard();
        throw describeFailure(error, target, signal);
      }
    },
    close: discard,
  };
}

function newClient(options: ConnectionOptions) {
  const { target } = options;
  return createClient({
    socket: {
      host: target.host,
      port: target.port,
      connectTimeout: options.connectTimeoutMs,
      reconnectStrategy: false,
      ...(target.tls ? { tls: true as const, servername: target.host, rejectUnauthorized: options.tlsVerify } : {}),
    },
    username: target.username,
    password: target.password,
    database: target.database,
    // RESP2: every Redis version speaks it (RESP3's HELLO needs Redis 6).
    RESP: 2,
    // No CLIENT SETINFO: nothing but reads goes to the server (and ACL users may lack it).
    disableClientInfo: true,
    // A command sent while disconnected fails at once instead of waiting for a reconnect.
    disableOfflineQueue: true,
  });
}

const ABORTED = Symbol("aborted");

/** `promise`, or a rejection as soon as `signal` aborts (the caller then destroys the client). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(ABORTED);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  // The losing promise must not surface as an unhandled rejection.
  promise.catch(() => {});
  return Promise.race([promise, aborted]).finally(() => signal.removeEventListener("abort", onAbort as () => void));
}

function timeoutError(target: RedisTarget): PluginError {
  return new PluginError(
    `Redis at ${target.display} did not answer before the poll was cancelled (timeout or shutdown)`,
    {
      code: "DYNO_PLUGIN_TIMEOUT",
      hint:
        "the last good reading stands. If it persists: check that url points at a Redis server, and the scheme: " +
        "rediss:// to a server without TLS (or redis:// to one that only speaks TLS) hangs too; or raise the source's `timeout`",
    },
  );
}

/** Turns anything a read threw into a PluginError that names the server but never the URL or password. */
export function describeFailure(error: unknown, target: RedisTarget, signal: AbortSignal): PluginError {
  if (error instanceof PluginError) return redactError(error, target);
  if (error === ABORTED || signal.aborted) return timeoutError(target);
  const where = `Redis at ${target.display}`;
  const raw = error instanceof Error ? error.message : String(error);
  const code = typeof (error as { code?: unknown })?.code === "string" ? (error as { code: string }).code : "";
  const name = error instanceof Error ? error.constructor.name : "";
  const text = redact(`${raw}${code && !raw.includes(code) ? ` (${code})` : ""}`, target);
  const fail = (message: string, hint: string) =>
    new PluginError(redact(message, target), { hint: redact(hint, target) });

  if (/^WRONGPASS|^NOAUTH|invalid password|invalid username-password/i.test(raw)) {
    return fail(
      `${where} refused the credentials: ${text}`,
      "check the user and password in url; Heroku rotates Redis credentials, so read the URL from the environment (url: ${REDIS_URL})",
    );
  }
  if (/^NOPERM/.test(raw)) {
    return fail(
      `${where} refused a command for this user: ${text}`,
      "the plugin only reads: give its ACL user the read and connection commands (ACL SETUSER ... +@read +@connection)",
    );
  }
  if (code === "ECONNREFUSED")
    return fail(
      `could not connect to ${where}: connection refused`,
      "check the host and port in url, and that Redis is running",
    );
  if (code === "ENOTFOUND" || code === "EAI_AGAIN")
    return fail(`could not connect to ${where}: unknown host ${target.host}`, "check the host name in url");
  if (name === "ConnectionTimeoutError" || /connection timeout/i.test(raw)) {
    return fail(
      `could not connect to ${where}: no connection within the connect timeout`,
      "check the host and port in url, and that no firewall drops the connection",
    );
  }
  if (/SSL|TLS|certificate|EPROTO/i.test(`${raw} ${code}`)) {
    return fail(
      `TLS failed with ${where}: ${text}`,
      "rediss:// needs a server that speaks TLS, redis:// one that does not; with tls_verify: true the certificate must be valid for the host",
    );
  }
  if (name === "SocketClosedUnexpectedlyError" || /socket closed|client is closed|ECONNRESET/i.test(`${raw} ${code}`)) {
    return fail(
      `${where} closed the connection: ${text}`,
      "the next poll reconnects; if it persists, check the server's limits (maxclients, timeout) and the scheme (redis:// vs rediss://)",
    );
  }
  return fail(`${where} failed: ${text}`, "the last good reading stands and the next poll retries");
}

function redact(text: string, target: RedisTarget): string {
  let out = text;
  for (const secret of [target.password, target.password && encodeURIComponent(target.password)]) {
    if (secret) out = out.split(secret).join("[redacted]");
  }
  return out;
}

function redactError(error: PluginError, target: RedisTarget): PluginError {
  const message = redact(error.message, target);
  const hint = error.hint === undefined ? undefined : redact(error.hint, target);
  return message === error.message && hint === error.hint
    ? error
    : new PluginError(message, { hint, code: error.code });
}
