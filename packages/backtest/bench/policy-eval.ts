// Evaluates the `forecast` policy (core's src/policy) against the seed rules and two anchors on
// recorded per-minute traces, under exactly `dynosaur simulate`'s model (@dynosaur/backtest):
//  - minute m's value is read at its end; the engine decides at each minute's end;
//  - a scale-up decided at the end of minute m serves from m+2 with a 60 s boot (m+1 with 0 s):
//    dynos serving in a minute = the fewest the formation held over [t - boot, t];
//  - a scale-down takes effect at once; the formation starts at min;
//  - needed = ceil(value / per_dyno) clamped to [min, max]; cost = dyno-minutes / oracle's,
//    shortfall = needed dyno-minutes not served, in % of the oracle's.
// Usage: pnpm exec tsx packages/backtest/bench/policy-eval.ts [--traces DIR] [--extra FILE:PER_DYNO ...] [--note TEXT] [--out FILE.md]
import { readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { parseArgs } from "node:util";
import {
  combine,
  createForecaster,
  DEFAULT_HEADROOM,
  decide,
  plannedEstimate,
  type SourceStatus,
} from "@dynosaur/core";

const { values: args } = parseArgs({
  options: {
    traces: { type: "string", default: "/work/shared/traces" },
    extra: { type: "string", multiple: true, default: [] },
    note: { type: "string" },
    out: { type: "string" },
  },
});

const MIN = 1;
const MAX = 100;
const STEP_MS = 60_000;
const HEADROOMS = [0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1];

/** A policy replayed minute by minute: given the time, the reading just taken and the formation, the quantity to ask for. */
type Policy = (now: number, reading: number, current: number) => number;
interface Score {
  cost: number;
  short: number;
}

function loadTrace(file: string): Float64Array {
  const lines = readFileSync(file, "utf8").trim().split("\n").slice(1);
  return Float64Array.from(lines.map((l) => Number(l.split(",")[1])));
}

const clamp = (n: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, n));
const need = (v: number, perDyno: number) => clamp(Math.ceil(v / perDyno), MIN, MAX);

/** simulate's model (see the header); `bootMinutes` whole minutes. */
function replay(values: Float64Array, perDyno: number, bootMinutes: number, policy: Policy): Score {
  // The formation in the last boot minutes before this one (fewer at the start: it held MIN before minute 0).
  const recent: number[] = [];
  let quantity = MIN;
  let previous: number | undefined;
  let minute = 0;
  let billed = 0;
  let oracle = 0;
  let short = 0;
  for (const value of values) {
    // The tick at the end of the previous minute read that minute's value; its quantity holds through this one.
    if (previous !== undefined) quantity = policy(minute * STEP_MS, previous, quantity);
    const serving = Math.min(quantity, ...recent);
    const needed = need(value, perDyno);
    billed += quantity;
    oracle += needed;
    short += Math.max(0, needed - serving);
    recent.push(quantity);
    if (recent.length > bootMinutes) recent.shift();
    previous = value;
    minute++;
  }
  return { cost: billed / oracle, short: (100 * short) / oracle };
}

/** The seed rules: up at once; down one dyno, only 300 s after any change (the real `decide`). */
function seed(perDyno: number): Policy {
  let lastChange: number | null = null;
  const settings = { minDynos: MIN, maxDynos: MAX, blackout: 300, scaleDownStep: 1 };
  return (now, v, current) => {
    const estimate = need(v, perDyno);
    const s = {
      name: "trace",
      type: "",
      unit: "",
      value: v,
      estimate,
      health: "ok" as const,
      busy: null,
      lastRetrieval: now,
      lastError: null,
    };
    const { target } = decide({
      now,
      current,
      combined: { estimate, raw: estimate, winner: "trace" },
      sources: [s],
      lastChange,
      refusedQuantity: null,
      settings,
    });
    if (target !== current) lastChange = now;
    return target;
  };
}

