// Benchmarks "Try it first" on the longest span it accepts: 14 days of stored minutes
// (20,160 rows of one process type) replayed with a draft and the running config, as the page asks.
//  - POST /api/apps/{name}/replay end to end (read the rows from SQLite, check the draft, replay twice, answer)
//  - the two replays alone (replayReadings, on rows already read)
// Built dist, an in-process server on a temporary SQLite file; each figure is the median of --runs.
// Usage: node bench/replay.mjs [--days 14] [--runs 5] [--json]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ManualClock, parseConfig } from "@dynosaur/core";
import { replayReadings } from "../dist/replay.js";
import { startServer } from "../dist/server.js";

const { values } = parseArgs({
  options: {
    days: { type: "string", default: "14" },
    runs: { type: "string", default: "5" },
    json: { type: "boolean", default: false },
  },
});
const DAYS = Number(values.days);
const RUNS = Number(values.runs);
const MINUTE = 60_000;
const TOKEN = "bench-api-token-for-dynosaur-web";
const dir = mkdtempSync(join(tmpdir(), "dynosaur-web-replay-bench-"));
const clock = new ManualClock(Date.UTC(2026, 0, 15));
const server = await startServer({
  cwd: dir,
  port: 0,
  host: "127.0.0.1",
  clock,
  env: { DYNOSAUR_API_TOKEN: TOKEN },
  write: () => {},
});

const call = async (method, path, body) => {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  return { text, json: JSON.parse(text) };
};
const config = (minDynos) => ({
  use: ["random"],
  scaler: { dry_run: true, min_dynos: minDynos, max_dynos: 20, interval: 5 },
  plugins: [{ type: "random", interval: 5 }],
});
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  await call("PUT", "/api/apps/shop/config", config(1));
  // Only the stored rows below: no engine adds its own.
  await server.supervisor.stop();
  await server.recorder.flush();
  await server.stores.store.db.deleteFrom("minutes").execute();
  const app = await server.stores.apps.get("shop");
  const last = Math.floor(clock.now() / MINUTE) * MINUTE;
  const count = DAYS * 1440;
  // A daily wave of 0 to 38 (0 to 19 dynos) with noise: something for the engine to follow.
  let seed = 1;
  const noise = () => {
    seed = (seed * 16807) % 2147483647;
    return (seed / 2147483647) * 6;
  };
  const minutes = Array.from({ length: count }, (_, i) => ({
    appId: app.id,
    processType: "web",
    minute: last - (count - 1 - i) * MINUTE,
    dynos: null,
    estimate: null,
    sources: [
      {
        name: "random",
        value: Math.round(16 - 16 * Math.cos((2 * Math.PI * i) / 1440) + noise()),
        estimate: null,
        health: "ok",
      },
    ],
  }));
  await server.stores.readings.write({ ticks: [], minutes, events: [] });

  const endToEnd = [];
  let answer = null;
  for (let r = 0; r < RUNS; r++) {
    const started = performance.now();
    answer = await call("POST", "/api/apps/shop/replay", { config: config(3), days: DAYS });
    endToEnd.push(performance.now() - started);
  }
  const rows = await server.stores.readings.minutes(app.id, last - DAYS * 86_400_000 + MINUTE, last + MINUTE, count);
  const loaded = await server.stores.loader.load(["random"], ["use[0]"]);
  const asReplayed = (c) => ({ config: parseConfig(c, {}).config, plugins: loaded.map((p) => p.plugin) });
  const replayOnly = [];
  for (let r = 0; r < RUNS; r++) {
    const started = performance.now();
    await replayReadings(rows, asReplayed(config(1)), asReplayed(config(3)));
    replayOnly.push(performance.now() - started);
  }
  const result = {
    days: DAYS,
    rows: rows.length,
    endpoint_ms: Math.round(median(endToEnd)),
    replays_ms: Math.round(median(replayOnly)),
    answer_kb: Math.round(answer.text.length / 1024),
    running: answer.json.running,
    draft: answer.json.draft,
  };
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    console.log(`replay of ${DAYS} days (${result.rows} stored minutes), running vs draft, median of ${RUNS}:`);
    console.log(`  POST /api/apps/{name}/replay   ${result.endpoint_ms} ms   (${result.answer_kb} KB answer)`);
    console.log(`  the two replays alone          ${result.replays_ms} ms`);
  }
} finally {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
