import { DynosaurError, describeError, inputError } from "@dynosaur/core";

/**
 * Start-up failures a user causes and can fix (a port in use, a DATABASE_URL that is not
 * PostgreSQL's or does not answer), worded as input errors: exit 2, the setting named, what
 * to do. Anything else is left as it is. The database password never appears: a URL is shown
 * with it replaced by `***`.
 */

/** Where the port came from, to name the setting to change. */
export interface PortSetting {
  /** `--port`, when given. */
  flag?: number;
  /** `$PORT`, when set. */
  env?: string;
  host?: string;
}

/** A DATABASE_URL that cannot be PostgreSQL's, refused before any connection is tried. */
export function checkDatabaseUrl(url: string | undefined): void {
  if (!url) return;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw inputError("DYNO_DATABASE_URL_INVALID", "DATABASE_URL is not a URL", {
      hint: "set it to postgres://user:password@host:5432/database (on Heroku the Postgres add-on sets it), or unset it to keep everything in ./dynosaur.db (SQLite)",
    });
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:")
    throw inputError(
      "DYNO_DATABASE_URL_INVALID",
      `DATABASE_URL (${showUrl(url)}) is a ${parsed.protocol.replace(/:$/, "")}:// URL: dynosaur-web stores its data in PostgreSQL or SQLite only`,
      {
        hint: "set DATABASE_URL to a PostgreSQL URL (postgres://user:password@host:5432/database), or unset it to keep everything in ./dynosaur.db (SQLite; --db names another file)",
      },
    );
  if (!parsed.hostname && !parsed.searchParams.get("host"))
    throw inputError("DYNO_DATABASE_URL_INVALID", `DATABASE_URL (${showUrl(url)}) names no host`, {
      hint: "write it as postgres://user:password@host:5432/database",
    });
}

/** `error` as the input error it stands for, or `null` when it is not one of these. */
export function startupError(
  error: unknown,
  settings: { databaseUrl?: string; port?: PortSetting },
): DynosaurError | null {
  if (error instanceof DynosaurError) return null;
  const code = codeOf(error);
  const port = settings.port;
  if (port && isListenError(error)) {
    const which = portName(port);
    if (code === "EADDRINUSE")
      return inputError("DYNO_PORT_IN_USE", `${which} is in use by another process`, {
        hint: `stop the other process (\`lsof -i :${portNumber(port)}\` names it), or choose a free port: --port ${portNumber(port) + 1} (or PORT=${portNumber(port) + 1})`,
      });
    if (code === "EACCES")
      return inputError("DYNO_PORT_IN_USE", `${which} may not be opened by this user (ports below 1024 need root)`, {
        hint: "choose a port from 1024 up: --port 3000 (or PORT=3000)",
      });
    if (code === "EADDRNOTAVAIL")
      return inputError("DYNO_PORT_IN_USE", `--host ${port.host ?? ""} is not an address of this machine`, {
        hint: "leave --host out (127.0.0.1, or 0.0.0.0 when PORT is set), or give an address of this machine",
      });
  }
  const url = settings.databaseUrl;
  if (url) {
    const why = databaseProblem(error, code);
    if (why)
      return new DynosaurError("DYNO_DATABASE_UNREACHABLE", `DATABASE_URL (${showUrl(url)}): ${why.what}`, {
        exitCode: 2,
        hint: `${why.fix}; or unset DATABASE_URL to keep everything in ./dynosaur.db (SQLite)`,
        cause: error,
      });
  }
  return null;
}

/** A URL with its password replaced by `***` (and nothing at all when it does not parse). */
export function showUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "not a URL";
  }
}

function databaseProblem(error: unknown, code: string | undefined): { what: string; fix: string } | null {
  const message = chain(error)
    .map((e) => (e instanceof Error ? e.message : String(e)))
    .join(" ");
  switch (code) {
    case "ECONNREFUSED":
      return {
        what: "nothing answers at that host and port (connection refused)",
        fix: "start PostgreSQL there, or correct the host and port in the URL",
      };
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return {
        what: "its host name does not resolve",
        fix: "correct the host in the URL (on Heroku: heroku config:get DATABASE_URL)",
      };
    case "ETIMEDOUT":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return {
        what: "the host cannot be reached",
        fix: "check the host and port in the URL and that a firewall lets this machine through",
      };
    case "28P01":
    case "28000":
      return {
        what: "PostgreSQL refused the user name or password",
        fix: "correct the user and password in the URL",
      };
    case "3D000":
      return {
        what: "the database named in the URL does not exist",
        fix: "create it (createdb <name>) or correct the name after the last / of the URL",
      };
  }
  if (/connection timeout|timeout expired|Connection terminated/i.test(message))
    return {
      what: "PostgreSQL did not answer in time",
      fix: "check the host and port in the URL and that the server is up",
    };
  if (/\bSSL\b|certificate/i.test(message))
    return {
      what: `the TLS connection failed (${describeError(error)})`,
      fix: "set sslmode in the URL to what the server supports (e.g. ?sslmode=require, or ?sslmode=disable for a local server)",
    };
  return null;
}

function isListenError(error: unknown): boolean {
  return chain(error).some((e) => (e as { syscall?: unknown })?.syscall === "listen");
}

function portNumber(port: PortSetting): number {
  return port.flag ?? (Number(port.env) || 3000);
}

function portName(port: PortSetting): string {
  if (port.flag !== undefined) return `port ${port.flag} (--port)`;
  if (port.env) return `port ${port.env} (PORT)`;
  return "port 3000 (the default; --port or PORT chooses another)";
}

/** The first error code (`ECONNREFUSED`, a PostgreSQL SQLSTATE) along the cause chain. */
function codeOf(error: unknown): string | undefined {
  for (const e of chain(error)) {
    const code = (e as { code?: unknown })?.code;
    if (typeof code === "string") return code;
  }
  return undefined;
}

/** `error`, its causes, and the errors an AggregateError gathers (a host with several addresses). */
function chain(error: unknown): unknown[] {
  const out: unknown[] = [];
  const todo = [error];
  while (todo.length && out.length < 20) {
    const e = todo.shift();
    if (e === undefined || e === null || out.includes(e)) continue;
    out.push(e);
    if (e instanceof AggregateError) todo.push(...e.errors);
    if (e instanceof Error && e.cause !== undefined) todo.push(e.cause);
  }
  return out;
}