/** 0.7 hysteresis: ceil(max of the last 5 readings / per dyno), straight up and down. */
function hysteresis(perDyno: number): Policy {
  const last: number[] = [];
  return (_now, v) => {
    last.push(v);
    if (last.length > 5) last.shift();
    return need(Math.max(...last), perDyno);
  };
}

/** Kubernetes HPA: 10 % tolerance around the current count, down only to the largest recommendation of the last 5 minutes. */
function hpa(perDyno: number): Policy {
  const recs: number[] = [];
  return (_now, v, current) => {
    const rec = Math.abs(v / perDyno / current - 1) <= 0.1 ? current : Math.ceil(v / perDyno);
    recs.push(rec);
    if (recs.length > 5) recs.shift();
    return clamp(rec > current ? rec : Math.min(current, Math.max(...recs)), MIN, MAX);
  };
}

/** The `forecast` policy, driven as the loop drives it: observe → planned estimate → combine → decide. */
function forecast(perDyno: number, bootSeconds: number, headroom: number): Policy {
  const settings = { minDynos: MIN, maxDynos: MAX, blackout: 0, scaleDownStep: 0 };
  const forecaster = createForecaster(bootSeconds, STEP_MS / 1000);
  const estimateDynos = (v: number) => Math.ceil(v / perDyno);
  let lastChange: number | null = null;
  return (now, v, current) => {
    forecaster.observe(now, v);
    const estimate = plannedEstimate(forecaster, headroom, estimateDynos);
    const source: SourceStatus = {
      name: "trace",
      type: "",
      unit: "",
      value: v,
      estimate,
      health: "ok",
      busy: null,
      lastRetrieval: now,
      lastError: null,
    };
    const { target } = decide({
      now,
      current,
      sources: [source],
      combined: combine([source], settings),
      lastChange,
      refusedQuantity: null,
      settings,
    });
    if (target !== current) lastChange = now;
    return target;
  };
}

const fmt = (s: Score) => `${s.cost.toFixed(3)} / ${s.short.toFixed(2)} %`;
const dominates = (a: Score, b: Score) => a.cost <= b.cost + 5e-4 && a.short <= b.short + 5e-3; // equal at the table's rounding counts

interface Case {
  file: string;
  perDyno: number;
}
const MAIN: Case[] = [
  { file: "aws-elb-requests.csv", perDyno: 5 },
  { file: "twitter-goog-mentions.csv", perDyno: 2 },
  { file: "nyc-taxi-passengers.csv", perDyno: 50 },
];
const ROBUST: Case[] = [
  { file: "aws-elb-requests.csv", perDyno: 3 },
  { file: "aws-elb-requests.csv", perDyno: 10 },
  { file: "twitter-goog-mentions.csv", perDyno: 1 },
  { file: "twitter-goog-mentions.csv", perDyno: 4 },
  { file: "nyc-taxi-passengers.csv", perDyno: 25 },
  { file: "nyc-taxi-passengers.csv", perDyno: 100 },
];
const EXTRA: Case[] = args.extra.map((e) => {
  const at = e.lastIndexOf(":");
  return { file: e.slice(0, at), perDyno: Number(e.slice(at + 1)) };
});

const out: string[] = [];
const print = (line = "") => {
  out.push(line);
  console.log(line);
};
const cache = new Map<string, Float64Array>();
const traceOf = (file: string) => {
  const path = file.includes("/") ? file : join(args.traces, file);
  const cached = cache.get(path);
  if (cached) return cached;
  const v = loadTrace(path);
  cache.set(path, v);
  return v;
};

