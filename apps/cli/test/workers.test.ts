import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { ManualClock, type TickReport } from "@dynosaur/core";
import { type HerokuFake, startHerokuFake } from "@dynosaur/fakes/heroku";
import { createHostRuntime } from "@dynosaur/host";
import random from "@dynosaur/plugin-random";
import { createClient } from "@redis/client";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { main } from "../src/main.js";
import { spawnCli, tempDir, until } from "./helpers.js";

/*
 * Issue 15 end to end: web from the random plugin and worker from a Sidekiq queue in one
 * config, through the built CLI, against the Heroku fake and a real Redis
 * (scripts/redis.sh). Jobs are written exactly as Sidekiq 8.0 writes them
 * (lib/sidekiq/client.rb `atomic_push`: SADD queues, LPUSH queue:<name>, `enqueued_at` in
 * epoch ms) and running jobs as its launcher records them (lib/sidekiq/launcher.rb: the
 * `processes` set, the process hash, its `<identity>:work` hash).
 */
const REDIS_SH = fileURLToPath(new URL("../../../scripts/redis.sh", import.meta.url));
/** This file's Redis database (the redis-queue plugin's own tests use 1–6). */
const DB = 20;

let redisUrl: string;
let redis: ReturnType<typeof createClient>;
let heroku: HerokuFake;

beforeAll(async () => {
  const out = execFileSync("bash", [REDIS_SH], {
    encoding: "utf8",
    timeout: 300_000,
    stdio: ["ignore", "pipe", "inherit"],
  });
  redisUrl = `${out.trim().split("\n").at(-1)}/${DB}`;
  expect(redisUrl).toMatch(/^redis:\/\/127\.0\.0\.1:\d+\/20$/);
  redis = createClient({ url: redisUrl, RESP: 2 });
  redis.on("error", () => {});
  await redis.connect();
  heroku = await startHerokuFake({ apps: {} });
}, 320_000);
beforeEach(async () => {
  await redis.flushDb();
});
afterAll(async () => {
  await redis?.flushDb();
  await redis?.close();
  await heroku?.close();
});

const jid = () => randomBytes(12).toString("hex");

/** `count` jobs pushed as Sidekiq 8 pushes them. */
async function pushJobs(queue: string, count: number) {
  await redis.sAdd("queues", queue);
  for (let i = 0; i < count; i++) {
    const now = Date.now();
    await redis.lPush(
      `queue:${queue}`,
      JSON.stringify({
        retry: true,
        queue,
        args: [i],
        class: "HardJob",
        jid: jid(),
        created_at: now,
        enqueued_at: now,
      }),
    );
  }
}

/** A Sidekiq process that took every job of `queue` and runs `running` of them (the queue is left empty, its name registered). */
async function pickUp(queue: string, identity: string, running: number) {
  await redis.del(`queue:${queue}`);
  await redis.sAdd("processes", identity);
  await redis.hSet(identity, {
    busy: String(running),
    beat: String(Date.now() / 1000),
    quiet: "false",
    info: JSON.stringify({ hostname: "worker.1", concurrency: 5 }),
  });
  for (let i = 0; i < running; i++) {
    await redis.hSet(
      `${identity}:work`,
      `tid${i}`,
      JSON.stringify({
        queue,
        payload: JSON.stringify({ queue, class: "HardJob", jid: jid() }),
        run_at: Date.now() / 1000,
      }),
    );
  }
}

/** Every job done, the process gone. */
async function finish(identity: string) {
  await redis.del(`${identity}:work`);
  await redis.del(identity);
  await redis.sRem("processes", identity);
}

function workersConfig(herokuUrl: string, blackout: number) {
  return `use: [random, redis-queue]
scaler:
  heroku_app_name: shop
  heroku_api_key: \${HEROKU_API_KEY}
  heroku_api_url: ${herokuUrl}
  # The seed's rules: this test follows exact quantities through wake, hold and back to zero.
  policy: seed
  interval: 0.25
  heroku_poll_interval: 0.5
  blackout: ${blackout}
  scale_down_step: 0
processes:
  web: { min_dynos: 2, max_dynos: 4 }
  worker: { min_dynos: 0, max_dynos: 5, hold_while_busy: true }
plugins:
  - { name: site, type: random, max_value: 1, interval: 0.25 }
  - { name: jobs, type: sidekiq, process: worker, url: "\${REDIS_URL}", queues: [default], jobs_per_dyno: 10, interval: 0.25 }
`;
}

type TickLine = Omit<TickReport, "time"> & { time: string; event: string };

/** The complete JSON tick lines printed so far. */
function tickLines(output: string): TickLine[] {
  return output
    .split("\n")
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as TickLine];
      } catch {
        return [];
      }
    })
    .filter((l) => l.event === "tick");
}

