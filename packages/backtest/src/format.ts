import type { BacktestMetrics } from "./metrics.js";
import type { Backtest, BacktestRun } from "./replay.js";

/** Where the replay's inputs and outputs live, for the report. */
export interface BacktestReportContext {
  /** The config file replayed. */
  config?: string;
  /** Where the chart was written. */
  chart?: string;
}

/** The run a report leads with: `configured` when it was replayed, else the first. */
export function mainRun(backtest: Backtest): BacktestRun | undefined {
  return backtest.runs.find((r) => r.policy.name === "configured") ?? backtest.runs[0];
}

type RoundedMetrics = { [K in keyof BacktestMetrics]: number };

/**
 * The replay as one JSON-ready object: the main run's metrics at the top level (`minutes`,
 * `dyno_minutes`, `oracle_dyno_minutes`, `cost_ratio`, `shortfall_dyno_minutes`,
 * `shortfall_percent`, `under_provisioned_minutes`, `scale_events`, ...), the model, and
 * with several policies a `compare` array holding each one's settings and metrics.
 */
export function backtestJson(backtest: Backtest, context: BacktestReportContext = {}): Record<string, unknown> {
  const main = mainRun(backtest);
  const runJson = (run: BacktestRun) => ({
    policy: run.policy.name,
    description: run.policy.description,
    settings: run.settings,
    rule: run.engine.policy,
    headroom: run.engine.headroom,
    ...roundMetrics(run.metrics),
    ticks: run.ticks,
    replay_ms: round(run.replayMs, 1),
    warnings: run.warnings.count,
  });
  const { model, trace } = backtest;
  return {
    trace: trace.file,
    ...(context.config ? { config: context.config } : {}),
    start: trace.start === null ? null : new Date(trace.start).toISOString(),
    step_seconds: trace.stepMs / 1000,
    tick_seconds: model.tickMs / 1000,
    interval_seconds: model.intervalMs / 1000,
    boot_seconds: model.bootMs / 1000,
    min_dynos: model.minDynos,
    max_dynos: model.maxDynos,
    sources: backtest.feeds.map((f) => ({ name: f.source, type: f.type, unit: f.unit, column: f.column })),
    ignored_sources: backtest.ignored,
    ...(main ? runJson(main) : {}),
    ...(backtest.runs.length > 1 ? { compare: backtest.runs.map(runJson) } : {}),
    chart: context.chart ?? null,
  };
}

function roundMetrics(m: BacktestMetrics): RoundedMetrics {
  return {
    minutes: round(m.minutes, 2),
    dyno_minutes: round(m.dyno_minutes, 2),
    serving_dyno_minutes: round(m.serving_dyno_minutes, 2),
    oracle_dyno_minutes: round(m.oracle_dyno_minutes, 2),
    cost_ratio: round(m.cost_ratio, 4),
    shortfall_dyno_minutes: round(m.shortfall_dyno_minutes, 2),
    shortfall_percent: round(m.shortfall_percent, 2),
    under_provisioned_minutes: round(m.under_provisioned_minutes, 2),
    scale_events: m.scale_events,
    scale_events_per_day: round(m.scale_events_per_day, 1),
    scale_ups: m.scale_ups,
    scale_downs: m.scale_downs,
    largest_step: m.largest_step,
    largest_step_up: m.largest_step_up,
    largest_step_down: m.largest_step_down,
    peak_dynos: m.peak_dynos,
  };
}

