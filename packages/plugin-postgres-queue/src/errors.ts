import { type ErrorCode, PluginError } from "@dynosaur/core";
import type { Target } from "./target.js";

/** What a query reads, for messages about tables or columns it did not find. */
export interface Schema {
  /** e.g. `GoodJob 4.x`. */
  library: string;
  /** What to do when its table or column is missing. */
  missingHint: string;
}

/** The fields of a pg `DatabaseError` (a message from the server) that we use. */
interface ServerError {
  code?: string;
  message: string;
  severity?: string;
}

function isServerError(e: unknown): e is ServerError & Error {
  return (
    e instanceof Error &&
    typeof (e as { code?: unknown }).code === "string" &&
    typeof (e as { severity?: unknown }).severity === "string"
  );
}

/**
 * Turns whatever pg threw into a message that says what failed and what to do, naming the
 * database as `postgres://user@host:port/db` and never its password.
 */
export function describeFailure(
  e: unknown,
  target: Target,
  schema: Schema | undefined,
  timeoutSeconds: number,
): PluginError {
  const where = target.display;
  const fail = (message: string, hint: string, code?: ErrorCode) => new PluginError(message, { hint, code });
  // Only what pg and the server said can hold the URL or the password: redact that, not our own words.
  const text = target.redact(e instanceof Error ? e.message : String(e));

  if (isServerError(e)) {
    const server = text;
    switch (e.code) {
      case "28P01":
      case "28000":
        return fail(
          `PostgreSQL at ${where} refused the login: ${server}`,
          "check the user and password in url; Heroku rotates credentials, so use url: ${DATABASE_URL} rather than a copy",
        );
      case "3D000":
        return fail(`PostgreSQL at ${where}: ${server}`, "check the database name at the end of url");
      case "42P01":
      case "3F000":
      case "42703":
      case "42883":
        if (schema)
          return fail(`${server} at ${where}: is ${schema.library} installed in this database?`, schema.missingHint);
        return fail(
          `the query failed at ${where}: ${server}`,
          "check the query's table and column names (try it in psql)",
        );
      case "57014":
        return fail(
          `the query was cancelled at ${where} after the statement timeout (${timeoutSeconds} s): ${server}`,
          "the queue table may lack an index or be very large; raise the source's timeout, or use a lighter query",
          "DYNO_PLUGIN_TIMEOUT",
        );
      case "25006":
        return fail(
          `the query tried to write at ${where}, and runs read-only: ${server}`,
          "the query must only read (a SELECT); it runs in a READ ONLY transaction",
        );
      case "42501":
        return fail(
          `PostgreSQL at ${where} denied the query: ${server}`,
          "grant the url's user SELECT on the queue tables (a read-only credential is enough)",
        );
      case "53300":
        return fail(
          `PostgreSQL at ${where} has no free connection: ${server}`,
          "the database's connection limit is reached; the next poll retries",
        );
      default:
        return fail(
          `PostgreSQL at ${where} answered with an error: ${server}${e.code ? ` (${e.code})` : ""}`,
          "the last good reading stands; the next poll retries",
        );
    }
  }

  const code = (e as { code?: unknown } | null)?.code;
  if (code === "ECONNREFUSED")
    return fail(
      `could not connect to PostgreSQL at ${where}: connection refused`,
      "check the host and port in url, and that the server is running",
    );
  if (code === "ENOTFOUND" || code === "EAI_AGAIN")
    return fail(`could not connect to PostgreSQL at ${where}: unknown host`, "check the host in url");
  if (/timeout|timed out/i.test(text)) {
    return fail(
      `PostgreSQL at ${where} did not answer within ${timeoutSeconds} s (${text})`,
      "the server or network is slow or unreachable; the last good reading stands; raise the source's timeout if this persists",
      "DYNO_PLUGIN_TIMEOUT",
    );
  }
  if (/does not support SSL/i.test(text))
    return fail(
      `PostgreSQL at ${where} does not accept TLS`,
      "add ?sslmode=disable to url if the network between you is private",
    );
  if (/self[- ]signed|certificate/i.test(text)) {
    return fail(
      `TLS to PostgreSQL at ${where} failed: ${text}`,
      "with sslmode=verify-full or verify-ca the server's certificate must verify; Heroku Postgres needs sslmode=require or no sslmode",
    );
  }
  return fail(
    `PostgreSQL at ${where} failed: ${text}${typeof code === "string" && !text.includes(code) ? ` (${code})` : ""}`,
    "the last good reading stands; the next poll reconnects",
  );
}

/** The poll was cancelled: core's timeout, or a shutdown. */
export function abortedError(target: Target, timeoutSeconds: number): PluginError {
  return new PluginError(
    `PostgreSQL at ${target.display} did not answer before the poll was cancelled (timeout of ${timeoutSeconds} s, or shutdown)`,
    {
      code: "DYNO_PLUGIN_TIMEOUT",
      hint: "the last good reading stands; if this persists, check the database's health or raise the source's timeout",
    },
  );
}