describe("worker dynos end to end: Sidekiq in Redis, web from random, through the CLI", () => {
  it("jobs wake the worker in one batch PATCH, running jobs hold it, a drained queue takes it back to zero after the blackout", async () => {
    const blackoutS = 1.5;
    heroku.setApp("shop", { formation: { web: { quantity: 1 }, worker: { quantity: 0 } } });
    heroku.clearRequests();
    await pushJobs("default", 35);
    const dir = tempDir({ "c.yaml": workersConfig(heroku.url, blackoutS) });
    const run = spawnCli(["c.yaml", "--log-format", "json"], {
      cwd: dir,
      env: { HEROKU_API_KEY: heroku.apiKey, REDIS_URL: redisUrl },
    });
    const patches = () => heroku.requests.filter((r) => r.method === "PATCH");
    try {
      // 1. The first tick: web up to its minimum, worker 0 → ceil(35 / 10), in one call to the batch endpoint.
      // The tick line is printed once Heroku has answered: wait for it, not for the request.
      await until(
        () => tickLines(run.output()).some((t) => t.processType === "worker" && t.after !== 0),
        15_000,
        "a worker tick scaling up",
      );
      const [first] = patches();
      expect(first?.path).toBe("/apps/shop/formation");
      expect(first?.body).toEqual({
        updates: [
          { type: "web", quantity: 2 },
          { type: "worker", quantity: 4 },
        ],
      });
      expect(heroku.formation("shop", "worker")?.quantity).toBe(4);
      const woke = tickLines(run.output()).find((t) => t.processType === "worker" && t.after === 4);
      expect(woke).toMatchObject({
        before: 0,
        reason: "scale up",
        winner: "jobs",
        sources: [expect.objectContaining({ name: "jobs", value: 35, estimate: 4, busy: 0 })],
      });
      expect(
        tickLines(run.output())
          .find((t) => t.processType === "web" && t.after === 2)
          ?.sources.map((s) => s.name),
      ).toEqual(["site"]);

      // 2. Sidekiq takes the jobs: nothing waits, 3 run. hold_while_busy keeps 4 workers well past the blackout.
      await pickUp("default", "worker.1:4:0123456789ab", 3);
      const scaledAt = first?.at ?? 0;
      await until(
        () =>
          tickLines(run.output()).some(
            (t) =>
              t.processType === "worker" &&
              t.reason.startsWith("holding: 3 job(s) running") &&
              Date.parse(t.time) > scaledAt + (blackoutS + 1) * 1000,
          ),
        15_000,
        "a worker tick holding for running jobs after the blackout",
      );
      expect(patches()).toHaveLength(1);
      expect(heroku.formation("shop", "worker")?.quantity).toBe(4);

      // 3. Done: idle from now; back to zero only once idle for the blackout.
      await finish("worker.1:4:0123456789ab");
      await until(
        () => tickLines(run.output()).some((t) => t.processType === "worker" && t.before === 4 && t.after === 0),
        15_000,
        "worker back to 0",
      );
      // Between the last running job and the scale-down, the worker was held while idle (how
      // long exactly is the core tests' business, on a manual clock).
      const worker = tickLines(run.output()).filter((t) => t.processType === "worker");
      const lastBusy = worker.findLastIndex((t) => t.reason.startsWith("holding: 3 job(s) running"));
      const afterJobs = worker.slice(lastBusy + 1);
      const downAt = afterJobs.findIndex((t) => t.after === 0);
      expect(afterJobs[downAt]).toMatchObject({ before: 4, reason: "scale down" });
      expect(afterJobs.slice(0, downAt).length).toBeGreaterThan(0);
      for (const t of afterJobs.slice(0, downAt))
        expect(t).toMatchObject({
          before: 4,
          after: 4,
          reason: expect.stringMatching(/^idle \d s of 1\.5 s before scaling to zero$/),
        });
      expect(patches()).toHaveLength(2);
      expect(patches()[1]?.body).toEqual({ updates: [{ type: "worker", quantity: 0 }] });
      expect(heroku.formation("shop", "web")?.quantity).toBe(2);
    } finally {
      run.child.kill("SIGTERM");
    }
    const { code, stdout, stderr } = await run.exited;
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).not.toContain(heroku.apiKey);
    expect(stdout).toContain("scaling shop web 2..4, worker 0..5 dynos every 0.25 s");
  }, 60_000);
});

