// Benchmarks one dynosaur-web process taking Heroku log drains, as a user runs it (built dist,
// SQLite): 100 apps, each with a heroku-router source (dry run) reading its drain, and each
// drain receiving 20 router lines a second in one Logplex delivery per second, as Logplex
// batches them: 2,000 router lines/s in 100 POSTs/s, spread evenly over each second.
//  - drain POST latency (p50, p99, max), measured by the sender over keep-alive connections
//  - the server's event-loop delay beside it, and what stalled the loop: garbage collection,
//    SQLite statements (node:sqlite runs them on the loop), stalls by second of the minute
//    (bench/loop-probe.mjs, loaded into the server); the sender's own loop delay too, as a busy
//    sender inflates the latency it measures
//  - the machine's load average at the start and at the end, to judge the figures by
//  - CPU share of one core used by the server process over the window
//  - that every line was counted: the last minute's requests of an app, read back from the API
// Usage: node bench/drain.mjs [--apps 100] [--rate 20] [--seconds 60] [--connections 32] [--cpu-prof DIR] [--json]
//   --connections: keep-alive connections the sender posts over (fewer on a busy machine)
//   --cpu-prof: the server writes a V8 CPU profile into DIR when it stops (open it in Chrome's DevTools)
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { drainFeed, logplexFrame, takeDelivery } from "@dynosaur/plugin-heroku-router";
import { Agent, request } from "undici";

const { values } = parseArgs({
  options: {
    apps: { type: "string", default: "100" },
    rate: { type: "string", default: "20" },
    seconds: { type: "string", default: "60" },
    connections: { type: "string", default: "32" },
    "cpu-prof": { type: "string" },
    json: { type: "boolean", default: false },
  },
});
const APPS = Number(values.apps);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const loadAtStart = loadavg();
const TICKS_PER_SECOND = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
const TOKEN = "bench-api-token-for-dynosaur-web";
const bin = fileURLToPath(new URL("../dist/bin.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "dynosaur-web-drain-bench-"));
const names = Array.from({ length: APPS }, (_, i) => `app-${String(i).padStart(3, "0")}`);
const say = (text) => values.json || process.stderr.write(`${text}\n`);

const probe = fileURLToPath(new URL("./loop-probe.mjs", import.meta.url));
const profile = values["cpu-prof"] ? ["--cpu-prof", `--cpu-prof-dir=${values["cpu-prof"]}`] : [];
const child = spawn(process.execPath, [...profile, "--import", probe, bin, "--port", "0"], {
  cwd: dir,
  env: { PATH: process.env.PATH, DYNOSAUR_API_TOKEN: TOKEN },
  stdio: ["ignore", "pipe", "pipe", "ipc"],
});
/** The probe's figures since the last "reset". */
const probeReport = () =>
  new Promise((resolve) => {
    child.once("message", resolve);
    child.send("report");
  });
let out = "";
const keep = (d) => {
  if (out.length < 100_000) out += d;
};
child.stdout.on("data", keep);
child.stderr.on("data", keep);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    process.exit(1);
  });
}
// Logplex keeps connections open to a drain; so does the sender.
const agent = new Agent({ connections: CONNECTIONS, keepAliveTimeout: 30_000 });
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

