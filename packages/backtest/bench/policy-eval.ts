// Evaluates the default `forecast` policy (core's src/policy/forecast.ts) against the seed
// rules, two anchors and the forecast policy before issue 26, on the recorded per-minute
// traces and on noisy variants derived from them, under exactly `dynosaur simulate`'s model
// (@dynosaur/backtest):
//  - minute m's value is read at its end; the engine decides at each minute's end;
//  - a scale-up decided at the end of minute m serves from m+2 with a 60 s boot (m+1 with 0 s):
//    dynos serving in a minute = the fewest the formation held over [t - boot, t];
//  - a scale-down takes effect at once; the formation starts at min;
//  - needed = ceil(value / per_dyno) clamped to [min, max]; cost = dyno-minutes / oracle's,
//    shortfall = needed dyno-minutes not served, in % of the oracle's; events = changes of
//    the formation, per 24 hours of trace.
// Usage: pnpm exec tsx packages/backtest/bench/policy-eval.ts [--traces DIR] [--out FILE.md]
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { BandPolicy, combine, DEFAULT_HEADROOM, decide, type SourceStatus } from "@dynosaur/core";
import { TUNE_HEADROOMS } from "../src/tune.js";
import { createOldForecaster, oldPlannedEstimate } from "./old-forecast.js";

const { values: args } = parseArgs({
  options: {
    traces: { type: "string", default: "/work/shared/traces" },
    out: { type: "string" },
  },
});

const MIN = 1;
const MAX = 100;
const STEP_MS = 60_000;

/** A policy replayed minute by minute: given the time, the reading just taken and the formation, the quantity to ask for. */
type Policy = (now: number, reading: number, current: number) => number;
interface Score {
  cost: number;
  short: number;
  events: number;
  perDay: number;
}

function loadTrace(file: string): Float64Array {
  const lines = readFileSync(file, "utf8").trim().split("\n").slice(1);
  return Float64Array.from(lines.map((l) => Number(l.split(",")[1])));
}

const clamp = (n: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, n));
const need = (v: number, perDyno: number) => clamp(Math.ceil(v / perDyno), MIN, MAX);

