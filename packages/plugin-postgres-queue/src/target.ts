import { inputError } from "@dynosaur/core";
import type { ClientConfig } from "pg";

/** A parsed `url`: what to connect with, and how to name it without its password. */
export interface Target {
  /** Passed to pg as is: pg decodes it the way libpq does. */
  url: string;
  /** `postgres://user@host:port/database`: safe to show. */
  display: string;
  /** Removes the password and the whole URL from any text (pg errors, server messages). */
  redact(text: string): string;
  /** Heroku Postgres needs TLS; localhost usually has none. */
  tls: boolean;
}

const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "::1", "[::1]"]);

/**
 * Parses `url` up front so a typo fails at start-up with the path `url`, never with the
 * URL itself in the message (it carries the password).
 */
export function parseTarget(url: string): Target {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw inputError("DYNO_CONFIG_INVALID", "url: not a URL (its value is not shown: it may hold a password)", {
      path: "url",
      hint: "write postgres://USER:PASSWORD@HOST:PORT/DATABASE, e.g. url: ${DATABASE_URL}",
    });
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw inputError("DYNO_CONFIG_INVALID", `url: a ${parsed.protocol}// URL, not a PostgreSQL one`, {
      path: "url",
      hint: "write postgres://USER:PASSWORD@HOST:PORT/DATABASE, e.g. url: ${DATABASE_URL}",
    });
  }
  const secrets = [url, parsed.password, safeDecode(parsed.password)].filter((s) => s.length > 0);
  const host = parsed.hostname;
  const user = safeDecode(parsed.username);
  const database = safeDecode(parsed.pathname.replace(/^\//, ""));
  return {
    url,
    display: `postgres://${user ? `${user}@` : ""}${host}${parsed.port ? `:${parsed.port}` : ""}/${database}`,
    redact: (text) => secrets.reduce((out, secret) => out.split(secret).join("[redacted]"), text),
    tls: parsed.searchParams.get("sslmode") === null && host !== "" && !LOCAL_HOSTS.has(host),
  };
}

/** The pg client settings for a source (see `Database`). */
export function clientConfig(target: Target, sourceName: string, timeoutSeconds: number): ClientConfig {
  const ms = Math.max(1, Math.round(timeoutSeconds * 1000));
  return {
    connectionString: target.url,
    // Shows in pg_stat_activity, so a DBA sees who runs these queries. PostgreSQL keeps 63 bytes.
    application_name: `dynosaur ${sourceName}`.slice(0, 63),
    connectionTimeoutMillis: ms,
    // A backstop behind statement_timeout, for a server that stops answering altogether.
    query_timeout: ms,
    keepAlive: true,
    // Heroku Postgres accepts only TLS, with a certificate Node cannot verify; its
    // DATABASE_URL has no sslmode. An explicit sslmode always wins (pg reads it from the URL).
    ...(target.tls ? { ssl: { rejectUnauthorized: false } } : {}),
  };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