/** One second of an app's router lines, framed as Logplex frames them. */
function delivery(second) {
  const frames = [];
  for (let i = 0; i < RATE; i++) {
    const n = second * RATE + i;
    frames.push(
      logplexFrame({
        appName: "heroku",
        procId: "router",
        timestamp: new Date().toISOString(),
        text: `at=info method=GET path="/items/${n}" host=shop.herokuapp.com request_id=00000000-0000-4000-8000-${String(n).padStart(12, "0")} fwd="10.0.0.1" dyno=web.${(n % 4) + 1} connect=1ms service=${15 + (n % 80)}ms status=200 bytes=1432 protocol=https`,
      }),
    );
  }
  return frames.join("");
}

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
  say(`creating ${APPS} apps with a heroku-router source and a drain...`);
  const paths = [];
  for (const name of names) {
    await api("PUT", `/api/apps/${name}/config`, {
      use: ["heroku-router"],
      scaler: { dry_run: true, heroku_app_name: name, interval: 10, min_dynos: 1, max_dynos: 50 },
      plugins: [{ type: "heroku-router", metric: "requests", requests_per_dyno: 600, interval: 10 }],
    });
    paths.push(new URL((await api("GET", `/api/apps/${name}/drain`)).url).pathname);
  }

  say(`${APPS} drains x ${RATE} router lines/s for ${SECONDS} s...`);
  const latencies = [];
  let failures = 0;
  let frameId = 0;
  const post = async (path, body) => {
    const started = performance.now();
    const res = await request(`${url}${path}`, {
      method: "POST",
      dispatcher: agent,
      headers: {
        "content-type": "application/logplex-1",
        "logplex-msg-count": String(RATE),
        "logplex-frame-id": `bench-${++frameId}`,
        "logplex-drain-token": "d.00000000-0000-4000-8000-000000000000",
      },
      body,
    });
    await res.body.dump();
    latencies.push(performance.now() - started);
    if (res.statusCode !== 204) failures++;
  };
  const cpuBefore = cpuSeconds(child.pid);
  child.send("reset");
  const senderDelay = monitorEventLoopDelay({ resolution: 10 });
  senderDelay.enable();
  const t0 = performance.now();
  const pending = new Set();
  for (let second = 0; second < SECONDS; second++) {
    for (const [i, path] of paths.entries()) {
      // Each app's delivery at its own slot of the second, as 100 independent drains would come.
      const due = t0 + second * 1000 + (i * 1000) / APPS;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      const p = post(path, delivery(second)).finally(() => pending.delete(p));
      pending.add(p);
    }
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - t0) / 1000;
  const cpuShare = (cpuSeconds(child.pid) - cpuBefore) / elapsed;
  senderDelay.disable();
  const server = await probeReport();
  const seen = await api("GET", `/api/apps/${names[0]}/drain`);
  const counted = seen.last_minute.requests;

  latencies.sort((a, b) => a - b);

  // The server's own work per delivery (parse + aggregate), timed in this process: what is
  // left of the latency once the network and a busy machine's scheduler are taken out.
  const feed = drainFeed("bench");
  const bodies = Array.from({ length: 100 }, (_, s) => new TextEncoder().encode(delivery(s)));
  const own = [];
  for (let i = 0; i < 20_000; i++) {
    const started = performance.now();
    takeDelivery(feed, bodies[i % bodies.length], { msgCount: String(RATE), frameId: `own-${i}` }, Date.now());
    own.push(performance.now() - started);
  }
  own.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
  const result = {
    apps: APPS,
    lines_per_second: Math.round((latencies.length * RATE) / elapsed),
    posts: latencies.length,
    failed_posts: failures,
    window_s: Math.round(elapsed),
    drain_ms: { p50: round(pct(50)), p99: round(pct(99)), max: round(latencies.at(-1)) },
    take_delivery_ms: {
      p50: Math.round(own[Math.floor(own.length / 2)] * 1000) / 1000,
      p99: Math.round(own[Math.floor(own.length * 0.99)] * 1000) / 1000,
    },
    cpu_percent_of_one_core: round(cpuShare * 100),
    // Unlike latency, not inflated by other processes on a busy machine.
    server_cpu_per_post_ms: Math.round(((cpuShare * elapsed) / latencies.length) * 1000 * 100) / 100,
    deliveries_of_one_app: seen.deliveries,
    last_minute_requests_of_one_app: counted,
    server_loop_delay_ms: server.loop_delay_ms,
    server_stalls_over_20ms: server.stalls_over_20ms,
    server_stalls_ms: server.stalls_ms,
    server_worst_stalls: server.worst_stalls,
    server_most_running_stall: server.most_running_stall,
    server_gc: server.gc,
    server_sqlite: server.sqlite,
    sender_loop_delay_ms: {
      // Beyond the 10 ms sampling interval, as the server's (bench/loop-probe.mjs).
      p50: round(Math.max(0, senderDelay.percentile(50) / 1e6 - 10)),
      p99: round(Math.max(0, senderDelay.percentile(99) / 1e6 - 10)),
      max: round(Math.max(0, senderDelay.max / 1e6 - 10)),
    },
    connections: CONNECTIONS,
    load_average: { start: loadAtStart.map(round), end: loadavg().map(round), cores: availableParallelism() },
    targets: { drain_p99_ms: 50, cpu_percent_of_one_core: 25 },
  };
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    console.log(`dynosaur-web taking ${APPS} log drains x ${RATE} router lines/s, ${result.window_s} s window:`);
    console.log(
      `  throughput               ${result.lines_per_second} router lines/s in ${result.posts} POSTs (${failures} failed)`,
    );
    console.log(
      `  drain POST               p50 ${result.drain_ms.p50} ms, p99 ${result.drain_ms.p99} ms, max ${result.drain_ms.max} ms   (target p99 <= 50)`,
    );
    console.log(
      `  parse + aggregate        p50 ${result.take_delivery_ms.p50} ms, p99 ${result.take_delivery_ms.p99} ms per ${RATE}-line delivery (in process, no network)`,
    );
    console.log(
      `  CPU                      ${result.cpu_percent_of_one_core} % of one core   (target <= 25); ${result.server_cpu_per_post_ms} ms of server CPU per POST`,
    );
    const stall = (s) => `${s.ms} ms (ran ${s.ran_ms}) at :${String(s.second).padStart(2, "0")}`;
    const loop = (d) => `p50 ${d.p50} ms, p99 ${d.p99} ms, max ${d.max} ms`;
    const sql = server.sqlite;
    console.log(`  server event-loop delay  ${loop(server.loop_delay_ms)}`);
    console.log(
      `  server stalls > 20 ms    ${server.stalls_over_20ms}, ${server.stalls_ms.total} ms in all, of which the loop ran ${server.stalls_ms.running} ms (the rest it waited for a core)`,
    );
    if (server.worst_stalls.length)
      console.log(
        `                           worst ${server.worst_stalls.map(stall).join(", ")}; ran longest ${stall(server.most_running_stall)}`,
      );
    console.log(
      `  server GC                ${server.gc.pauses} pauses (${server.gc.major} major), ${server.gc.total_ms} ms in all, longest ${server.gc.max_ms} ms; heap ${server.gc.heap_used_mb} MB in use`,
    );
    console.log(
      `  server SQLite            ${sql.calls} statements, ${sql.total_ms} ms in all, longest ${sql.max_ms} ms (${sql.max_statement})`,
    );
    for (const t of sql.top)
      console.log(
        `                             ${t.total_ms} ms in ${t.calls} x, longest ${t.max_ms} ms: ${t.statement}`,
      );
    console.log(`  sender event-loop delay  ${loop(result.sender_loop_delay_ms)} (${CONNECTIONS} connections)`);
    console.log(
      `  counted                  ${seen.deliveries} of ${SECONDS} deliveries to app-000, ${counted} requests in its last 60 whole seconds`,
    );
    const load = (l) => l.map((n) => n.toFixed(1)).join(" ");
    console.log(
      `  load average (1/5/15 min) ${load(result.load_average.start)} at the start, ${load(result.load_average.end)} at the end, on ${availableParallelism()} cores`,
    );
  }
} finally {
  await agent.close();
  child.kill("SIGTERM");
  await new Promise((r) => child.on("close", r));
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
