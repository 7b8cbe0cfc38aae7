// Benchmarks apps spread across dynosaur-web processes on one PostgreSQL (built dist; the server
// scripts/postgres.sh starts, in a fresh database), each app running the random plugin with a
// 10 s interval against the loopback Heroku fake (dry_run false), on the real clock:
//  - the spread once every process runs (apps each one scales, from GET /api/instances), and the
//    seconds from the last app saved until every app is scaled once and each process is within
//    20 % of its share
//  - after a SIGKILL of one process: the seconds until the others scale every app (target <= 10)
//  - after a process joins: the seconds until it scales about its share, and the spread then
//  - apps PATCHed by two processes in turn and back again (a sign of two scaling one app: 0)
// Usage: node bench/spread.mjs [--apps 300] [--processes 3] [--json]
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startHerokuFake } from "@dynosaur/fakes/heroku";
import pg from "pg";

const { values } = parseArgs({
  options: {
    apps: { type: "string", default: "300" },
    processes: { type: "string", default: "3" },
    json: { type: "boolean", default: false },
  },
});
const APPS = Number(values.apps);
const PROCESSES = Number(values.processes);
const INTERVAL_S = 10;
const TOKEN = "bench-api-token-for-dynosaur-web";
const bin = fileURLToPath(new URL("../dist/bin.js", import.meta.url));
const postgresSh = fileURLToPath(new URL("../../../scripts/postgres.sh", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "dynosaur-web-spread-"));
const names = Array.from({ length: APPS }, (_, i) => `app-${String(i).padStart(4, "0")}`);
const say = (text) => values.json || process.stderr.write(`${text}\n`);

