// Benchmarks one dynosaur-web process hosting 100 (or --apps 1000) apps, as a user runs it (built dist, SQLite):
// each app runs the random plugin with a 10 s interval against the loopback Heroku fake
// (dry_run false), so every tick is a real engine tick with real Heroku calls.
//  - resident memory (RSS) of the server process, at the end of the hosting window
//  - CPU share of one core used by the server process over the hosting window (no API load)
//  - GET /api/apps latency (p50, p95, max) over sequential requests, after the window: the whole
//    list (every app on one page), and the first page of 50 (`?limit=50`)
//  - the overview's first page: GET /api/apps?limit=100 then GET /api/overview?limit=100, as the page loads it
//  - database growth per app per day as written, extrapolated from the window (before the pruner
//    drops ordinary ticks and packs finished hours: bench/storage.mjs measures the steady size)
// Usage: node bench/hundred-apps.mjs [--apps 100] [--seconds 120] [--requests 300] [--json]
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startHerokuFake } from "@dynosaur/fakes/heroku";

const { values } = parseArgs({
  options: {
    apps: { type: "string", default: "100" },
    seconds: { type: "string", default: "120" },
    requests: { type: "string", default: "300" },
    json: { type: "boolean", default: false },
  },
});
const APPS = Number(values.apps);
const SECONDS = Number(values.seconds);
const REQUESTS = Number(values.requests);
const INTERVAL_S = 10;
const TICKS_PER_SECOND = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
const TOKEN = "bench-api-token-for-dynosaur-web";
const bin = fileURLToPath(new URL("../dist/bin.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "dynosaur-web-bench-"));
const names = Array.from({ length: APPS }, (_, i) => `app-${String(i).padStart(3, "0")}`);
const say = (text) => values.json || process.stderr.write(`${text}\n`);

// Each real app would have its own account and rate budget: the fake's is made large enough.
const heroku = await startHerokuFake({
  rateLimit: { capacity: 1e9 },
  apps: Object.fromEntries(names.map((n) => [n, { formation: { web: { quantity: 1 } } }])),
});
const child = spawn(process.execPath, [bin, "--port", "0"], {
  cwd: dir,
  // Past the default cap of 500 apps when asked for more.
  env: {
    PATH: process.env.PATH,
    DYNOSAUR_API_TOKEN: TOKEN,
    HEROKU_API_KEY: heroku.apiKey,
    DYNOSAUR_MAX_APPS: String(Math.max(500, APPS)),
  },
  stdio: ["ignore", "pipe", "pipe"],
});
// The server logs every tick at info, as on Heroku; only the start is kept here.
let out = "";
const keep = (d) => {
  if (out.length < 100_000) out += d;
};
child.stdout.on("data", keep);
child.stderr.on("data", keep);
// Stopped early (Ctrl-C, a timeout): the server goes too.
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    process.exit(1);
  });
}
let url;
const api = async (method, path, body) => {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: body && JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text);
};