/** The replay for a terminal: what was replayed, under which model, then one column per policy. */
export function formatBacktest(backtest: Backtest, context: BacktestReportContext = {}): string {
  const { trace, model, runs } = backtest;
  const days = (trace.length * trace.stepMs) / 86_400_000;
  const span =
    trace.start === null
      ? ""
      : `, ${isoMinute(trace.start)} to ${isoMinute(trace.start + trace.length * trace.stepMs)} UTC`;
  const minutes = (trace.length * trace.stepMs) / 60_000;
  const lines = [
    `Replayed ${int(minutes)} minutes (${days.toFixed(1)} days) of ${trace.file}${context.config ? ` through ${context.config}` : ""}${span}`,
    `  sources: ${backtest.feeds.map((f) => `${f.source} (${f.type}, ${f.unit}) fed from column "${f.column}"`).join("; ")}`,
  ];
  if (backtest.ignored.length) lines.push(`  not replayed (no column in the trace): ${backtest.ignored.join(", ")}`);
  const step = trace.stepMs === 60_000 ? "minute" : `${trace.stepMs / 1000} s step`;
  lines.push(
    `  model: each ${step}'s value is read at its end; the engine ticks every ${model.tickMs / 1000} s${model.tickMs === model.intervalMs ? "" : ` (a live one every ${model.intervalMs / 1000} s: --tick-seconds ${model.intervalMs / 1000} replays at that pace)`};`,
    `         scale-ups serve ${model.bootMs / 1000} s after they are decided, scale-downs at once;`,
    `         dynos needed = the plugin's estimate of each ${trace.stepMs === 60_000 ? "minute" : "step"}'s value, within [${model.minDynos}, ${model.maxDynos}]; the formation starts at ${model.initial}`,
    "",
  );

  const rows: [string, (r: BacktestRun) => string][] = [
    ["policy (scaler.policy)", (r) => r.engine.policy],
    ["headroom", (r) => (r.engine.policy === "forecast" ? String(r.engine.headroom) : "-")],
    ["blackout", (r) => `${int(r.settings.blackout)} s`],
    ["scale-down step", (r) => (r.settings.scale_down_step === 0 ? "to estimate" : int(r.settings.scale_down_step))],
    ["hysteresis", (r) => hysteresis(r.settings.hysteresis_period)],
    ["dyno-minutes", (r) => num(r.metrics.dyno_minutes)],
    ["oracle dyno-minutes", (r) => num(r.metrics.oracle_dyno_minutes)],
    ["cost ratio (used/oracle)", (r) => r.metrics.cost_ratio.toFixed(3)],
    ["shortfall dyno-minutes", (r) => num(r.metrics.shortfall_dyno_minutes)],
    ["shortfall % of oracle", (r) => `${r.metrics.shortfall_percent.toFixed(2)}%`],
    ["under-provisioned minutes", (r) => num(r.metrics.under_provisioned_minutes)],
    [
      "scale events (up/down)",
      (r) => `${int(r.metrics.scale_events)} (${int(r.metrics.scale_ups)}/${int(r.metrics.scale_downs)})`,
    ],
    ["scale events per day", (r) => r.metrics.scale_events_per_day.toFixed(1)],
    ["largest step (up/down)", (r) => `+${r.metrics.largest_step_up}/-${r.metrics.largest_step_down}`],
    ["peak dynos", (r) => int(r.metrics.peak_dynos)],
    ["replay time", (r) => `${(r.replayMs / 1000).toFixed(2)} s`],
  ];
  const labelWidth = Math.max(...rows.map(([label]) => label.length)) + 2;
  const columns = runs.map((run) => ({
    run,
    width: Math.max(run.policy.name.length, ...rows.map(([, f]) => f(run).length)) + 3,
  }));
  lines.push(`  ${"".padEnd(labelWidth)}${columns.map((c) => c.run.policy.name.padStart(c.width)).join("")}`);
  for (const [label, f] of rows)
    lines.push(`  ${label.padEnd(labelWidth)}${columns.map((c) => f(c.run).padStart(c.width)).join("")}`);
  if (runs.length > 1) {
    lines.push("");
    for (const r of runs) lines.push(`  ${r.policy.name}: ${r.policy.description}`);
  }
  for (const r of runs) {
    if (r.warnings.count > 0) {
      lines.push(
        "",
        `note: the engine logged ${int(r.warnings.count)} warning${r.warnings.count === 1 ? "" : "s"} replaying ${r.policy.name}, first: ${r.warnings.first[0]}`,
      );
    }
  }
  if (context.chart) lines.push("", `chart: ${context.chart}`);
  return `${lines.join("\n")}\n`;
}

function hysteresis(periods: Record<string, number>): string {
  const [only, ...others] = new Set(Object.values(periods));
  if (only !== undefined && others.length === 0) return `${int(only)} s`;
  return Object.entries(periods)
    .map(([name, s]) => `${name} ${int(s)} s`)
    .join(", ");
}

function isoMinute(t: number): string {
  return new Date(t).toISOString().slice(0, 16).replace("T", " ");
}

function int(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** Whole numbers as such, fractions (from ticks inside a period) to 2 decimals. */
function num(n: number): string {
  const r = round(n, 2);
  return Number.isInteger(r)
    ? r.toLocaleString("en-US")
    : r.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

function round(n: number, digits: number): number {
  if (!Number.isFinite(n)) return n;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