const serverUrl = execFileSync("bash", [postgresSh], { encoding: "utf8" }).trim().split("\n").at(-1);
const database = `dynosaur_spread_bench_${process.pid}`;
const admin = new pg.Client({ connectionString: serverUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${database}`);
const databaseUrl = serverUrl.replace(/\/[^/]*$/, `/${database}`);

const heroku = await startHerokuFake({
  rateLimit: { capacity: 1e9 },
  apps: Object.fromEntries(names.map((n) => [n, { formation: { web: { quantity: 1 } } }])),
});
const children = [];
const start = async () => {
  const child = spawn(process.execPath, [bin, "--port", "0"], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: databaseUrl,
      DYNOSAUR_API_TOKEN: TOKEN,
      DYNOSAUR_SECRET_KEY: "ef".repeat(32),
      HEROKU_API_KEY: heroku.apiKey,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  // Every tick is logged: only the start is kept.
  let out = "";
  const keep = (d) => {
    if (out.length < 100_000) out += d;
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const url = await new Promise((resolve, reject) => {
    const check = () => {
      const m = /listening on (http:\/\/\S+),/.exec(out);
      if (m) resolve(m[1]);
    };
    child.stdout.on("data", check);
    child.on("exit", () => reject(new Error(`a server exited: ${out}`)));
    setTimeout(() => reject(new Error(`a server did not start within 60 s: ${out}`)), 60_000).unref();
  });
  return { child, url };
};
const api = async (url, method, path, body) => {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: body && JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text);
};
const instances = async (url) => (await api(url, "GET", "/api/instances")).instances;
/** Seconds until `check(instances)` holds, polling every 100 ms; fails after `limit` seconds. */
const secondsUntil = async (url, check, limit, what) => {
  const t0 = performance.now();
  for (;;) {
    const list = await instances(url);
    const s = (performance.now() - t0) / 1000;
    if (check(list)) return { seconds: round(s), instances: list };
    if (s > limit) throw new Error(`not within ${limit} s: ${what}; ${spreadOf(list)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};
const allOnce = (list) => {
  const apps = list.flatMap((i) => i.apps);
  return apps.length === APPS && new Set(apps).size === APPS;
};
const balanced = (list) => {
  const share = Math.ceil(APPS / list.length);
  return allOnce(list) && list.every((i) => i.owned >= 0.8 * share && i.owned <= 1.2 * share);
};
const spreadOf = (list) => list.map((i) => i.owned).join(" / ");

try {
  say(`starting ${PROCESSES} processes on PostgreSQL...`);
  const procs = [];
  for (let i = 0; i < PROCESSES; i++) procs.push(await start());
  const first = procs[0];
  say(`creating ${APPS} apps...`);
  for (const [i, name] of names.entries()) {
    await api(first.url, "PUT", `/api/apps/${name}/config`, {
      use: ["random"],
      scaler: {
        heroku_app_name: name,
        heroku_api_key: "${HEROKU_API_KEY}",
        heroku_api_url: heroku.url,
        interval: INTERVAL_S,
        min_dynos: 1,
        max_dynos: 50,
        blackout: 0,
      },
      plugins: [{ type: "random", seed: i, interval: INTERVAL_S }],
    });
  }
  const spread = await secondsUntil(first.url, balanced, 120, "every process within 20 % of its share");
  say(`spread ${spreadOf(spread.instances)} after ${spread.seconds} s`);
  await new Promise((r) => setTimeout(r, 2 * INTERVAL_S * 1000));

  const victim = procs.at(-1);
  say("killing one process (SIGKILL)...");
  victim.child.kill("SIGKILL");
  const kill = await secondsUntil(
    first.url,
    (list) => list.length === PROCESSES - 1 && allOnce(list),
    60,
    "the others scale every app",
  );
  say(`the others scale every app ${kill.seconds} s after the kill: ${spreadOf(kill.instances)}`);
  await new Promise((r) => setTimeout(r, INTERVAL_S * 1000));

  say("a process joins...");
  const t0 = performance.now();
  await start();
  const join = await secondsUntil(
    first.url,
    (list) => list.length === PROCESSES && balanced(list),
    120,
    "the joiner takes its share",
  );
  const joinSeconds = round((performance.now() - t0) / 1000);
  say(`balanced ${joinSeconds} s after the joiner started: ${spreadOf(join.instances)}`);
  await new Promise((r) => setTimeout(r, INTERVAL_S * 1000));

  // PATCH senders of each app in order: X, Y, X means two processes scaled it in turn.
  const senders = new Map();
  for (const r of heroku.requests) {
    const app = /^\/apps\/([^/]+)\/formation/.exec(r.path)?.[1];
    const by = /\(([^)]+)\)/.exec(String(r.headers["user-agent"]))?.[1];
    if (r.method !== "PATCH" || !app || !by) continue;
    const runs = senders.get(app) ?? [];
    if (runs.at(-1) !== by) runs.push(by);
    senders.set(app, runs);
  }
  const interleaved = [...senders.values()].filter((runs) => new Set(runs).size < runs.length).length;
  const result = {
    apps: APPS,
    processes: PROCESSES,
    interval_s: INTERVAL_S,
    spread: spread.instances.map((i) => i.owned),
    balanced_s: spread.seconds,
    after_kill_all_scaled_s: kill.seconds,
    after_kill_spread: kill.instances.map((i) => i.owned),
    join_balanced_s: joinSeconds,
    join_spread: join.instances.map((i) => i.owned),
    apps_patched: senders.size,
    apps_patched_by_two_in_turn: interleaved,
    targets: { after_kill_all_scaled_s: 10, apps_patched_by_two_in_turn: 0 },
  };
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    console.log(
      `dynosaur-web: ${APPS} apps on ${PROCESSES} processes, one PostgreSQL (${INTERVAL_S} s interval, Heroku fake):`,
    );
    console.log(
      `  spread                   ${result.spread.join(" / ")} (share ${Math.ceil(APPS / PROCESSES)}), ${result.balanced_s} s after the last save`,
    );
    console.log(
      `  after a SIGKILL          every app scaled again in ${result.after_kill_all_scaled_s} s (target <= 10): ${result.after_kill_spread.join(" / ")}`,
    );
    console.log(
      `  after a process joins    balanced in ${result.join_balanced_s} s: ${result.join_spread.join(" / ")}`,
    );
    console.log(`  two processes in turn    ${interleaved} of ${senders.size} apps PATCHed (target 0)`);
  }
} finally {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  await Promise.all(
    children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.on("close", r)) : null)),
  );
  await heroku.close();
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => {});
  await admin.end();
  rmSync(dir, { recursive: true, force: true });
}

function round(n) {
  return Math.round(n * 10) / 10;
}
