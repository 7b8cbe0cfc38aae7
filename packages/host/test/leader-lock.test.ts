import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ManualClock, memoryLogger } from "@dynosaur/core";
import { Client } from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type LeaderLock,
  localOwnership,
  lockKey,
  type Ownership,
  pgOwnership,
  startLeaderLock,
} from "../src/locks.js";
import { until } from "./fixtures.js";

/*
 * The leader lock against a real PostgreSQL server. scripts/postgres.sh installs and starts
 * one (idempotent); when it cannot, these tests fail: a lock that was never tried proves nothing.
 */
const POSTGRES_SH = fileURLToPath(new URL("../../../scripts/postgres.sh", import.meta.url));
let databaseUrl: string;
let admin: Client;

beforeAll(async () => {
  const out = execFileSync("bash", [POSTGRES_SH], {
    encoding: "utf8",
    timeout: 300_000,
    stdio: ["ignore", "pipe", "inherit"],
  });
  databaseUrl = out.trim().split("\n").at(-1) ?? "";
  expect(databaseUrl).toMatch(/^postgres:\/\/.+@127\.0\.0\.1:\d+\//);
  admin = new Client({ connectionString: databaseUrl });
  await admin.connect();
}, 320_000);
afterAll(() => admin?.end());

const locks: LeaderLock[] = [];
afterEach(async () => {
  await Promise.all(locks.splice(0).map((l) => l.stop()));
});

let appCounter = 0;
/** A fresh app name per test, so tests never contend for one another's locks. */
const freshApp = () => `shop-${process.pid}-${++appCounter}`;

async function lock(app: string, options: { processType?: string; instance?: string; url?: string } = {}) {
  const logger = memoryLogger();
  const l = await startLeaderLock({
    databaseUrl: options.url ?? databaseUrl,
    app,
    processType: options.processType ?? "web",
    logger,
    instance: options.instance ?? "test",
    retryInterval: 0.2,
    heartbeatInterval: 0.2,
    lease: 2,
  });
  locks.push(l);
  return { lock: l, logger };
}

describe("leader lock on PostgreSQL", () => {
  it("derives one 64-bit key per app and process type", () => {
    expect(lockKey("shop", "web")).toBe(lockKey("shop", "web"));
    expect(lockKey("shop", "web")).not.toBe(lockKey("shop", "worker"));
    expect(lockKey("shop", "web")).not.toBe(lockKey("shop2", "web"));
    const k = lockKey("shop", "web");
    expect(k >= -(2n ** 63n) && k < 2n ** 63n).toBe(true);
  });

  it("the first process leads, the second stands by and names the holder", async () => {
    const app = freshApp();
    const a = await lock(app, { instance: "web.1" });
    const b = await lock(app, { instance: "web.2" });
    expect(a.lock.isLeader()).toBe(true);
    expect(b.lock.isLeader()).toBe(false);
    expect(a.logger.text()).toMatch(/LEADING: this process holds the lock for shop-\S+ web/);
    expect(b.logger.text()).toMatch(
      /STANDING BY: dynosaur shop-\S+\/web web\.1 pid \d+ \(server pid \d+ from 127\.0\.0\.1\) holds the lock/,
    );
    expect(b.lock.describe()).toContain("web.1");
    const { rows } = await admin.query(
      "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted",
    );
    expect(rows[0].n).toBeGreaterThanOrEqual(1);
  });

  it("another process type or app is another lock", async () => {
    const app = freshApp();
    const web = await lock(app);
    const worker = await lock(app, { processType: "worker" });
    const other = await lock(freshApp());
    expect([web.lock.isLeader(), worker.lock.isLeader(), other.lock.isLeader()]).toEqual([true, true, true]);
  });

  it("when the holder stops, the standby takes over within its retry interval", async () => {
    const app = freshApp();
    const a = await lock(app);
    const b = await lock(app);
    await a.lock.stop();
    const took = await until(() => b.lock.isLeader(), 2000, "standby takes over");
    expect(took).toBeLessThan(1000);
    expect(b.logger.text()).toMatch(/TOOK OVER: this process holds the lock/);
  });

  it("a holder whose connection is cut stops leading at once, says so loudly, and the standby takes over", async () => {
    const app = freshApp();
    const a = await lock(app, { instance: "cut" });
    const b = await lock(app);
    expect(a.lock.isLeader()).toBe(true);
    const { rows } = await admin.query(
      "SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE application_name LIKE $1",
      [`dynosaur ${app}/web cut%`],
    );
    expect(rows).toHaveLength(1);
    await until(() => !a.lock.isLeader(), 2000, "the cut holder stands down");
    expect(a.logger.text()).toMatch(/LOST THE LEAD for shop-\S+ web/);
    await until(
      () => b.lock.isLeader() !== a.lock.isLeader() && (a.lock.isLeader() || b.lock.isLeader()),
      3000,
      "exactly one leads again",
    );
  });

  it("an unreachable database means no lead, a clear error, and never the password", async () => {
    const url = "postgres://dyno:s3cret-password-123@127.0.0.1:1/nowhere";
    const { lock: l, logger } = await lock(freshApp(), { url });
    expect(l.isLeader()).toBe(false);
    expect(l.describe()).toMatch(/the leader-lock database does not answer/);
    expect(logger.text()).toMatch(
      /cannot use the leader lock on 127\.0\.0\.1:1\/nowhere: .*not scaling until it answers/,
    );
    expect(logger.text()).not.toContain("s3cret-password-123");
    expect(l.describe()).not.toContain("s3cret-password-123");
  });

  it("a lead not confirmed within the lease no longer counts", async () => {
    const clock = new ManualClock();
    const logger = memoryLogger();
    const l = await startLeaderLock({
      databaseUrl,
      app: freshApp(),
      processType: "web",
      logger,
      clock,
      heartbeatInterval: 60,
      lease: 15,
    });
    locks.push(l);
    expect(l.isLeader()).toBe(true);
    // The next heartbeat is a minute away on this clock: 16 s pass with no confirmation.
    clock.advance(16_000);
    expect(l.isLeader()).toBe(false);
    expect(l.describe()).toMatch(/not confirmed for 16 s/);
  });
});

describe("server processes sharing apps on PostgreSQL", () => {
  const owners: Ownership[] = [];
  afterEach(async () => {
    await Promise.all(owners.splice(0).map((o) => o.close()));
  });
  const ownership = (instanceId: string) => {
    const o = pgOwnership({
      databaseUrl,
      instance: `share-test ${instanceId}`,
      instanceId,
      logger: memoryLogger(),
      clock: new ManualClock(),
      leaseMs: 15_000,
    });
    owners.push(o);
    return o;
  };

  it("a claim with a limit takes only that many free apps, in the order asked, skipping apps another holds", async () => {
    const run = freshApp();
    const apps = ["a", "b", "c", "d", "e"].map((x) => `${run}-${x}`);
    const first = ownership(`${run}-1`);
    const second = ownership(`${run}-2`);
    expect(await first.claim([apps[0], apps[2]] as string[])).toEqual(new Set([apps[0], apps[2]]));
    // The first two free ones in this order: b and d (a and c are held by the first).
    expect(await second.claim(apps, 2)).toEqual(new Set([apps[1], apps[3]]));
    expect(await second.claim(apps, 0)).toEqual(new Set([apps[1], apps[3]]));
    expect(await second.claim(apps, 5)).toEqual(new Set([apps[1], apps[3], apps[4]]));
  });

  it("tells which instances run by their session's lock: one whose session ends stops counting at once", async () => {
    const run = freshApp();
    const [one, two, gone] = [`${run}-1`, `${run}-2`, `${run}-never`];
    const first = ownership(one);
    const second = ownership(two);
    await second.heartbeat();
    expect(await first.live([one, two, gone])).toEqual(new Set([one, two]));
    const { rows } = await admin.query(
      "SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE application_name = $1",
      [`dynosaur-web locks share-test ${two}`],
    );
    expect(rows).toHaveLength(1);
    // The server ends the backend a moment after it is asked to.
    for (let i = 0; i < 100 && (await first.live([one, two]))?.has(two); i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(await first.live([one, two])).toEqual(new Set([one]));
    expect(await localOwnership().live([one])).toBeNull();
  });
});
