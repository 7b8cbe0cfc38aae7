import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Clock, ManualClock, type TickReport } from "@dynosaur/core";
import type { Kysely } from "kysely";
import pg from "pg";
import { afterEach, expect } from "vitest";
import type { Database } from "../src/db/schema.js";
import { type RunningServer, type ServerOptions, startServer } from "../src/server.js";

export const BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));
/** Bearer token the test servers accept (DYNOSAUR_API_TOKEN). */
export const TOKEN = "test-api-token-for-dynosaur-web-tests";
export const ADMIN_PASSWORD = "correct horse battery staple";

const cleanups: (() => unknown)[] = [];
/** Runs `f` after the current test, last registered first. */
export function onCleanup(f: () => unknown): void {
  cleanups.push(f);
}
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

/** `value`, or a failure saying what was missing: what a test would otherwise write `value!` for. */
export function must<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new Error(`expected ${what}, got ${value}`);
  return value;
}

/** The URL a spawned server prints when it listens. */
export const listeningUrl = (stdout: string): string =>
  must(/listening on (http:\/\/\S+),/.exec(stdout)?.[1], "a `listening on <url>,` line in the output");

/** A fresh directory, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "dynosaur-web-"));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: test answers are inspected freely
  json: any;
}

export interface CallOptions {
  body?: unknown;
  /** Bearer token; null sends none. @default TOKEN */
  token?: string | null;
  headers?: Record<string, string>;
}

export async function call(base: string, method: string, path: string, options: CallOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token === undefined ? TOKEN : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  }
  const res = await fetch(`${base}${path}`, { method, headers, body, redirect: "manual" });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // Not JSON (event streams, YAML): the text is there.
  }
  return { status: res.status, headers: res.headers, text, json };
}

export interface TestServer {
  server: RunningServer;
  dir: string;
  /** Every log line the server wrote. */
  lines: string[];
  clock: Clock;
  call(method: string, path: string, options?: CallOptions): Promise<Answer>;
  close(): Promise<void>;
}

/** An in-process server on a fresh SQLite file (or `env.DATABASE_URL`), stopped after the test. */
export async function startTestServer(options: Partial<ServerOptions> & { dir?: string } = {}): Promise<TestServer> {
  const dir = options.dir ?? tempDir();
  const lines: string[] = [];
  const clock = options.clock ?? new ManualClock(Date.UTC(2026, 0, 1));
  const server = await startServer({
    cwd: dir,
    port: 0,
    host: "127.0.0.1",
    pollMs: 1000,
    ...options,
    clock,
    env: { DYNOSAUR_ADMIN_PASSWORD: ADMIN_PASSWORD, DYNOSAUR_API_TOKEN: TOKEN, ...options.env },
    write: (line) => lines.push(line),
  });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await server.close();
  };
  onCleanup(close);
  return { server, dir, lines, clock, call: (method, path, o) => call(server.url, method, path, o), close };
}

/**
 * Resolves with `app`'s next tick, moving a ManualClock to each sleeper's wake-up time
 * whenever the server has nothing else to do (loopback I/O gets the event loop first).
 */
export async function nextTick(t: TestServer, app: string, count = 1): Promise<TickReport> {
  const clock = t.clock as ManualClock;
  let seen = 0;
  let last: TickReport | null = null;
  const off = t.server.supervisor.onTick((name, report) => {
    if (name === app) {
      seen++;
      last = report;
    }
  });
  try {
    for (let turn = 0; seen < count; turn++) {
      if (turn > 200_000) throw new Error(`${app} did not tick`);
      await new Promise((r) => setImmediate(r));
      if (turn % 20 === 19) {
        const wake = clock.nextWake();
        if (wake !== null) clock.set(wake);
      }
    }
  } finally {
    off();
  }
  return must<TickReport>(last, `a tick of ${app}`);
}

/** A dry-run config of the random plugin (no Heroku needed). */
export function dryRunConfig(
  overrides: { scaler?: Record<string, unknown>; plugins?: unknown[]; use?: string[] } = {},
) {
  return {
    use: overrides.use ?? ["random"],
    scaler: { dry_run: true, min_dynos: 1, max_dynos: 5, interval: 5, ...overrides.scaler },
    plugins: overrides.plugins ?? [{ type: "random", seed: 7, interval: 5 }],
  };
}

const POSTGRES_SH = fileURLToPath(new URL("../../../scripts/postgres.sh", import.meta.url));

/**
 * A fresh PostgreSQL database on the server scripts/postgres.sh starts (installing it when
 * needed). Fails, never skips, when there is none: a database never reached proves nothing.
 */
export async function freshDatabase(label: string): Promise<string> {
  const out = execFileSync("bash", [POSTGRES_SH], {
    encoding: "utf8",
    timeout: 300_000,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = out.trim().split("\n").at(-1) ?? "";
  expect(url).toMatch(/^postgres:\/\/.+@127\.0\.0\.1:\d+\//);
  const name = `dynosaur_web_${label}_${process.pid}_${Date.now()}`.toLowerCase().replace(/[^a-z0-9_]/g, "_");
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return url.replace(/\/[^/]*$/, `/${name}`);
}

/** Drops a database made by `freshDatabase` (closing what still uses it). */
export async function dropDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: url.replace(/\/[^/]*$/, "/postgres") });
  await admin.connect();
  try {
    await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
      [name],
    );
    await admin.query(`DROP DATABASE IF EXISTS ${name}`);
  } finally {
    await admin.end();
  }
}

/** Empties every table of the web app's schema in `url`'s database, so the next test starts from nothing. */
export async function emptyTables(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(
      "TRUNCATE apps, config_versions, ticks, minutes, minute_blocks, latest, events, sessions, api_tokens, instances, api_budgets CASCADE",
    );
  } finally {
    await c.end();
  }
}

/** Spawns the built server as a user would run it; killed after the test if still running. */
export function spawnServer(args: string[], options: { cwd: string; env: Record<string, string> }) {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? "", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal })),
  );
  onCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await exited;
    }
  });
  const waitFor = (pattern: RegExp, ms = 30_000) =>
    until(() => pattern.test(stdout), ms, `output matching ${pattern}; got:\n${stdout}\n${stderr}`);
  return { child, exited, waitFor, stdout: () => stdout, stderr: () => stderr };
}

/**
 * Waits until `check()` holds, for other processes (which run on the real clock): polls
 * every 25 ms, fails after `ms`.
 */
export async function until(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** How many rows `table` holds. */
export async function countRows(db: Kysely<Database>, table: keyof Database): Promise<number> {
  const row = await db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A JSON endpoint on 127.0.0.1 whose number (`{n}`) the test sets: an app's load. */
export async function gauge(): Promise<{ url: string; state: { value: number } }> {
  const state = { value: 0 };
  const server = createServer((_req, res) =>
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ n: state.value })),
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  onCleanup(() => new Promise((r) => server.close(r)));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/n`, state };
}

/**
 * A server whose DYNOSAUR_PUBLIC_URL is its own loopback address (the address it has Heroku
 * send deliveries to when it registers a drain or webhook itself): the port is picked first.
 */
export async function startPublicTestServer(options: Partial<ServerOptions> = {}): Promise<TestServer> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  return startTestServer({
    ...options,
    port,
    env: { DYNOSAUR_PUBLIC_URL: `http://127.0.0.1:${port}`, ...options.env },
  });
}
