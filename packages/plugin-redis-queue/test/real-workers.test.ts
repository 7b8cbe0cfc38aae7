import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createRuntime, ManualClock, type TickReport } from "@dynosaur/core";
import { SimulatedFormation } from "@dynosaur/core/testing";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { celery, rq, sidekiq } from "../src/index.js";
import { instance, read, useRedis } from "./helpers.js";

/*
 * The plugins against the job libraries themselves, not keys written by hand: Debian's
 * Sidekiq 6.4 (ruby-sidekiq), RQ 1.13 (python3-rq) and Celery 5.2 (python3-celery), installed
 * by scripts/job-libraries.sh, enqueue through their own clients and run real worker processes
 * on the test Redis. (BullMQ's real client is in bullmq.test.ts.) A job runs until the test
 * pushes to its "gate" list (test/fixtures/gate_job.*): no job sleeps on the wall clock, and
 * readiness is polled with bounded retries.
 */
const JOB_LIBRARIES_SH = fileURLToPath(new URL("../../../scripts/job-libraries.sh", import.meta.url));
const FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));
const RUBY = "/usr/bin/ruby";
const SIDEKIQ = "/usr/bin/sidekiq";
const PYTHON = "/usr/bin/python3";

const redis = useRedis(7);

beforeAll(() => {
  execFileSync("bash", [JOB_LIBRARIES_SH], { timeout: 600_000, stdio: ["ignore", "inherit", "inherit"] });
}, 610_000);

const workers: ChildProcess[] = [];
/** Every gate a job of this test waits on. */
const gates = new Set<string>();
afterEach(async () => {
  // Let every job end first: RQ runs a job in a child of its own session, which killing the
  // worker's process group would leave blocked on its gate.
  await open(...gates);
  gates.clear();
  await Promise.all(workers.splice(0).map(stop));
});

/** Starts a worker process in its own process group; its output is kept for failure messages. */
function startWorker(command: string, args: string[]): { child: ChildProcess; output: () => string } {
  let output = "";
  const child = spawn(command, args, {
    cwd: FIXTURES,
    env: { ...process.env, REDIS_URL: redis.url, PYTHONPATH: FIXTURES },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (d: Buffer) => (output += d));
  child.stderr?.on("data", (d: Buffer) => (output += d));
  workers.push(child);
  return { child, output: () => output };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise((done) => child.once("exit", done));
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    // Already gone.
  }
  await exited;
}

/** Polls `check` up to `tries` times, 100 ms apart, until it holds; fails saying what was awaited. */
async function until(check: () => Promise<boolean>, what: string, details: () => string, tries = 300) {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect.fail(`${what} did not happen within ${tries} tries; worker output:\n${details()}`);
}

/** Records gates jobs will wait on, so that they are opened after the test whatever happens. */
function gate(names: string[]): string[] {
  for (const name of names) gates.add(name);
  return names;
}

/** Lets the jobs waiting on these gates finish. */
async function open(...names: string[]) {
  for (const g of names) await redis.admin.rPush(g, "go");
}

/** Every job that started has pushed to `<gate>:started`. */
async function started(...names: string[]): Promise<boolean> {
  const lengths = await Promise.all(names.map((g) => redis.admin.lLen(`${g}:started`)));
  return lengths.every((n) => n > 0);
}

/**
 * The engine with a worker process type at `initial` dynos (hold_while_busy, down to 0 after
 * `blackout` s), fed by `plugin`; each tick advances a ManualClock from the real now (RQ's
 * registry scores are real epoch seconds).
 */
async function engine(plugin: typeof sidekiq | typeof rq, initial: number, blackout: number) {
  const clock = new ManualClock(Date.now());
  const runtime = await createRuntime(
    {
      scaler: {
        heroku_app_name: "shop",
        heroku_api_key: "unused-the-formation-is-in-memory",
        interval: 5,
        blackout,
        scale_down_step: 0,
        policy: "seed",
      },
      processes: { worker: { min_dynos: 0, max_dynos: 4, hold_while_busy: true } },
      plugins: [{ name: "jobs", type: plugin.type, process: "worker", url: redis.url, jobs_per_dyno: 10, interval: 5 }],
    },
    { plugins: [plugin], clock, env: {}, formation: () => new SimulatedFormation({ worker: initial }, clock) },
  );
  return {
    runtime,
    /** Advances the clock by `seconds` and ticks: the worker's report. */
    async tick(seconds: number): Promise<TickReport> {
      clock.advance(seconds * 1000);
      const report = (await runtime.tick()).find((r) => r.processType === "worker");
      expect(report).toBeDefined();
      return report as TickReport;
    },
  };
}

