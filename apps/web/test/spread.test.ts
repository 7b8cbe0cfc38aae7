import { ManualClock } from "@dynosaur/core";
import { type HerokuFake, startHerokuFake } from "@dynosaur/fakes/heroku";
import { instanceLockKey } from "@dynosaur/host";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../src/server.js";
import { call, dropDatabase, freshDatabase, must, onCleanup, TOKEN, tempDir, until } from "./helpers.js";

/*
 * Apps spread across server processes on one real PostgreSQL: three in-process servers
 * (each with its own database pool, lock session and clock) scaling 300 apps against the
 * loopback Heroku fake. Which process scaled an app is read from what Heroku received (each
 * sends its instance id in its User-Agent), and checked against when each process started
 * and stopped scaling the app (its log), so no app is PATCHed by a process while another
 * one scales it.
 */
let databaseUrl: string;
beforeAll(async () => {
  databaseUrl = await freshDatabase("spread");
}, 320_000);
afterAll(() => dropDatabase(databaseUrl));

const APPS = Array.from({ length: 300 }, (_, i) => `app-${String(i).padStart(3, "0")}`);
const INTERVAL_S = 10;
/** The server's default supervision round. */
const POLL_MS = 2000;
const START = Date.UTC(2026, 0, 1);

interface Proc {
  name: string;
  server: RunningServer;
  clock: ManualClock;
  /** False once "killed": its clock no longer moves. */
  alive: boolean;
}

/** Who started and stopped scaling which app, placed by how many requests Heroku had received by then. */
interface Mark {
  at: number;
  proc: string;
  app: string;
  event: "app-start" | "app-stop";
}

