import { execFileSync } from "node:child_process";
import { createServer, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { type DynosaurError, ManualClock, type PluginDefinition, PluginError, type Reading } from "@dynosaur/core";
import { createTestInstance, type TestInstance } from "@dynosaur/core/testing";
import { createClient } from "@redis/client";
import { afterAll, afterEach, beforeAll, beforeEach, expect } from "vitest";

/*
 * Real Redis for every test: scripts/redis.sh installs and starts a throwaway server
 * (idempotent). When it cannot, these tests fail: a read that never met Redis proves nothing.
 * Each test file takes its own logical database, so files run in parallel.
 */
const REDIS_SH = fileURLToPath(new URL("../../../scripts/redis.sh", import.meta.url));

/** The instant the tests' ManualClock starts at; job timestamps are written relative to it. */
export const NOW = Date.UTC(2026, 2, 1, 12, 0, 0);

export type Admin = ReturnType<typeof adminClient>;

function adminClient(url: string) {
  const client = createClient({ url, RESP: 2 });
  client.on("error", () => {});
  return client;
}

export interface RedisFixture {
  /** redis://127.0.0.1:PORT/DB: this file's database. */
  url: string;
  /** The server's URL without a database. */
  serverUrl: string;
  /** A client on this file's database, for writing jobs as the libraries do. */
  admin: Admin;
}

/** Starts (or reuses) the test server, gives this file database `db` and empties it before each test. */
export function useRedis(db: number): RedisFixture {
  const fixture = {} as RedisFixture;
  beforeAll(async () => {
    const out = execFileSync("bash", [REDIS_SH], {
      encoding: "utf8",
      timeout: 300_000,
      stdio: ["ignore", "pipe", "inherit"],
    });
    fixture.serverUrl = out.trim().split("\n").at(-1) ?? "";
    expect(fixture.serverUrl).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    fixture.url = `${fixture.serverUrl}/${db}`;
    fixture.admin = adminClient(fixture.url);
    await fixture.admin.connect();
  }, 320_000);
  beforeEach(async () => {
    await fixture.admin.flushDb();
  });
  afterAll(async () => {
    await fixture.admin?.close();
  });
  return fixture;
}

const instances: TestInstance[] = [];
afterEach(async () => {
  await Promise.all(instances.splice(0).map((i) => i.close()));
});

/** Creates an instance the way core does, with a ManualClock at NOW; closed after the test. */
export async function instance(
  plugin: PluginDefinition,
  options: Record<string, unknown>,
  clock = new ManualClock(NOW),
) {
  const made = await createTestInstance(plugin, options, { clock });
  instances.push(made);
  return made;
}

/** A signal that never aborts, for reads that should finish. */
export function never(): AbortSignal {
  return new AbortController().signal;
}

/** Reads once and returns the `{ value, busy }` reading. */
export async function read(made: TestInstance): Promise<Reading> {
  const reading = await made.instance.retrieve(never());
  expect(typeof reading).toBe("object");
  return reading as Reading;
}

/** Awaits a failing read, checks it is a PluginError matching `pattern` that holds no secret. */
export async function expectFailure(
  promise: Promise<unknown>,
  pattern: RegExp,
  secrets: string[],
): Promise<DynosaurError> {
  const error = await promise.then(
    () => expect.fail("expected the read to fail"),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PluginError);
  const e = error as PluginError;
  expect(e.message).toMatch(pattern);
  expectNoSecret([e], secrets);
  return e;
}

export function expectNoSecret(things: unknown[], secrets: string[]): void {
  for (const thing of things) {
    const text =
      thing instanceof Error
        ? `${(thing as DynosaurError).format?.() ?? thing.message} ${thing.stack ?? ""} ${String(thing.cause ?? "")}`
        : JSON.stringify(thing);
    for (const secret of secrets) expect(text).not.toContain(secret);
  }
}

/** A Redis ACL user of the test server that may only read (+@read +@connection), and its URL. */
export async function readOnlyUser(fixture: RedisFixture, name: string, password: string): Promise<string> {
  await fixture.admin.sendCommand([
    "ACL",
    "SETUSER",
    name,
    "reset",
    "on",
    `>${password}`,
    "~*",
    "&*",
    "+@read",
    "+@connection",
  ]);
  const u = new URL(fixture.url);
  u.username = name;
  u.password = password;
  return u.toString();
}

/**
 * A server that accepts TCP connections and never answers: a hung Redis, or a firewall that
 * swallows packets after the handshake.
 */
export async function startSilentServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    url: `redis://:hung-password-9f3a@127.0.0.1:${address.port}/0`,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}