let timing = "";
function table(title: string, cases: Case[], withSweep: boolean): boolean {
  let allOk = true;
  print(`## ${title}`);
  print();
  print("cost = dyno-minutes ÷ oracle's; shortfall = % of needed dyno-minutes not served. min 1, max 100 dynos.");
  print(`\`forecast\` at the default headroom (${DEFAULT_HEADROOM}); ✓ = dominates (<= cost and <= shortfall).`);
  print();
  print("| trace | per dyno | boot | seed | 0.7 hysteresis | HPA | forecast (default) | vs seed |");
  print("|---|---|---|---|---|---|---|---|");
  const sweeps: string[] = [];
  for (const c of cases) {
    const v = traceOf(c.file);
    for (const boot of [60, 0]) {
      const b = boot / 60;
      const s = replay(v, c.perDyno, b, seed(c.perDyno));
      const h = replay(v, c.perDyno, b, hysteresis(c.perDyno));
      const k = replay(v, c.perDyno, b, hpa(c.perDyno));
      const f = replay(v, c.perDyno, b, forecast(c.perDyno, boot, DEFAULT_HEADROOM));
      if (c.file.startsWith("nyc") && boot === 60 && !timing) {
        const month = v.subarray(0, 43_200);
        const started = performance.now();
        replay(month, c.perDyno, b, forecast(c.perDyno, boot, DEFAULT_HEADROOM));
        timing = `30 days (43,200 minutes of ${basename(c.file)}) replayed through forecast in ${(performance.now() - started).toFixed(0)} ms on a shared 2-core machine`;
      }
      const ok = dominates(f, s);
      allOk &&= ok;
      print(
        `| ${basename(c.file)} | ${c.perDyno} | ${boot} s | ${fmt(s)} | ${fmt(h)} | ${fmt(k)} | ${fmt(f)} | ${ok ? "✓" : "✗"} |`,
      );
      if (!withSweep) continue;
      const cells: string[] = [];
      const found = { seed: false, hyst: false, hpa: false };
      for (const hr of HEADROOMS) {
        const r = replay(v, c.perDyno, b, forecast(c.perDyno, boot, hr));
        const tags = [dominates(r, s) ? "S" : "", dominates(r, h) ? "Y" : "", dominates(r, k) ? "H" : ""].join("");
        found.seed ||= dominates(r, s);
        found.hyst ||= dominates(r, h);
        found.hpa ||= dominates(r, k);
        cells.push(`${fmt(r)}${tags ? ` ${tags}` : ""}`);
      }
      const every = found.seed && found.hyst && found.hpa;
      allOk &&= every;
      sweeps.push(`| ${basename(c.file)} | ${c.perDyno} | ${boot} s | ${cells.join(" | ")} | ${every ? "✓" : "✗"} |`);
    }
  }
  print();
  if (withSweep) {
    print(
      "Headroom sweep: cost / shortfall; S, Y, H = dominates seed, 0.7 hysteresis, HPA; last column: every anchor dominated by some headroom.",
    );
    print();
    print(`| trace | per dyno | boot | ${HEADROOMS.map((h) => `h=${h}`).join(" | ")} | all |`);
    print(`|---|---|---|${HEADROOMS.map(() => "---").join("|")}|---|`);
    for (const s of sweeps) print(s);
    print();
  }
  return allOk;
}

print("# Policy evaluation: `forecast` vs the seed rules and two anchors");
print();
print(
  "Generated by `pnpm exec tsx packages/backtest/bench/policy-eval.ts --out packages/backtest/bench/policy-eval.md`",
);
print("(simulate's model: see the script's header). Reference anchors reproduce the issue's table.");
print();
const okMain = table("The three traces (requirement)", MAIN, true);
table("Robustness: other capacities per dyno (not a requirement)", ROBUST, true);
if (EXTRA.length > 0) {
  table("Other traces (not in the repo, not a requirement)", EXTRA, true);
  if (args.note) {
    print(args.note);
    print();
  }
}
print(`Timing: ${timing}.`);
print();
print(`Requirement met on the three traces: ${okMain ? "yes" : "NO"}.`);
if (args.out) writeFileSync(args.out, `${out.join("\n")}\n`);
