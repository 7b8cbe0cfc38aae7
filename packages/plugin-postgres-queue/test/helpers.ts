import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { DynosaurError, type PluginDefinition, PluginError, type Reading } from "@dynosaur/core";
import { createTestInstance, type TestInstance } from "@dynosaur/core/testing";
import pg from "pg";
import { afterAll, afterEach, beforeAll, expect } from "vitest";

/*
 * Every test runs against a real PostgreSQL server: scripts/postgres.sh installs and starts
 * one (idempotent). Without it these tests fail: a query never run proves nothing.
 */
const POSTGRES_SH = fileURLToPath(new URL("../../../scripts/postgres.sh", import.meta.url));

export function serverUrl(): string {
  const out = execFileSync("bash", [POSTGRES_SH], {
    encoding: "utf8",
    timeout: 300_000,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = out.trim().split("\n").at(-1) ?? "";
  expect(url).toMatch(/^postgres:\/\/.+@127\.0\.0\.1:\d+\//);
  return url;
}

export interface TestDatabase {
  /** URL of this file's own database. */
  url: string;
  /** A connection to it, for setting up tables and jobs. */
  sql: pg.Client;
  /** The server's URL (its `postgres` database). */
  serverUrl: string;
}

/**
 * A database of its own for the calling test file (so files run in parallel), dropped after
 * it. Its default time zone is far from UTC, as a Rails app's database may be: the plugins
 * must read Rails' UTC timestamps right whatever the server's setting.
 */
export function useDatabase(prefix: string): TestDatabase {
  const db = { url: "", serverUrl: "" } as TestDatabase;
  const name = `dynosaur_${prefix}_${process.pid}_${randomBytes(4).toString("hex")}`;
  let admin: pg.Client;
  beforeAll(async () => {
    db.serverUrl = serverUrl();
    admin = new pg.Client({ connectionString: db.serverUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.query(`ALTER DATABASE ${name} SET timezone = 'Pacific/Auckland'`);
    db.url = db.serverUrl.replace(/\/postgres$/, `/${name}`);
    db.sql = new pg.Client({ connectionString: db.url });
    await db.sql.connect();
  }, 320_000);
  afterAll(async () => {
    await db.sql?.end();
    await admin?.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin?.end();
  });
  return db;
}

/** Runs a DDL fixture from test/fixtures. */
export async function loadFixture(sql: pg.Client, file: string): Promise<void> {
  await sql.query(readFileSync(fileURLToPath(new URL(`./fixtures/${file}`, import.meta.url)), "utf8"));
}

const open: TestInstance[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((i) => i.close()));
});

/** Creates an instance as core does; closed after the test. */
export async function instance(plugin: PluginDefinition, options: Record<string, unknown>): Promise<TestInstance> {
  const created = await createTestInstance(plugin, options);
  open.push(created);
  return created;
}

/** One reading with a signal that does not abort. */
export async function read(plugin: PluginDefinition, options: Record<string, unknown>): Promise<Reading> {
  const { instance: i } = await instance(plugin, options);
  const reading = await i.retrieve(new AbortController().signal);
  expect(typeof reading).toBe("object");
  return reading as Reading;
}

/** Awaits a failing retrieve; checks it is a PluginError matching `pattern` that shows none of `secrets`. */
export async function expectFailure(
  promise: Promise<unknown>,
  pattern: RegExp,
  secrets: string[] = [],
): Promise<PluginError> {
  const error = await promise.then(
    () => expect.fail("expected the poll to fail"),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PluginError);
  const e = error as PluginError;
  expect(e.message).toMatch(pattern);
  expectNoSecret(e, secrets);
  return e;
}

export function expectNoSecret(thing: unknown, secrets: string[]): void {
  const text =
    thing instanceof DynosaurError
      ? `${thing.format()} ${thing.stack ?? ""}`
      : thing instanceof Error
        ? `${thing.message} ${thing.stack}`
        : String(thing);
  for (const secret of secrets) expect(text).not.toContain(secret);
}

/** A loopback TCP server that accepts connections and never says a word: a hung database. */
export async function startSilentServer(): Promise<{ url: string; connections: () => number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
  });
  const port = await listen(server);
  return {
    url: `postgres://app:s3cret-hang-pw@127.0.0.1:${port}/app`,
    connections: () => accepted,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

/**
 * A loopback server speaking PostgreSQL's protocol 3 as a server with `password`
 * authentication does: it asks for the password (AuthenticationCleartextPassword), and
 * answers any password with the FATAL 28P01 error PostgreSQL sends for a wrong one.
 * It keeps what it received, so a test can check the URL's password reached it.
 */
export async function startPasswordRejectingServer(): Promise<{
  port: number;
  passwords: string[];
  close(): Promise<void>;
}> {
  const passwords: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let buffer = Buffer.alloc(0);
    let user = "";
    let started = false;
    socket.on("data", (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (true) {
        if (!started) {
          if (buffer.length < 4) return;
          const length = buffer.readInt32BE(0);
          if (buffer.length < length) return;
          const body = buffer.subarray(4, length);
          buffer = buffer.subarray(length);
          const code = body.readInt32BE(0);
          if (code === 80877103) {
            // SSLRequest: this server has no TLS.
            socket.write("N");
            continue;
          }
          expect(code).toBe(196608); // protocol 3.0
          const params = body.subarray(4).toString("utf8").split("\0");
          user = params[params.indexOf("user") + 1] ?? "";
          started = true;
          socket.write(message("R", int32(3)));
          continue;
        }
        if (buffer.length < 5) return;
        const type = String.fromCharCode(buffer.readUInt8(0));
        const length = buffer.readInt32BE(1);
        if (buffer.length < 1 + length) return;
        const body = buffer.subarray(5, 1 + length);
        buffer = buffer.subarray(1 + length);
        if (type !== "p") {
          socket.destroy();
          return;
        }
        passwords.push(body.toString("utf8").replace(/\0$/, ""));
        const fields = [
          "SFATAL",
          "VFATAL",
          "C28P01",
          `Mpassword authentication failed for user "${user}"`,
          "Fauth.c",
          "L323",
          "Rauth_failed",
        ];
        socket.end(message("E", Buffer.from(`${fields.join("\0")}\0\0`, "utf8")));
        return;
      }
    });
  });
  const port = await listen(server);
  return {
    port,
    passwords,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

function message(type: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(type), int32(body.length + 4), body]);
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port));
  });
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

/** Waits until `check` holds, polling the database's state (never a fixed sleep). */
export async function until(check: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * SQL for "N seconds ago" as Rails writes it into a `timestamp without time zone` column:
 * UTC wall time (negative N = in the future).
 */
export const railsTime = (secondsAgo: number) => `((now() AT TIME ZONE 'UTC') - make_interval(secs => ${secondsAgo}))`;

/** Expects a latency reading of the oldest job, `seconds` old when it was written (the test itself takes a moment). */
export function expectAge(value: number, seconds: number): void {
  expect(value).toBeGreaterThanOrEqual(seconds);
  expect(value).toBeLessThan(seconds + 60);
}
