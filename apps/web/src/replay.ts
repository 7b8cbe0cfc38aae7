import { type BacktestRun, runBacktest, type Trace } from "@dynosaur/backtest";
import {
  type DynosaurConfig,
  DynosaurError,
  defaultProcess,
  envReferencesFor,
  escapeEnv,
  type PluginDefinition,
  parseConfig,
} from "@dynosaur/core";
import type { MinuteRow } from "./store/readings.js";

/*
 * "Try it first": the stored per-minute readings of an app replayed through the backtest
 * (the real engine on a virtual clock, no network) with two configs, the running one and a
 * draft, so a change can be judged on real traffic before it is saved.
 */

const MINUTE = 60_000;

/** A config ready to replay: parsed and checked, with the plugins its `use:` loads. */
export interface ReplayConfig {
  config: DynosaurConfig;
  plugins: readonly PluginDefinition[];
}

/** What one config did over the replayed minutes. */
export interface ReplayScore {
  /** Dyno-hours paid for (booting dynos included). */
  cost_dyno_hours: number;
  /** Dyno-minutes needed but not serving, as a percentage of the dyno-minutes needed. */
  shortfall_percent: number;
  scale_events: number;
  /** Dyno-minutes needed but not serving (what `shortfall_percent` is a share of). */
  shortfall_dyno_minutes: number;
  /**
   * Dyno-minutes needed: each minute's estimate of the config's sources, not bounded by its
   * min_dynos and max_dynos, so two configs with the same sources are scored on the same demand.
   */
  needed_dyno_minutes: number;
}

export interface ReplayedProcess {
  type: string;
  /** The sources fed from stored readings; each config's other sources are left out of its replay. */
  sources: { running: string[]; draft: string[] };
  /** Minutes (of the span) where a replayed source had no stored value: its previous one stood in. */
  filled_minutes: number;
  running: ReplayScore;
  draft: ReplayScore;
  /** Per minute, for a chart: `minutes` in seconds since the epoch; dynos paid for and needed per config. */
  series: {
    minutes: number[];
    running: { dynos: number[]; needed: number[] };
    draft: { dynos: number[]; needed: number[] };
  };
}

export interface ReplayResult {
  /** The minutes actually replayed (the stored ones within the asked-for days). */
  span: { from: string; to: string; minutes: number };
  /** Both configs summed over the replayed process types. */
  running: ReplayScore;
  draft: ReplayScore;
  processes: ReplayedProcess[];
  /** Process types not replayed, and why. */
  skipped: { type: string; reason: string }[];
}

/** No stored readings to replay: not the draft's fault, so not a 422. */
export class NothingToReplay extends Error {}

/**
 * Replays `rows` (an app's per-minute rows, oldest first) with both configs, one process type
 * at a time: each process type as a one-process config with its own limits, fed by the stored
 * values of its sources. A minute without a stored value (the server was down, a read failed)
 * repeats the previous one, as the engine keeps the last good reading.
 */
export async function replayReadings(
  rows: readonly Omit<MinuteRow, "appId">[],
  running: ReplayConfig,
  draft: ReplayConfig,
): Promise<ReplayResult> {
  if (rows.length === 0) throw new NothingToReplay("no readings stored yet for this app: replay needs stored minutes");
  const byType = new Map<string, Omit<MinuteRow, "appId">[]>();
  for (const r of rows) {
    const list = byType.get(r.processType);
    if (list) list.push(r);
    else byType.set(r.processType, [r]);
  }

  const processes: ReplayedProcess[] = [];
  const skipped: ReplayResult["skipped"] = [];
  const types = [...new Set([...Object.keys(draft.config.processes), ...Object.keys(running.config.processes)])];
  for (const type of types) {
    const stored = byType.get(type);
    if (!(type in draft.config.processes)) skipped.push({ type, reason: "the draft does not scale it" });
    else if (!(type in running.config.processes))
      skipped.push({ type, reason: "the running config does not scale it" });
    else if (!stored) skipped.push({ type, reason: "no readings stored for it" });
    else {
      const replayed = await replayProcess(type, stored, running, draft);
      if (typeof replayed === "string") skipped.push({ type, reason: replayed });
      else processes.push(replayed);
    }
  }
  if (processes.length === 0) {
    throw new NothingToReplay(
      `nothing to replay: ${skipped.map((s) => `${s.type}: ${s.reason}`).join("; ") || "no process type"}`,
    );
  }
  const from = Math.min(...processes.map((p) => p.series.minutes[0] ?? 0)) * 1000;
  const to = Math.max(...processes.map((p) => p.series.minutes.at(-1) ?? 0)) * 1000 + MINUTE;
  return {
    span: { from: new Date(from).toISOString(), to: new Date(to).toISOString(), minutes: (to - from) / MINUTE },
    running: total(processes.map((p) => p.running)),
    draft: total(processes.map((p) => p.draft)),
    processes,
    skipped,
  };
}

