// Benchmarks `runBacktest` (what `dynosaur simulate` runs), from the built dist:
//  - a 30-day per-minute trace (43,200 minutes): one policy ticking at each minute's end (the
//    default), the same at the engine's 5 s interval, and the three --compare policies;
//  - the 14-day AWS trace of examples/traces (20,200 minutes) under --compare;
//  - `dynosaur tune` on the 30 days: every default headroom of the forecast policy + 3 anchors;
//  - the replay time per 30 days of the default policy against its budget (<= 1 s).
// Usage: node bench/backtest.mjs [--runs N] [--json]
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { definePlugin, z } from "@dynosaur/core";
import { COMPARE_POLICIES, parseTrace, runBacktest, runTune } from "../dist/index.js";

const { values } = parseArgs({
  options: { runs: { type: "string", default: "3" }, json: { type: "boolean", default: false } },
});
const runs = Math.max(1, Number(values.runs));

// Same conversion as the New Relic plugin: ceil(rpm / rpm_per_dyno).
const plugin = definePlugin({
  type: "rpm",
  unit: "requests/min",
  options: z.object({ rpm_per_dyno: z.number().positive() }),
  create: (o) => ({
    retrieve: async () => {
      throw new Error("a replay never polls");
    },
    estimateDynos: (v) => Math.ceil(v / o.rpm_per_dyno),
  }),
});
// As examples/backtest.yaml.
const config = {
  scaler: { min_dynos: 1, max_dynos: 30, blackout: 300, scale_down_step: 0 },
  plugins: [{ type: "rpm", name: "throughput", rpm_per_dyno: 5, hysteresis_period: 600 }],
};

/** 30 days: a daily wave, weekly dip, noise and a few spikes, the same on every run. */
function syntheticTrace() {
  let seed = 42;
  const random = () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const rows = ["minute,value"];
  for (let m = 0; m < 43_200; m++) {
    const day = Math.sin((2 * Math.PI * (m % 1440)) / 1440 - Math.PI / 2) * 0.5 + 0.5;
    const weekend = Math.floor(m / 1440) % 7 >= 5 ? 0.6 : 1;
    const spike = random() < 0.001 ? 80 : 0;
    rows.push(`${m},${(weekend * (8 + 40 * day) * (0.8 + 0.4 * random()) + spike).toFixed(1)}`);
  }
  return `${rows.join("\n")}\n`;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function measure(name, trace, options) {
  const times = [];
  let last;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    last = await runBacktest({ config, plugins: [plugin], trace, ...options });
    times.push(performance.now() - started);
  }
  const ticks = last.runs.reduce((sum, r) => sum + r.ticks, 0);
  return {
    name,
    minutes: (trace.length * trace.stepMs) / 60_000,
    policies: last.runs.map((r) => r.policy.name),
    ticks,
    ms: {
      median: Math.round(median(times)),
      min: Math.round(Math.min(...times)),
      max: Math.round(Math.max(...times)),
      runs,
    },
    us_per_tick: +((median(times) * 1000) / ticks).toFixed(2),
    metrics: Object.fromEntries(last.runs.map((r) => [r.policy.name, r.metrics])),
  };
}

const csv = syntheticTrace();
const parseStarted = performance.now();
const month = parseTrace(csv, "synthetic-30-days.csv");
const parseMs = performance.now() - parseStarted;
const awsFile = fileURLToPath(new URL("../../../examples/traces/aws-elb-requests.csv", import.meta.url));
const aws = parseTrace(readFileSync(awsFile, "utf8"), "examples/traces/aws-elb-requests.csv");

async function measureTune(name, trace) {
  const times = [];
  let last;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    last = await runTune({ config, plugins: [plugin], trace });
    times.push(performance.now() - started);
  }
  const ticks = last.backtest.runs.reduce((sum, r) => sum + r.ticks, 0);
  return {
    name,
    minutes: (trace.length * trace.stepMs) / 60_000,
    policies: last.backtest.runs.map((r) => r.policy.name),
    ticks,
    ms: {
      median: Math.round(median(times)),
      min: Math.round(Math.min(...times)),
      max: Math.round(Math.max(...times)),
      runs,
    },
    us_per_tick: +((median(times) * 1000) / ticks).toFixed(2),
    recommended: last.recommended.name,
  };
}

// One untimed replay first: the first run in a process pays for loading and compiling the engine.
await runBacktest({ config, plugins: [plugin], trace: month });

const results = [
  await measure("30 days, 1 policy (forecast), tick per minute (default)", month, {}),
  await measure("30 days, 1 policy (seed), tick per minute", month, { policies: ["seed"] }),
  await measure("30 days, 1 policy (forecast), tick every 5 s (engine interval)", month, { tickSeconds: 5 }),
  await measure(`30 days, --compare (${COMPARE_POLICIES.length} policies)`, month, { policies: COMPARE_POLICIES }),
  await measure(`AWS 14 days, --compare (${COMPARE_POLICIES.length} policies)`, aws, { policies: COMPARE_POLICIES }),
  await measureTune("30 days, tune (every default headroom + 3 anchors)", month),
];

/** What one 30-day replay of the default policy may take (issue 26): simulate and tune stay interactive. */
const BUDGET_MS_PER_30_DAYS = 1000;
const perMonth = results[0].ms.median * (43_200 / results[0].minutes);
const budget = {
  replay_ms_per_30_days: Math.round(perMonth),
  budget_ms: BUDGET_MS_PER_30_DAYS,
  within: perMonth <= BUDGET_MS_PER_30_DAYS,
};

if (values.json) {
  console.log(JSON.stringify({ parse_43200_rows_ms: Math.round(parseMs), results, budget }));
} else {
  console.log(`parse a 43,200-row trace: ${Math.round(parseMs)} ms`);
  for (const r of results) {
    console.log(
      `${r.name}: ${r.minutes.toLocaleString("en-US")} min, ${r.ticks.toLocaleString("en-US")} ticks: median ${r.ms.median} ms (min ${r.ms.min}, max ${r.ms.max}, ${runs} runs), ${r.us_per_tick} µs/tick`,
    );
  }
  console.log(
    `replay time per 30 days (default policy, a tick per minute): ${(budget.replay_ms_per_30_days / 1000).toFixed(2)} s (budget <= ${budget.budget_ms / 1000} s: ${budget.within ? "within" : "OVER"})`,
  );
}