describe("apps spread across server processes on one PostgreSQL", () => {
  it("three processes take about a third of 300 apps each; a killed one's apps move within 10 s; a fourth takes its share; no app is scaled by two", {
    timeout: 240_000,
  }, async () => {
    const heroku = await startHerokuFake({
      rateLimit: { capacity: 1e9 },
      apps: Object.fromEntries(APPS.map((a) => [a, { formation: { web: { quantity: 1 } } }])),
    });
    onCleanup(() => heroku.close());
    const marks: Mark[] = [];
    /** Each app's tick times (manual clock), from whichever process ticked it. */
    const ticks = new Map<string, number[]>();
    const procs: Proc[] = [];

    const start = async (name: string, at: number): Promise<Proc> => {
      const clock = new ManualClock(at);
      let id = "";
      const server = await startServer({
        cwd: tempDir(),
        port: 0,
        host: "127.0.0.1",
        clock,
        pollMs: POLL_MS,
        logFormat: "json",
        env: {
          DATABASE_URL: databaseUrl,
          DYNOSAUR_API_TOKEN: TOKEN,
          DYNOSAUR_SECRET_KEY: "cd".repeat(32),
          HEROKU_API_KEY: heroku.apiKey,
        },
        write: (line) => {
          const entry = JSON.parse(line) as { event?: string; web_app?: string };
          if ((entry.event === "app-start" || entry.event === "app-stop") && entry.web_app)
            marks.push({ at: heroku.requests.length, proc: id || name, app: entry.web_app, event: entry.event });
        },
      });
      id = server.instanceId;
      server.supervisor.onTick((app) => {
        const list = ticks.get(app) ?? [];
        list.push(clock.now());
        ticks.set(app, list);
      });
      const proc = { name, server, clock, alive: true };
      procs.push(proc);
      onCleanup(() => server.close());
      return proc;
    };
    const live = () => procs.filter((p) => p.alive);
    const now = () => must(live()[0], "a live process").clock.now();
    /** One second of every live process's time, then every supervision round it woke is over. */
    const second = async () => {
      for (const p of live()) p.clock.advance(1000);
      await new Promise((r) => setImmediate(r));
      await Promise.all(live().map((p) => p.server.supervisor.idle()));
    };
    const owned = () => new Map(live().map((p) => [p, p.server.supervisor.scaling]));
    const everyAppOwnedOnce = () => {
      const all = [...owned().values()].flat();
      return all.length === APPS.length && new Set(all).size === APPS.length;
    };
    const spreadNow = () =>
      live()
        .map((p) => `${p.name} scales ${p.server.supervisor.scaling.length}`)
        .join(", ");
    /** Seconds until `check()` holds, failing after `limit` seconds. */
    const secondsUntil = async (check: () => boolean, limit: number, what: string): Promise<number> => {
      for (let s = 0; ; s++) {
        if (check()) return s;
        if (s >= limit) throw new Error(`not within ${limit} s: ${what}; ${spreadNow()}`);
        await second();
      }
    };
    const balanced = () => everyAppOwnedOnce() && live().every((p) => inRange(p.server.supervisor.scaling.length));
    const inRange = (n: number) => n >= 80 && n <= 120;

    // One process alone takes every app saved through it.
    const a = await start("a", START);
    for (const app of APPS)
      expect((await call(a.server.url, "PUT", `/api/apps/${app}/config`, { body: config(heroku, app) })).status).toBe(
        200,
      );
    expect(a.server.supervisor.scaling).toHaveLength(300);

    // Two more join: the first lets apps go a few at a time, the others take them.
    const b = await start("b", now());
    const c = await start("c", now());
    await secondsUntil(balanced, 60, "three processes with 80-120 apps each");
    // A few more rounds change nothing: nobody fights over apps once balanced.
    const settled = new Map([...owned()].map(([p, apps]) => [p.name, [...apps].sort()]));
    for (let s = 0; s < 3 * INTERVAL_S; s++) await second();
    for (const p of live())
      expect([p.name, [...p.server.supervisor.scaling].sort()]).toEqual([p.name, settled.get(p.name)]);
    const spread = (await call(a.server.url, "GET", "/api/instances")).json.instances as {
      id: string;
      apps: string[];
      owned: number;
      share: number;
    }[];
    expect(spread).toHaveLength(3);
    for (const i of spread) {
      expect(i.share).toBe(100);
      expect(i.owned).toBe(i.apps.length);
      expect(inRange(i.owned)).toBe(true);
    }
    expect(spread.flatMap((i) => i.apps).sort()).toEqual(APPS);

    // "kill -9" c: its clock stops (no more rounds or ticks) and, once its last calls are
    // answered, the database ends its lock session as it would for a dead process.
    c.alive = false;
    await quiet(heroku);
    await terminateSession(databaseUrl, c.server.instanceId);
    const cApps = c.server.supervisor.scaling.length;
    expect(cApps).toBeGreaterThanOrEqual(80);
    const took = await secondsUntil(everyAppOwnedOnce, 10, "the two left scale all 300 apps");
    expect(took).toBeLessThanOrEqual(10);
    // It leaves the list at once: its heartbeat row is still fresh, its lock is gone.
    const afterKill = (await call(a.server.url, "GET", "/api/instances")).json.instances as { id: string }[];
    expect(afterKill.map((i) => i.id).sort()).toEqual([a.server.instanceId, b.server.instanceId].sort());

    // A fourth joins and takes about its share, the others letting go of what it takes.
    const d = await start("d", now());
    await secondsUntil(balanced, 60, "three live processes with 80-120 apps each after one joined");
    expect(inRange(d.server.supervisor.scaling.length)).toBe(true);
    for (let s = 0; s < 2 * INTERVAL_S; s++) await second();
    await quiet(heroku);

    // Heroku saw every app PATCHed, and each PATCH came from the process scaling the app then.
    const patches = heroku.requests.flatMap((r, at) => {
      const app = /^\/apps\/([^/]+)\/formation/.exec(r.path)?.[1];
      const by = /\(([^)]+)\)/.exec(String(r.headers["user-agent"]))?.[1];
      return r.method === "PATCH" && app && by ? [{ at, app, by }] : [];
    });
    expect(new Set(patches.map((p) => p.app)).size).toBeGreaterThan(250);
    const ids = new Set(procs.map((p) => p.server.instanceId));
    for (const patch of patches) {
      expect(ids.has(patch.by)).toBe(true);
      const last = marks.filter((m) => m.app === patch.app && m.at <= patch.at).at(-1);
      expect([patch, last?.event, last?.proc]).toEqual([patch, "app-start", patch.by]);
    }
    // Apps moved (rebalancing and the kill), and none missed more than one tick when it did.
    const moved = APPS.filter((app) => new Set(marks.filter((m) => m.app === app).map((m) => m.proc)).size > 1);
    expect(moved.length).toBeGreaterThan(cApps);
    for (const app of APPS) {
      const times = must(ticks.get(app), `ticks of ${app}`);
      const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
      expect([app, Math.max(...gaps) <= 2 * INTERVAL_S * 1000]).toEqual([app, true]);
    }
  });
});

function config(heroku: HerokuFake, app: string) {
  return {
    use: ["random"],
    scaler: {
      heroku_app_name: app,
      heroku_api_key: "${HEROKU_API_KEY}",
      heroku_api_url: heroku.url,
      interval: INTERVAL_S,
      heroku_poll_interval: INTERVAL_S,
      min_dynos: 1,
      max_dynos: 8,
      blackout: 0,
    },
    plugins: [{ type: "random", seed: 11, interval: INTERVAL_S, max_value: 8 }],
  };
}

/** Waits until Heroku has heard nothing new for a moment: every call under way was answered. */
async function quiet(heroku: HerokuFake): Promise<void> {
  let seen = -1;
  await until(
    () => {
      const n = heroku.requests.length;
      const still = n === seen;
      seen = n;
      return still;
    },
    10_000,
    "the Heroku calls under way to end",
  );
}

/** Ends the lock session of an instance from the server side, as PostgreSQL does when the process dies. */
async function terminateSession(url: string, instanceId: string): Promise<void> {
  const key = BigInt.asUintN(64, instanceLockKey(instanceId));
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ ended: boolean }>(
      `SELECT pg_terminate_backend(pid) AS ended FROM pg_locks
       WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND classid::bigint = $1 AND objid::bigint = $2`,
      [Number(key >> 32n), Number(key & 0xffffffffn)],
    );
    expect(rows.map((r) => r.ended)).toEqual([true]);
  } finally {
    await admin.end();
  }
}