async function replayProcess(
  type: string,
  rows: readonly Omit<MinuteRow, "appId">[],
  running: ReplayConfig,
  draft: ReplayConfig,
): Promise<ReplayedProcess | string> {
  const start = rows[0]?.minute ?? 0;
  const length = ((rows.at(-1)?.minute ?? start) - start) / MINUTE + 1;
  const runningConfig = oneProcess(running.config, type);
  const draftConfig = oneProcess(draft.config, type);
  const columns = storedColumns(rows, start, length, [...sourcesOf(runningConfig), ...sourcesOf(draftConfig)]);
  const fed = (c: DynosaurConfig) => sourcesOf(c).filter((s) => columns.values.has(s));
  if (fed(runningConfig).length === 0 || fed(draftConfig).length === 0)
    return "no stored readings of its sources (a renamed or new source has none yet)";

  const replay = async (config: DynosaurConfig, plugins: readonly PluginDefinition[]) => {
    const names = fed(config);
    const trace: Trace = {
      file: `stored readings of ${type}`,
      stepMs: MINUTE,
      start,
      length,
      columns: names.map((name) => ({ name, values: columns.values.get(name) as Float64Array })),
    };
    // The demand is the load's, not the config's: bounded by the config's own max_dynos, a lower
    // max would need less and fall short less.
    const backtest = await runBacktest({ config, plugins, trace, env: {}, neededWithinBounds: false });
    const run = backtest.runs[0];
    if (!run) throw new DynosaurError("DYNO_SIMULATION", "the replay ran no policy");
    return { run, needed: backtest.needed, names };
  };
  const r = await replay(runningConfig, running.plugins);
  const d = await replay(draftConfig, draft.plugins);
  const holes = [...new Set([...r.names, ...d.names])].map((n) => columns.filled.get(n) ?? new Uint8Array(length));
  let filled = 0;
  for (let i = 0; i < length; i++) if (holes.some((h) => h[i] === 1)) filled++;
  return {
    type,
    sources: { running: r.names, draft: d.names },
    filled_minutes: filled,
    running: score(r.run),
    draft: score(d.run),
    series: {
      minutes: Array.from({ length }, (_, i) => (start + i * MINUTE) / 1000),
      running: { dynos: rounded(r.run.series.formation), needed: Array.from(r.needed) },
      draft: { dynos: rounded(d.run.series.formation), needed: Array.from(d.needed) },
    },
  };
}

/**
 * One process type of a config as a config of its own (the backtest replays one formation):
 * `scaler:` carries that type's limits, and only the sources that drive it are kept.
 * Its schedule windows and hold_while_busy are not replayed.
 */
function oneProcess(config: DynosaurConfig, type: string): DynosaurConfig {
  const limits = config.processes[type];
  if (!limits) throw new DynosaurError("DYNO_SIMULATION", `the config has no process type ${type}`);
  const own = defaultProcess(config);
  const kept = [...config.plugins.entries()].filter(([, p]) => (p.process ?? own) === type);
  const raw = {
    scaler: {
      ...config.scaler,
      dry_run: true,
      process_type: type,
      min_dynos: limits.min_dynos,
      max_dynos: limits.max_dynos,
      blackout: limits.blackout,
      scale_down_step: limits.scale_down_step,
      headroom: limits.headroom,
    },
    plugins: kept.map(([, { process: _process, ...entry }]) => entry),
  };
  // Values were substituted when the config was parsed: a `${` left in one is literal.
  const envReferences = envReferencesFor(
    config,
    kept.map(([i]) => i),
  );
  return parseConfig(escapeEnv(raw), {}, { envReferences }).config;
}

function sourcesOf(config: DynosaurConfig): string[] {
  return config.plugins.map((p) => p.name ?? p.type);
}

/**
 * Each named source's stored value per minute of `[start, start + length)`; a minute
 * without one repeats the previous value (before the first, the first), marked in `filled`.
 * Sources with no stored value at all are left out.
 */
function storedColumns(
  rows: readonly Omit<MinuteRow, "appId">[],
  start: number,
  length: number,
  names: readonly string[],
): { values: Map<string, Float64Array>; filled: Map<string, Uint8Array> } {
  const values = new Map<string, Float64Array>();
  const filled = new Map<string, Uint8Array>();
  for (const name of new Set(names)) {
    const column = new Float64Array(length).fill(Number.NaN);
    for (const row of rows) {
      const value = row.sources.find((s) => s.name === name)?.value;
      if (typeof value === "number" && Number.isFinite(value) && value >= 0)
        column[(row.minute - start) / MINUTE] = value;
    }
    const first = column.findIndex((v) => !Number.isNaN(v));
    if (first === -1) continue;
    const holes = new Uint8Array(length);
    let last = column[first] as number;
    for (let i = 0; i < length; i++) {
      if (Number.isNaN(column[i])) {
        column[i] = last;
        holes[i] = 1;
      } else last = column[i] as number;
    }
    values.set(name, column);
    filled.set(name, holes);
  }
  return { values, filled };
}

function score(run: BacktestRun): ReplayScore {
  const m = run.metrics;
  return {
    cost_dyno_hours: m.dyno_minutes / 60,
    shortfall_percent: m.shortfall_percent,
    scale_events: m.scale_events,
    shortfall_dyno_minutes: m.shortfall_dyno_minutes,
    needed_dyno_minutes: m.oracle_dyno_minutes,
  };
}

function total(scores: ReplayScore[]): ReplayScore {
  const sum = (k: keyof ReplayScore) => scores.reduce((s, x) => s + x[k], 0);
  const needed = sum("needed_dyno_minutes");
  const shortfall = sum("shortfall_dyno_minutes");
  return {
    cost_dyno_hours: sum("cost_dyno_hours"),
    shortfall_percent: needed === 0 ? 0 : (100 * shortfall) / needed,
    scale_events: sum("scale_events"),
    shortfall_dyno_minutes: shortfall,
    needed_dyno_minutes: needed,
  };
}

/** Two decimals are plenty for a chart, and keep 14 days of minutes small. */
function rounded(values: Float64Array): number[] {
  return Array.from(values, (v) => Math.round(v * 100) / 100);
}
