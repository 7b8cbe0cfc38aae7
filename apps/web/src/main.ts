import { basename, extname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { DynosaurError, describeError, inputError, type LogLevel, readConfigFile, systemClock } from "@dynosaur/core";
import { ConfigService } from "./configs.js";
import type { LogFormat } from "./log.js";
import { openStores, type ServerOptions, startServer, version } from "./server.js";
import { checkDatabaseUrl, startupError } from "./startup-errors.js";

export interface WebIO {
  argv: string[];
  env: Record<string, string | undefined>;
  cwd: string;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  /** Where SIGTERM/SIGINT arrive. */
  signals?: { once(event: "SIGTERM" | "SIGINT", listener: () => void): unknown };
}

const USAGE = `Usage:
  dynosaur-web [serve]                   serve the API and scale every app stored in the database
  dynosaur-web import <config.yaml> [--name <app>] [--comment <text>]
                                         store a CLI config as an app's next version
  dynosaur-web export <app>              print an app's config as CLI YAML (secrets as \${VAR})

Options:
  --db <file>            SQLite database (default ./dynosaur.db; ignored when DATABASE_URL is set)
  --port <n>             (default $PORT, else 3000)
  --host <address>       (default 0.0.0.0 when $PORT is set, else 127.0.0.1)
  --log-format text|json (default text)
  --log-level debug|info|warn|error (default info)
  -h, --help / -v, --version

Environment: DATABASE_URL (PostgreSQL instead of SQLite; several processes may share it),
DYNOSAUR_ADMIN_PASSWORD (the admin's password for the pages), DYNOSAUR_API_TOKEN (a Bearer
token for automation), DYNOSAUR_SECRET_KEY (encrypts secrets typed into configs; with SQLite
a key file next to the database is made otherwise), DYNOSAUR_RETENTION_DAYS (default 14),
DYNOSAUR_POLL_INTERVAL (seconds between looks at the database for changes and free apps;
default 2: keep it below the apps' intervals).

Exit codes: 0 clean stop, 1 failure, 2 bad input (or the SQLite file is served by another process).`;

const FLAGS = {
  db: { type: "string" },
  port: { type: "string" },
  host: { type: "string" },
  name: { type: "string" },
  comment: { type: "string" },
  "log-format": { type: "string" },
  "log-level": { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "v" },
} as const;

export async function main(io: WebIO): Promise<number> {
  try {
    let parsed: ReturnType<
      typeof parseArgs<{ args: string[]; options: typeof FLAGS; allowPositionals: true; strict: true }>
    >;
    try {
      parsed = parseArgs({ args: io.argv, options: FLAGS, allowPositionals: true, strict: true });
    } catch (e) {
      throw inputError("DYNO_USAGE", (e as Error).message, { hint: "see dynosaur-web --help" });
    }
    const { values, positionals } = parsed;
    if (values.help) {
      io.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (values.version) {
      io.stdout.write(`${version()}\n`);
      return 0;
    }
    const [command = "serve", ...rest] = positionals;
    if (command === "serve") {
      refuse(rest);
      return await serveCommand(io, {
        env: io.env,
        cwd: io.cwd,
        db: values.db,
        port: values.port === undefined ? undefined : portOf(values.port),
        host: values.host,
        logFormat: oneOf(values["log-format"], ["text", "json"], "--log-format") as LogFormat | undefined,
        logLevel: oneOf(values["log-level"], ["debug", "info", "warn", "error"], "--log-level") as LogLevel | undefined,
        pollMs: io.env.DYNOSAUR_POLL_INTERVAL
          ? seconds(io.env.DYNOSAUR_POLL_INTERVAL, "DYNOSAUR_POLL_INTERVAL") * 1000
          : undefined,
      });
    }
    if (command === "import") {
      const [file, ...more] = rest;
      refuse(more);
      if (!file)
        throw inputError("DYNO_USAGE", "`dynosaur-web import` needs a config file", {
          hint: "e.g. dynosaur-web import examples/dry-run.yaml --name shop",
        });
      return await importCommand(io, file, values);
    }
    if (command === "export") {
      const [app, ...more] = rest;
      refuse(more);
      if (!app)
        throw inputError("DYNO_USAGE", "`dynosaur-web export` needs an app name", {
          hint: "e.g. dynosaur-web export shop > shop.yaml",
        });
      return await exportCommand(io, app, values);
    }
    throw inputError("DYNO_USAGE", `unknown command "${command}"`, { hint: "see dynosaur-web --help" });
  } catch (e) {
    io.stderr.write(
      `${e instanceof DynosaurError ? `error ${e.format()}` : `error: unexpected failure: ${describeError(e)}`}\n`,
    );
    return e instanceof DynosaurError ? e.exitCode : 1;
  }
}

async function serveCommand(io: WebIO, options: ServerOptions): Promise<number> {
  checkDatabaseUrl(io.env.DATABASE_URL);
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer({ ...options, write: (line) => io.stdout.write(`${line}\n`) });
  } catch (e) {
    throw (
      startupError(e, {
        databaseUrl: io.env.DATABASE_URL,
        port: { flag: options.port, env: io.env.PORT, host: options.host },
      }) ?? e
    );
  }
  await new Promise<void>((done) => {
    io.signals?.once("SIGTERM", done);
    io.signals?.once("SIGINT", done);
  });
  await server.close();
  return 0;
}

async function importCommand(
  io: WebIO,
  file: string,
  values: { db?: string; name?: string; comment?: string },
): Promise<number> {
  const path = resolve(io.cwd, file);
  const raw = await readConfigFile(path);
  const name =
    values.name ??
    basename(path, extname(path))
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, "-");
  const stores = await openStoresOrSay(io, values.db);
  try {
    const configs = new ConfigService({
      apps: stores.apps,
      readings: stores.readings,
      loader: stores.loader,
      box: stores.box,
      env: io.env,
      clock: systemClock,
    });
    const result = await configs.save(name, raw, {
      author: "import",
      comment: values.comment ?? `imported from ${basename(path)}`,
    });
    if (!result.ok) {
      if ("conflict" in result) throw inputError("DYNO_CONFLICT", result.conflict.message, { hint: "import again" });
      io.stderr.write(
        `error DYNO_CONFIG_INVALID: ${file} was not imported:\n${result.errors.map((e) => `  ${e.path || "(top level)"}: ${e.message}${e.hint ? ` (${e.hint})` : ""}`).join("\n")}\n`,
      );
      return 2;
    }
    io.stdout.write(`${result.created ? "created" : "updated"} app ${name}: version ${result.app.version}\n`);
    return 0;
  } finally {
    await stores.store.close();
  }
}