try {
  url = await new Promise((resolve, reject) => {
    const check = () => {
      const m = /listening on (http:\/\/\S+),/.exec(out);
      if (m) resolve(m[1]);
    };
    child.stdout.on("data", check);
    child.on("exit", () => reject(new Error(`the server exited: ${out}`)));
    setTimeout(() => reject(new Error(`the server did not start within 60 s: ${out}`)), 60_000).unref();
  });
  say(`creating ${APPS} apps...`);
  for (const [i, name] of names.entries()) {
    await api("PUT", `/api/apps/${name}/config`, {
      use: ["random"],
      scaler: {
        heroku_app_name: name,
        heroku_api_key: "${HEROKU_API_KEY}",
        heroku_api_url: heroku.url,
        interval: INTERVAL_S,
        min_dynos: 1,
        max_dynos: 50,
      },
      plugins: [{ type: "random", seed: i, interval: INTERVAL_S }],
    });
  }
  // Let every engine tick a few times before measuring.
  await sleep(2 * INTERVAL_S * 1000);

  const db = join(dir, "dynosaur.db");
  const sizeBefore = usedBytes(db);
  const cpuBefore = cpuSeconds(child.pid);
  const t0 = performance.now();
  say(`hosting ${APPS} apps for ${SECONDS} s...`);
  await sleep(SECONDS * 1000);
  const elapsed = (performance.now() - t0) / 1000;
  const cpuShare = (cpuSeconds(child.pid) - cpuBefore) / elapsed;
  const rss = rssBytes(child.pid);
  const sizeAfter = usedBytes(db);
  const rows = tableStats(db);

  // Each measured sequentially; the server's own CPU time per request too: unlike latency, not
  // inflated by other processes on a busy machine.
  const measure = async (label, count, request) => {
    say(`${count} x ${label}...`);
    const latencies = [];
    const cpuBefore = cpuSeconds(child.pid);
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      await request();
      latencies.push(performance.now() - started);
    }
    const cpu = (cpuSeconds(child.pid) - cpuBefore) / count;
    latencies.sort((a, b) => a - b);
    const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
    return {
      p50: round(pct(50)),
      p95: round(pct(95)),
      max: round(latencies.at(-1)),
      server_cpu_per_request: round(cpu * 1000),
    };
  };
  const paged = await measure("GET /api/apps?limit=50", REQUESTS, async () => {
    const body = await api("GET", "/api/apps?limit=50");
    if (body.apps.length !== Math.min(50, APPS)) throw new Error(`GET /api/apps?limit=50 listed ${body.apps.length}`);
  });
  const firstPage = await measure("overview first page", Math.max(10, Math.round(REQUESTS / 10)), async () => {
    await api("GET", "/api/apps?limit=100");
    await api("GET", "/api/overview?limit=100");
  });
  const whole = await measure("GET /api/apps", Math.max(10, Math.round(REQUESTS / (APPS > 100 ? 10 : 1))), async () => {
    const body = await api("GET", `/api/apps?limit=${APPS}`);
    if (body.apps.length !== APPS) throw new Error(`GET /api/apps listed ${body.apps.length} apps`);
  });

  const perAppPerDay = ((sizeAfter - sizeBefore) / APPS) * (86_400 / elapsed);
  const big = APPS > 100;
  const result = {
    apps: APPS,
    interval_s: INTERVAL_S,
    window_s: Math.round(elapsed),
    rss_mb: round(rss / 2 ** 20),
    cpu_percent_of_one_core: round(cpuShare * 100),
    api_apps_ms: whole,
    api_apps_limit_50_ms: paged,
    overview_first_page_ms: firstPage,
    db_growth_per_app_per_day_mb: round(perAppPerDay / 2 ** 20),
    db_rows: rows,
    load_average: round(loadavg()[0]),
    heroku_requests: heroku.count(),
    targets: big
      ? { rss_mb: 600, cpu_percent_of_one_core: 15, api_apps_limit_50_p95_ms: 50, overview_first_page_ms: 1000 }
      : { rss_mb: 250, cpu_percent_of_one_core: 5, api_apps_p95_ms: 50 },
  };
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    console.log(
      `dynosaur-web hosting ${APPS} apps (random plugin, ${INTERVAL_S} s interval, Heroku fake), ${result.window_s} s window:`,
    );
    const t = result.targets;
    const line = (label, m, target) =>
      console.log(
        `  ${label.padEnd(24)} p50 ${m.p50} ms, p95 ${m.p95} ms, max ${m.max} ms; ${m.server_cpu_per_request} ms of server CPU each${target ? `   (${target})` : ""}`,
      );
    console.log(`  RSS                      ${result.rss_mb} MB            (target <= ${t.rss_mb})`);
    console.log(
      `  CPU                      ${result.cpu_percent_of_one_core} % of one core   (target <= ${t.cpu_percent_of_one_core})`,
    );
    line("GET /api/apps (all)", whole, big ? "" : "target p95 <= 50");
    line("GET /api/apps?limit=50", paged, big ? "target p95 <= 50" : "");
    line("overview first page", firstPage, big ? "target <= 1000" : "");
    console.log(
      `  load average             ${result.load_average} on ${availableParallelism()} cores (a shared machine inflates latency)`,
    );
    console.log(
      `  database growth          ${result.db_growth_per_app_per_day_mb} MB per app per day as written (bench/storage.mjs: the steady size)`,
    );
  }
} finally {
  child.kill("SIGTERM");
  await new Promise((r) => child.on("close", r));
  await heroku.close();
  rmSync(dir, { recursive: true, force: true });
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

function round(n) {
  return Math.round(n * 10) / 10;
}

function cpuSeconds(pid) {
  const stat = execFileSync("cat", [`/proc/${pid}/stat`], { encoding: "utf8" });
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

function rssBytes(pid) {
  const status = execFileSync("cat", [`/proc/${pid}/status`], { encoding: "utf8" });
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) * 1024;
}

/** Bytes the database's pages hold, after moving the WAL into it (another connection may). */
function usedBytes(file) {
  const db = new DatabaseSync(file, { timeout: 5000 });
  try {
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    const pages = db.prepare("PRAGMA page_count").get().page_count;
    const free = db.prepare("PRAGMA freelist_count").get().freelist_count;
    const size = db.prepare("PRAGMA page_size").get().page_size;
    return (pages - free) * size;
  } finally {
    db.close();
  }
}

function tableStats(file) {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    // Payload plus a rough 24 bytes of keys and times per row: enough to split the growth by kind.
    const bytes = (sql) => db.prepare(sql).get().b;
    return {
      ticks: bytes("SELECT count(*) AS b FROM ticks"),
      ticksBytes: bytes("SELECT coalesce(sum(length(report)), 0) + count(*) * 24 AS b FROM ticks"),
      minutesBytes: bytes("SELECT coalesce(sum(length(sources)), 0) + count(*) * 24 AS b FROM minutes"),
      eventsBytes: bytes("SELECT coalesce(sum(length(message) + length(data)), 0) + count(*) * 24 AS b FROM events"),
    };
  } finally {
    db.close();
  }
}