describe("a schedule window through the engine against the Heroku fake", () => {
  it("raises web's minimum at the window's start in scaler.timezone, on a manual clock", async () => {
    // Friday 6 March 2026, 06:59:00 UTC = 08:59 in Helsinki (EET).
    const clock = new ManualClock(Date.UTC(2026, 2, 6, 6, 59, 0));
    heroku.setApp("shop", { formation: { web: { quantity: 1 }, worker: { quantity: 0 } } });
    heroku.clearRequests();
    const runtime = await createHostRuntime(
      {
        scaler: {
          heroku_app_name: "shop",
          heroku_api_key: heroku.apiKey,
          heroku_api_url: heroku.url,
          interval: 30,
          blackout: 300,
          timezone: "Europe/Helsinki",
        },
        processes: {
          web: {
            min_dynos: 1,
            max_dynos: 6,
            schedule: [{ days: ["mon", "tue", "wed", "thu", "fri"], from: "09:00", to: "17:00", min_dynos: 3 }],
          },
          worker: { min_dynos: 0, max_dynos: 2 },
        },
        plugins: [{ name: "site", type: "random", max_value: 1, interval: 30 }],
      },
      { plugins: [random], clock, env: {} },
    );
    try {
      const web = async () => (await runtime.tick()).find((r) => r.processType === "web");
      expect(await web()).toMatchObject({ before: 1, after: 1 });
      clock.advance(30_000);
      expect(await web()).toMatchObject({ before: 1, after: 1 }); // 08:59:30
      clock.advance(30_000); // 09:00:00 Helsinki
      expect(await web()).toMatchObject({ before: 1, after: 3, reason: "below min_dynos (3)" });
      expect(heroku.formation("shop", "web")?.quantity).toBe(3);
      expect(heroku.requests.filter((r) => r.method === "PATCH").map((r) => r.body)).toEqual([
        { updates: [{ type: "web", quantity: 3 }] },
      ]);
      expect(runtime.status().processes.find((p) => p.processType === "web")).toMatchObject({
        minDynos: 3,
        maxDynos: 6,
        current: 3,
      });
    } finally {
      await runtime.stop();
    }
  });
});

describe("dynosaur check with several process types", () => {
  const CONFIG = `use: [random, redis-queue]
scaler:
  dry_run: true
  timezone: Europe/Helsinki
processes:
  web:
    min_dynos: 1
    max_dynos: 6
    schedule:
      - { days: [mon, tue, wed, thu, fri], from: "08:00", to: "18:00", min_dynos: 3 }
  worker: { min_dynos: 0, max_dynos: 5, blackout: 120, scale_down_step: 0, hold_while_busy: true }
plugins:
  - { name: site, type: random }
  - { name: jobs, type: sidekiq, process: worker, url: "\${REDIS_URL}", jobs_per_dyno: 10 }
`;
  const REDIS_URL = "redis://:redis-secret-pw-1234@127.0.0.1:1/0";

  async function check(now: number) {
    const dir = tempDir({ "c.yaml": CONFIG });
    let stdout = "";
    let stderr = "";
    const code = await main({
      argv: ["check", "c.yaml"],
      cwd: dir,
      env: { REDIS_URL },
      stdout: { write: (t: string) => (stdout += t) },
      stderr: { write: (t: string) => (stderr += t) },
      clock: new ManualClock(now),
    });
    expect(stderr).toBe("");
    expect(code).toBe(0);
    return stdout;
  }

  it("prints each process type's limits in force now, the next schedule change and the sources that drive it", async () => {
    // Monday 2 March 2026, 05:00 UTC = 07:00 in Helsinki: before the window.
    const before = await check(Date.UTC(2026, 2, 2, 5, 0));
    expect(before).toContain(
      [
        "tick every 5 s; schedules in Europe/Helsinki",
        "processes:",
        "  web: 1..6 dynos now, blackout 0 s, scale-down step to the estimate",
        "    next change: Mon 2026-03-02 08:00 Europe/Helsinki (06:00 UTC): 3..6 dynos (schedule[0])",
        "    driven by: site",
        "  worker: 0..5 dynos now, blackout 120 s, scale-down step to the estimate, no scale-down while jobs run",
        "    driven by: jobs",
        "sources:",
      ].join("\n"),
    );
    expect(before).toMatch(
      / {2}- site: random from @dynosaur\/plugin-random@[\d.]+, every 60 s, drives web\n {2}- jobs: sidekiq from @dynosaur\/plugin-redis-queue@[\d.]+, every 60 s, drives worker\n/,
    );
    expect(before).not.toContain("redis-secret-pw-1234");

    // Friday 6 March, 15:00 UTC = 17:00 in Helsinki: inside; the next change ends the window, then the weekend.
    const inside = await check(Date.UTC(2026, 2, 6, 15, 0));
    expect(inside).toContain(
      "  web: 3..6 dynos now (schedule[0]), blackout 0 s, scale-down step to the estimate\n    next change: Fri 2026-03-06 18:00 Europe/Helsinki (16:00 UTC): 1..6 dynos (outside every window)\n",
    );
  });
});