async function exportCommand(io: WebIO, name: string, values: { db?: string }): Promise<number> {
  const stores = await openStoresOrSay(io, values.db);
  try {
    const app = await stores.apps.get(name);
    if (!app) throw inputError("DYNO_APP_NOT_FOUND", `no app named ${name}`, { hint: "GET /api/apps lists them" });
    const configs = new ConfigService({
      apps: stores.apps,
      readings: stores.readings,
      loader: stores.loader,
      box: stores.box,
      env: io.env,
      clock: systemClock,
    });
    io.stdout.write(await configs.export(app));
    return 0;
  } finally {
    await stores.store.close();
  }
}

/** The database of `import`/`export`, a bad DATABASE_URL said as the serve command says it. */
async function openStoresOrSay(io: WebIO, db: string | undefined): ReturnType<typeof openStores> {
  checkDatabaseUrl(io.env.DATABASE_URL);
  try {
    return await openStores({ env: io.env, cwd: io.cwd, db });
  } catch (e) {
    throw startupError(e, { databaseUrl: io.env.DATABASE_URL }) ?? e;
  }
}

function refuse(rest: readonly string[]): void {
  if (rest.length)
    throw inputError("DYNO_USAGE", `unexpected argument${rest.length > 1 ? "s" : ""}: ${rest.join(" ")}`, {
      hint: "see dynosaur-web --help",
    });
}

function portOf(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw inputError("DYNO_USAGE", `--port ${text}: not a port number`, { hint: "e.g. --port 3000" });
  return n;
}

function seconds(text: string, name: string): number {
  const n = Number(text);
  if (!(n > 0 && n <= 60))
    throw inputError("DYNO_USAGE", `${name}=${text}: expected seconds between 0 and 60`, { hint: `e.g. ${name}=2` });
  return n;
}

function oneOf(value: string | undefined, allowed: string[], flag: string): string | undefined {
  if (value !== undefined && !allowed.includes(value))
    throw inputError("DYNO_USAGE", `${flag} ${value}: expected one of ${allowed.join(", ")}`, {
      hint: "see dynosaur-web --help",
    });
  return value;
}