/** simulate's model (see the header); `bootMinutes` whole minutes. */
function replay(values: Float64Array, perDyno: number, bootMinutes: number, policy: Policy): Score {
  const recent: number[] = [];
  let quantity = MIN;
  let previous: number | undefined;
  let minute = 0;
  let billed = 0;
  let oracle = 0;
  let short = 0;
  let events = 0;
  for (const value of values) {
    // The tick at the end of the previous minute read that minute's value; its quantity holds through this one.
    if (previous !== undefined) {
      const next = policy(minute * STEP_MS, previous, quantity);
      if (next !== quantity) events++;
      quantity = next;
    }
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
  return { cost: billed / oracle, short: (100 * short) / oracle, events, perDay: (events * 1440) / values.length };
}

const status = (now: number, value: number, estimate: number | null): SourceStatus => ({
  name: "trace",
  type: "",
  unit: "",
  value,
  estimate,
  health: "ok",
  busy: null,
  lastRetrieval: now,
  lastError: null,
});

/** The loop's decision on one source's estimate, with `decide` and its settings. */
function deciding(blackout: number, scaleDownStep: number, estimate: Policy): Policy {
  const settings = { minDynos: MIN, maxDynos: MAX, blackout, scaleDownStep };
  let lastChange: number | null = null;
  return (now, v, current) => {
    const source = status(now, v, estimate(now, v, current));
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

/** The seed rules: up at once; down one dyno, only 300 s after any change (the real `decide`). */
const seed = (perDyno: number) => deciding(300, 1, (_now, v) => Math.ceil(v / perDyno));

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

/** The forecast policy before issue 26, as the loop drove it. */
function oldForecast(perDyno: number, bootSeconds: number, headroom: number): Policy {
  const forecaster = createOldForecaster(bootSeconds, STEP_MS / 1000);
  return deciding(0, 0, (now, v) => {
    forecaster.observe(now, v);
    return oldPlannedEstimate(forecaster, headroom, (x) => Math.ceil(x / perDyno));
  });
}

/** The default `forecast` policy, driven as the loop drives it: observe → estimate → combine → decide. */
function forecast(perDyno: number, bootSeconds: number, headroom: number): Policy {
  const policy = new BandPolicy(bootSeconds);
  return deciding(0, 0, (now, v, current) => {
    policy.observe(now, v);
    return policy.estimate(now, current, headroom, (x) => x / perDyno);
  });
}

// Noisy variants: a small deterministic generator (mulberry32), the same on every run.
function random(seedValue: number): () => number {
  let s = seedValue >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A Poisson count of mean `mean` (normal approximation above 50): per-minute arrival noise. */
function poisson(r: () => number, mean: number): number {
  if (mean > 50) {
    const z = Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
    return Math.max(0, Math.round(mean + Math.sqrt(mean) * z));
  }
  const floor = Math.exp(-mean);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= r();
  } while (p > floor);
  return k - 1;
}

interface Case {
  name: string;
  values: Float64Array;
  perDyno: number;
}

/** Per-minute counts drawn around the trace (poisson), thinned to half, scaled ×4, and shifted a third in time plus 2 dynos of base load. */
function variants(c: Case): Case[] {
  const r = random(26);
  const { values: v, perDyno: p } = c;
  const shift = Math.floor(v.length / 3);
  const rotated = v.map((_, i) => (v[(i + shift) % v.length] ?? 0) + 2 * p);
  return [
    { name: `${c.name} · poisson`, values: v.map((x) => poisson(r, x)), perDyno: p },
    { name: `${c.name} · thinned ½`, values: v.map((x) => poisson(r, x / 2)), perDyno: p / 2 },
    { name: `${c.name} · scaled ×4`, values: v.map((x) => poisson(r, 4 * x)), perDyno: 4 * p },
    { name: `${c.name} · shifted`, values: rotated.map((x) => poisson(r, x)), perDyno: p },
  ];
}

const fmt = (s: Score) => `${s.cost.toFixed(3)} / ${s.short.toFixed(2)} % / ${Math.round(s.perDay)}`;
/** Equal at the table's rounding counts. */
const dominates = (a: Score, b: Score) => a.cost <= b.cost + 5e-4 && a.short <= b.short + 5e-3;
const calmer = (a: Score, b: Score) => dominates(a, b) && a.events <= b.events;

const out: string[] = [];
const print = (line = "") => {
  out.push(line);
  console.log(line);
};

const MAIN: Case[] = [
  ["nasa-jul95-requests.csv", 20],
  ["aws-elb-requests.csv", 5],
  ["twitter-goog-mentions.csv", 2],
  ["nyc-taxi-passengers.csv", 50],
].map(([file, perDyno]) => ({
  name: String(file),
  values: loadTrace(join(args.traces, String(file))),
  perDyno: Number(perDyno),
}));

const HEADER =
  "| trace | per dyno | boot | seed | 0.7 hysteresis | HPA | old forecast (0.2) | forecast (default) | vs seed |";
const RULE = "|---|---|---|---|---|---|---|---|---|";

interface Row {
  anchors: { seed: Score; hyst: Score; hpa: Score };
  fresh: Score;
}

function row(c: Case, boot: number): Row {
  const b = boot / 60;
  const anchors = {
    seed: replay(c.values, c.perDyno, b, seed(c.perDyno)),
    hyst: replay(c.values, c.perDyno, b, hysteresis(c.perDyno)),
    hpa: replay(c.values, c.perDyno, b, hpa(c.perDyno)),
  };
  const old = replay(c.values, c.perDyno, b, oldForecast(c.perDyno, boot, 0.2));
  const fresh = replay(c.values, c.perDyno, b, forecast(c.perDyno, boot, DEFAULT_HEADROOM));
  const ok = calmer(fresh, anchors.seed);
  print(
    `| ${c.name} | ${c.perDyno} | ${boot} s | ${fmt(anchors.seed)} | ${fmt(anchors.hyst)} | ${fmt(anchors.hpa)} | ${fmt(old)} | ${fmt(fresh)} | ${ok ? "✓" : "✗"} |`,
  );
  return { anchors, fresh };
}

print("# Policy evaluation: the default `forecast` policy vs the seed rules, two anchors and the old forecast");
print();
print(
  "Generated by `pnpm exec tsx packages/backtest/bench/policy-eval.ts --out packages/backtest/bench/policy-eval.md`",
);
print("(simulate's model: see the script's header). min 1, max 100 dynos.");
print();
print(
  "Each cell: cost (dyno-minutes ÷ oracle's) / shortfall (% of needed dyno-minutes not served) / scale events per day.",
);
print(
  `\`forecast\` at the default headroom (${DEFAULT_HEADROOM}); the old forecast (issue 14's rise quantiles) at its default 0.2.`,
);
print("vs seed: ✓ = no more cost, no more shortfall and no more scale events than the seed's rule.");
print();
print("## The four traces");
print();
print(HEADER);
print(RULE);
const sweeps: string[] = [];
let requirement = true;
for (const c of MAIN) {
  for (const boot of [60, 0]) {
    const { anchors } = row(c, boot);
    const found = { seed: false, hyst: false, hpa: false };
    const cells: string[] = [];
    for (const h of TUNE_HEADROOMS) {
      const r = replay(c.values, c.perDyno, boot / 60, forecast(c.perDyno, boot, h));
      const tags = [
        dominates(r, anchors.seed) ? "S" : "",
        dominates(r, anchors.hyst) ? "Y" : "",
        dominates(r, anchors.hpa) ? "H" : "",
      ].join("");
      found.seed ||= dominates(r, anchors.seed);
      found.hyst ||= dominates(r, anchors.hyst);
      found.hpa ||= dominates(r, anchors.hpa);
      cells.push(`${r.cost.toFixed(3)} / ${r.short.toFixed(2)} %${tags ? ` ${tags}` : ""}`);
    }
    const every = found.seed && found.hyst && found.hpa;
    sweeps.push(`| ${c.name} | ${boot} s | ${cells.join(" | ")} | ${every ? "✓" : "✗"} |`);
  }
}
print();
print(
  "Headroom sweep (`dynosaur tune`'s): cost / shortfall; S, Y, H = dominates (<= cost and <= shortfall) seed, 0.7 hysteresis, HPA; last column: every anchor dominated by some headroom.",
);
print();
print(`| trace | boot | ${TUNE_HEADROOMS.map((h) => `h=${h}`).join(" | ")} | all |`);
print(`|---|---|${TUNE_HEADROOMS.map(() => "---").join("|")}|---|`);
for (const s of sweeps) print(s);
print();

print("## Noisy variants (derived in this script, deterministic; not a requirement)");
print();
print(
  "Per-minute Poisson counts around each trace's values (`poisson`), thinned to half with half the capacity per dyno, scaled ×4 with 4× the capacity, and shifted a third of the trace in time with 2 dynos of base load added.",
);
print();
print(HEADER);
print(RULE);
let wins = 0;
let total = 0;
for (const c of MAIN) {
  for (const v of variants(c)) {
    const { anchors, fresh } = row(v, 60);
    total++;
    if (calmer(fresh, anchors.seed)) wins++;
  }
}
print();
print(`Default vs seed on the variants at 60 s boot: ${wins} of ${total} ✓.`);
print();

// Timing: a month of the longest trace through the default policy.
const month = MAIN[3] as Case;
const started = performance.now();
replay(month.values.subarray(0, 43_200), month.perDyno, 1, forecast(month.perDyno, 60, DEFAULT_HEADROOM));
print(
  `Timing: 30 days (43,200 minutes of ${month.name}) replayed through the default policy in ${(performance.now() - started).toFixed(0)} ms (this script's model; \`pnpm bench\` times the engine's replay).`,
);
print();
for (const c of MAIN) {
  const r = row60(c);
  requirement &&= r;
}
print(
  `Requirement (default vs seed at 60 s boot on the four traces, cost, shortfall and events): ${requirement ? "met" : "NOT met"}.`,
);
if (args.out) writeFileSync(args.out, `${out.join("\n")}\n`);

function row60(c: Case): boolean {
  const s = replay(c.values, c.perDyno, 1, seed(c.perDyno));
  const f = replay(c.values, c.perDyno, 1, forecast(c.perDyno, 60, DEFAULT_HEADROOM));
  return calmer(f, s);
}