describe("Sidekiq 6 (Debian's ruby-sidekiq), a real process", () => {
  const enqueue = (...names: string[]) =>
    execFileSync(RUBY, ["-r", "./gate_job.rb", "-e", "ARGV.each { |g| GateJob.perform_async(g) }", ...gate(names)], {
      cwd: FIXTURES,
      env: { ...process.env, REDIS_URL: redis.url },
      stdio: ["ignore", "ignore", "pipe"],
    });
  const startSidekiq = () => startWorker(SIDEKIQ, ["-r", "./gate_job.rb", "-c", "2", "-t", "1", "-q", "default"]);

  it("counts its running jobs as busy (its `<identity>:workers` hash), and the queue as depth before it starts", async () => {
    enqueue("sk-a", "sk-b", "sk-c");
    const jobs = await instance(sidekiq, { url: redis.url, jobs_per_dyno: 1 });
    expect(await read(jobs)).toEqual({ value: 3, busy: 0 });

    const worker = startSidekiq();
    // Concurrency 2: two jobs run, one waits. The heartbeat records them within 5 s.
    await until(
      async () => (await started("sk-a", "sk-b")) && (await read(jobs)).busy === 2,
      "Sidekiq running two jobs",
      worker.output,
    );
    expect(await read(jobs)).toEqual({ value: 1, busy: 2 });
    expect(await redis.admin.keys("*:workers")).toHaveLength(1); // Sidekiq 6's name, not 7's `:work`
    const filtered = await instance(sidekiq, { url: redis.url, jobs_per_dyno: 1, queues: ["default", "mailers"] });
    expect((await read(filtered)).busy).toBe(2);

    await open("sk-a", "sk-b", "sk-c");
    await until(async () => (await read(jobs)).busy === 0, "Sidekiq finishing its jobs", worker.output);
    expect(await read(jobs)).toEqual({ value: 0, busy: 0 });
  }, 60_000);

  it("holds the worker type while it runs jobs, far past the blackout; scales it to 0 once they are done", async () => {
    enqueue("hold-a", "hold-b");
    const worker = startSidekiq();
    const jobs = await instance(sidekiq, { url: redis.url, jobs_per_dyno: 10 });
    await until(
      async () => (await started("hold-a", "hold-b")) && (await read(jobs)).busy === 2,
      "Sidekiq running both jobs",
      worker.output,
    );
    const { runtime, tick } = await engine(sidekiq, 4, 60);
    try {
      // Nothing waits, two jobs run: 4 → 0 would kill them. Held for ten blackouts.
      for (let i = 0; i < 10; i++)
        expect(await tick(60)).toMatchObject({
          before: 4,
          after: 4,
          reason: expect.stringMatching(/^holding: 2 job\(s\) running/),
        });

      await open("hold-a", "hold-b");
      await until(async () => (await read(jobs)).busy === 0, "Sidekiq finishing both jobs", worker.output);
      const after: TickReport[] = [];
      for (let i = 0; i < 3; i++) after.push(await tick(60));
      expect(after.at(-1)).toMatchObject({ after: 0 });
    } finally {
      await runtime.stop();
    }
  }, 60_000);
});

describe("RQ (Debian's python3-rq), a real worker", () => {
  const enqueue = (...names: string[]) =>
    execFileSync(
      PYTHON,
      [
        "-c",
        "import os, sys\nfrom redis import Redis\nfrom rq import Queue\nq = Queue('default', connection=Redis.from_url(os.environ['REDIS_URL']))\nfor g in sys.argv[1:]: q.enqueue('gate_job.wait_for', g, job_timeout=3600)",
        ...gate(names),
      ],
      {
        cwd: FIXTURES,
        env: { ...process.env, REDIS_URL: redis.url, PYTHONPATH: FIXTURES },
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
  const startRq = () => startWorker("/usr/bin/rq", ["worker", "--url", redis.url, "default"]);

  it("counts its running job as busy (the StartedJobRegistry) and the rest as depth; holds the worker type while it runs", async () => {
    enqueue("rq-a", "rq-b");
    const jobs = await instance(rq, { url: redis.url, jobs_per_dyno: 10 }, new ManualClock(Date.now()));
    expect(await read(jobs)).toEqual({ value: 2, busy: 0 });

    const worker = startRq();
    // One job at a time per RQ worker.
    await until(
      async () => (await started("rq-a")) && (await read(jobs)).busy === 1,
      "RQ running the first job",
      worker.output,
    );
    expect(await read(jobs)).toEqual({ value: 1, busy: 1 });

    // The registry's heartbeat score is real time plus about 90 s: the engine's clock stays within it.
    const { runtime, tick } = await engine(rq, 3, 20);
    try {
      for (let i = 0; i < 3; i++)
        expect(await tick(15)).toMatchObject({ before: 3, after: 3, reason: expect.stringMatching(/^holding: 1 job/) });
    } finally {
      await runtime.stop();
    }

    await open("rq-a");
    await until(
      async () => (await started("rq-b")) && (await read(jobs)).value === 0,
      "RQ taking the second job",
      worker.output,
    );
    expect(await read(jobs)).toEqual({ value: 0, busy: 1 });
    await open("rq-b");
    await until(async () => (await read(jobs)).busy === 0, "RQ finishing the second job", worker.output);
  }, 60_000);
});

describe("Celery (Debian's python3-celery) with its Redis broker", () => {
  it("depth: tasks sent by Celery's own client, priority sub-queues included, on the queue kombu registered", async () => {
    execFileSync(
      PYTHON,
      [
        "-c",
        [
          "import os",
          "from celery import Celery",
          "app = Celery('shop', broker=os.environ['REDIS_URL'])",
          "for i in range(3): app.send_task('shop.work', args=[i])",
          "app.send_task('shop.work', args=[9], priority=9)",
          "app.send_task('shop.mail', args=[1], queue='mailers')",
        ].join("\n"),
      ],
      { cwd: FIXTURES, env: { ...process.env, REDIS_URL: redis.url }, stdio: ["ignore", "ignore", "pipe"] },
    );
    const all = await instance(celery, { url: redis.url, jobs_per_dyno: 2 });
    expect(await read(all)).toEqual({ value: 5 });
    expect(await read(await instance(celery, { url: redis.url, jobs_per_dyno: 2, queues: ["celery"] }))).toEqual({
      value: 4,
    });
  }, 60_000);
});
