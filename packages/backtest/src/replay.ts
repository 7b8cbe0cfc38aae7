import {
  clamp,
  closest,
  createLogger,
  createRuntime,
  type DynosaurConfig,
  DynosaurError,
  describeError,
  envReferencesFor,
  escapeEnv,
  inputError,
  isParsed,
  type LogRecord,
  ManualClock,
  must,
  type PluginDefinition,
  type PluginInstance,
  PluginRegistry,
  parseConfig,
  type Runtime,
  type ScalerConfig,
} from "@dynosaur/core";
import { type BacktestMetrics, computeMetrics, type MetricsSeries, type QuantityChange } from "./metrics.js";
import { offlineDispatcher } from "./offline.js";
import type { Trace } from "./trace.js";

/** A way of scaling to compare on the same trace: the config with a few settings replaced. */
export interface BacktestPolicy {
  /** Short name for tables, e.g. `seed`. */
  name: string;
  /** One line on what it does. */
  description: string;
  /** `scaler:` settings it replaces; the others come from the config. */
  scaler?: Partial<Pick<ScalerConfig, "policy" | "headroom" | "blackout" | "scale_down_step">>;
  /** `hysteresis_period` it gives every replayed source; the config's own when undefined. */
  hysteresisPeriod?: number;
}

/** The policies a replay knows by name: `--compare` puts the anchors next to the config. */
export const BACKTEST_POLICIES: Readonly<
  Record<"seed" | "configured" | "follow" | "hysteresis" | "hpa" | "forecast", BacktestPolicy>
> = {
  seed: {
    name: "seed",
    description: "the seed's rule: down by 1 dyno, only 300 s after any change; no hysteresis",
    scaler: { policy: "seed", blackout: 300, scale_down_step: 1 },
    hysteresisPeriod: 0,
  },
  configured: { name: "configured", description: "as the config says" },
  follow: {
    name: "follow",
    description: "follow the last reading: straight to the estimate, no blackout, no hysteresis",
    scaler: { policy: "seed", blackout: 0, scale_down_step: 0 },
    hysteresisPeriod: 0,
  },
  hysteresis: {
    name: "hysteresis",
    description: "the largest of the last 5 readings, straight up and down",
    scaler: { policy: "hysteresis", blackout: 0, scale_down_step: 0 },
  },
  hpa: {
    name: "hpa",
    description:
      "Kubernetes' HPA: no change within 10 % of the current count; down only to the largest recommendation of the last 5 minutes",
    scaler: { policy: "hpa", blackout: 0, scale_down_step: 0 },
  },
  forecast: {
    name: "forecast",
    description: "the forecast policy at the config's headroom, no blackout, no step",
    scaler: { policy: "forecast", blackout: 0, scale_down_step: 0 },
  },
};

/** What `--compare` replays: the anchors, then the config. */
export const COMPARE_POLICIES = ["seed", "follow", "hysteresis", "hpa", "configured"] as const;

export interface BacktestOptions {
  /** The config: raw (as read from YAML/JSON) or from `parseConfig`. `dry_run` is always forced. */
  config: unknown;
  /** Every plugin the config may name (as for `createRuntime`). */
  plugins: readonly PluginDefinition[];
  trace: Trace;
  /**
   * The source the trace's `value` column feeds; columns named after sources feed those.
   * @default the config's first plugin
   */
  source?: string;
  /**
   * Seconds from a scale-up to the new dynos serving; a scale-down takes effect at once.
   * The replayed engine plans with it too (`scaler.boot_seconds`).
   * @default the config's `scaler.boot_seconds` (60 unless set)
   */
  bootSeconds?: number;
  /**
   * Seconds between two engine ticks. The default ticks at each minute's end (for a
   * per-minute trace): the same decisions as ticking every `scaler.interval` as long as
   * blackout, hysteresis and source intervals are whole minutes, and many times faster.
   * Pass `scaler.interval` to replay at the engine's own pace.
   * @default the larger of `scaler.interval` and the trace's step (at most 60 s)
   */
  tickSeconds?: number;
  /**
   * The policies to replay, by name (`seed`, `configured`, `follow`) or defined by the caller.
   * @default ["configured"]
   */
  policies?: ReadonlyArray<string | BacktestPolicy>;
  /**
   * Whether the dynos needed in a period (the oracle) are clamped to the config's
   * `[min_dynos, max_dynos]`, as the engine clamps its own decisions. Clamped, the oracle is
   * the best the config's bounds allow: fair for policies compared under one config. Pass
   * `false` to compare configs with different bounds: the oracle is then the plugins' own
   * estimate of the load (>= 0), the same for every config with the same sources, so a lower
   * `max_dynos` shows as more shortfall instead of less demand.
   * @default true
   */
  neededWithinBounds?: boolean;
  /**
   * Environment for `${VAR}` in a raw config.
   * @default process.env
   */
  env?: Record<string, string | undefined>;
}

/** A trace column and the source it feeds. */
export interface BacktestFeed {
  source: string;
  /** The source's plugin type. */
  type: string;
  /** Unit of the source's readings (the plugin's). */
  unit: string;
  column: string;
  values: Float64Array;
}

/** One policy's replay. */
export interface BacktestRun {
  policy: BacktestPolicy;
  /** The settings the policy ran with. */
  settings: { blackout: number; scale_down_step: number; hysteresis_period: Record<string, number> };
  /** The engine's scaling policy (`scaler.policy`) and the headroom it kept. */
  engine: { policy: ScalerConfig["policy"]; headroom: number };
  metrics: BacktestMetrics;
  series: MetricsSeries;
  /** Every change of the formation (ms since the trace's start). */
  changes: QuantityChange[];
  ticks: number;
  /** Wall-clock time the replay took (ms). */
  replayMs: number;
  /** Warnings the engine logged (bad readings, stale sources): how many, and the first few. */
  warnings: { count: number; first: string[] };
}

export interface Backtest {
  trace: Pick<Trace, "file" | "stepMs" | "start" | "length">;
  /** The replayed sources, each fed from a trace column. */
  feeds: BacktestFeed[];
  /** Sources of the config with no column in the trace: left out of the replay. */
  ignored: string[];
  model: {
    tickMs: number;
    /** The config's `scaler.interval` (ms): how often a live engine ticks. */
    intervalMs: number;
    bootMs: number;
    minDynos: number;
    maxDynos: number;
    /** The formation's quantity at the start (`min_dynos`, as in a dry run). */
    initial: number;
    /** Time the replay's clock starts at (the trace's first time, or 2026-01-01 for minute traces). */
    clockStart: number;
  };
  /** Dynos needed in each period: the oracle (within the config's bounds unless `neededWithinBounds: false`). */
  needed: Int32Array;
  runs: BacktestRun[];
}

/** Replays above this many ticks would take minutes: ask for a coarser tick instead. */
const MAX_TICKS = 20_000_000;
/** First time of a `minute,...` trace on the replay's clock. */
const MINUTE_TRACE_START = Date.UTC(2026, 0, 1);

/**
 * Replays a recorded load through the real engine (`createRuntime`: sources, hysteresis,
 * policy, blackout, clamp) on a virtual clock, once per policy, with the formation
 * simulated. Each replayed source reads, whenever its interval says so, the trace value of
 * the period that ended last; no plugin is ever polled and no network call is made.
 *
 * Model: the first tick comes at the end of the first period, then every `tickSeconds`;
 * a scale-up serves `bootSeconds` after it was decided; a scale-down takes effect at
 * once; dynos needed in a period = the plugin's `estimateDynos(value)` rounded up and
 * clamped to [min, max] (the largest over sources when several are fed; not clamped
 * with `neededWithinBounds: false`).
 */
export async function runBacktest(options: BacktestOptions): Promise<Backtest> {
  const { trace } = options;
  const config = parseForReplay(options.config, options.env ?? process.env);
  const settings = config.scaler;
  const bootSeconds = options.bootSeconds ?? settings.boot_seconds;
  if (!Number.isFinite(bootSeconds) || bootSeconds < 0)
    throw inputError("DYNO_USAGE", `boot time must be a number of seconds >= 0, not ${bootSeconds}`);
  const tickSeconds = options.tickSeconds ?? defaultTickSeconds(settings.interval, trace.stepMs);
  if (!Number.isFinite(tickSeconds) || tickSeconds <= 0)
    throw inputError("DYNO_USAGE", `tick must be a number of seconds > 0, not ${tickSeconds}`);
  const tickMs = Math.max(1, Math.round(tickSeconds * 1000));
  const bootMs = Math.round(bootSeconds * 1000);
  const ticks = Math.ceil(((trace.length - 1) * trace.stepMs) / tickMs);
  if (ticks > MAX_TICKS) {
    throw inputError(
      "DYNO_USAGE",
      `replaying ${trace.length} rows with a tick every ${tickSeconds} s would take ${ticks.toLocaleString("en-US")} ticks`,
      {
        hint: "tick less often (e.g. --tick-seconds 5) or replay a shorter trace",
      },
    );
  }

  const registry = new PluginRegistry(options.plugins);
  const feeds = matchFeeds(config, registry, trace, options.source);
  const fed = new Set(feeds.map((f) => f.source));
  const ignored = config.plugins.map((p) => p.name ?? p.type).filter((n) => !fed.has(n));
  const policies = (options.policies ?? ["configured"]).map(resolvePolicy);
  const clockStart = trace.start ?? MINUTE_TRACE_START;
  const model = {
    tickMs,
    intervalMs: Math.round(settings.interval * 1000),
    bootMs,
    minDynos: settings.min_dynos,
    maxDynos: settings.max_dynos,
    initial: settings.min_dynos,
    clockStart,
  };

  const http = await offlineDispatcher();
  let needed: Int32Array | null = null;
  const runs: BacktestRun[] = [];
  try {
    for (const policy of policies) {
      const started = performance.now();
      const replay = await startReplay({
        config,
        policy,
        feeds,
        options,
        clockStart,
        http,
        stepMs: trace.stepMs,
        bootSeconds,
      });
      try {
        needed ??= neededPerPeriod(
          feeds,
          replay.instances,
          trace,
          options.neededWithinBounds === false ? null : settings,
        );
        const end = clockStart + trace.length * trace.stepMs;
        let count = 0;
        for (let t = clockStart + trace.stepMs; t < end; t += tickMs) {
          replay.clock.set(t);
          await replay.scaler.tick();
          count++;
        }
        const { metrics, series } = computeMetrics({
          needed,
          stepMs: trace.stepMs,
          initial: model.initial,
          changes: replay.changes,
          bootMs,
        });
        runs.push({
          policy,
          settings: replay.settings,
          engine: replay.engine,
          metrics,
          series,
          changes: replay.changes,
          ticks: count,
          replayMs: performance.now() - started,
          warnings: replay.warnings,
        });
      } finally {
        await replay.scaler.stop({ graceMs: 0 });
      }
    }
  } finally {
    await http.close();
  }
  return {
    trace: { file: trace.file, stepMs: trace.stepMs, start: trace.start, length: trace.length },
    feeds,
    ignored,
    model,
    needed: needed ?? new Int32Array(0),
    runs,
  };
}

/** Once per period (at most a minute apart), unless the engine itself ticks less often. */
export function defaultTickSeconds(interval: number, stepMs: number): number {
  return Math.max(interval, Math.min(stepMs, 60_000) / 1000);
}

/** The config as a replay runs it: parsed (if raw) as a dry run, so a replay needs no Heroku credentials. */
export function parseForReplay(raw: unknown, env: Record<string, string | undefined>): DynosaurConfig {
  if (isParsed(raw)) return raw;
  // Forced before validation, as `--dry-run` does, so a simulation needs no Heroku credentials.
  const forced =
    raw && typeof raw === "object" && !Array.isArray(raw)
      ? { ...raw, scaler: { ...asRecord((raw as { scaler?: unknown }).scaler), dry_run: true } }
      : raw;
  return parseConfig(forced, env).config;
}

function asRecord(v: unknown): Record<string, unknown> {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function resolvePolicy(p: string | BacktestPolicy): BacktestPolicy {
  if (typeof p !== "string") return p;
  const found = (BACKTEST_POLICIES as Record<string, BacktestPolicy>)[p];
  if (found) return found;
  const near = closest(p, Object.keys(BACKTEST_POLICIES));
  throw inputError("DYNO_USAGE", `unknown policy "${p}"${near ? ` (did you mean "${near}"?)` : ""}`, {
    hint: `known policies: ${Object.keys(BACKTEST_POLICIES).join(", ")}`,
  });
}

/** Which source each trace column feeds: `value` feeds `source`, other columns the source they name. */
function matchFeeds(
  config: DynosaurConfig,
  registry: PluginRegistry,
  trace: Trace,
  source: string | undefined,
): BacktestFeed[] {
  const names = config.plugins.map((p) => p.name ?? p.type);
  const known = `the config's sources: ${names.join(", ")}`;
  if (source !== undefined && !names.includes(source)) {
    const near = closest(source, names);
    throw inputError(
      "DYNO_USAGE",
      `--source ${source}: the config has no source of that name${near ? ` (did you mean "${near}"?)` : ""}`,
      { hint: known },
    );
  }
  const hasValue = trace.columns.some((c) => c.name === "value");
  if (source !== undefined && !hasValue) {
    throw inputError("DYNO_USAGE", `--source ${source}: ${trace.file} has no \`value\` column to feed it`, {
      hint: "its columns already name the sources they feed; drop --source",
    });
  }
  const sources = config.plugins.map((entry, index) => ({ name: entry.name ?? entry.type, type: entry.type, index }));
  const feeds: BacktestFeed[] = [];
  for (const column of trace.columns) {
    const target = column.name === "value" ? (source ?? sources[0]?.name) : column.name;
    const fed = sources.find((s) => s.name === target);
    if (!fed) {
      const near = closest(column.name, names);
      throw inputError(
        "DYNO_TRACE_INVALID",
        `${trace.file}: column "${column.name}" names no source${near ? ` (did you mean "${near}"?)` : ""}`,
        {
          hint: `name a column \`value\` (it feeds --source, or the first source) or after one of ${known}`,
        },
      );
    }
    if (feeds.some((f) => f.source === fed.name)) {
      throw inputError(
        "DYNO_TRACE_INVALID",
        `${trace.file}: source ${fed.name} is fed twice (by column "value" and by column "${fed.name}")`,
        {
          hint: "pass --source to feed the `value` column to another source, or drop one column",
        },
      );
    }
    const plugin = registry.get(fed.type, `plugins[${fed.index}].type`);
    feeds.push({ source: fed.name, type: plugin.type, unit: plugin.unit, column: column.name, values: column.values });
  }
  return feeds;
}

interface Replay {
  scaler: Runtime;
  clock: ManualClock;
  instances: Map<string, PluginInstance>;
  changes: QuantityChange[];
  settings: BacktestRun["settings"];
  engine: BacktestRun["engine"];
  warnings: BacktestRun["warnings"];
}

async function startReplay(args: {
  config: DynosaurConfig;
  policy: BacktestPolicy;
  feeds: BacktestFeed[];
  options: BacktestOptions;
  clockStart: number;
  http: Awaited<ReturnType<typeof offlineDispatcher>>;
  stepMs: number;
  bootSeconds: number;
}): Promise<Replay> {
  const { config, policy, feeds, clockStart, stepMs } = args;
  const replayed = replayConfig(config, policy, new Set(feeds.map((f) => f.source)), args.bootSeconds);
  const clock = new ManualClock(clockStart);
  const instances = new Map<string, PluginInstance>();
  const values = new Map(feeds.map((f) => [f.source, f.values]));
  /** Reads, at the clock's time, the trace value of the period that ended last: a reading at the end of a period sees it. */
  const traceFeed = (name: string): PluginInstance["retrieve"] => {
    const column = values.get(name);
    if (!column) throw new DynosaurError("DYNO_SIMULATION", `source ${name} has no trace column`);
    const last = column.length - 1;
    return async () => {
      // Before the first period has ended, the reading is the first period's.
      const reading = column[Math.min(last, Math.floor((clock.now() - clockStart) / stepMs) - 1)] ?? column[0];
      if (reading === undefined) throw new DynosaurError("DYNO_SIMULATION", `source ${name}'s trace column is empty`);
      return reading;
    };
  };
  // Each plugin is wrapped: its own `create` runs (so its options are checked as in a live
  // run) and its instance stays the capacity model (`estimateDynos`, which also gives the
  // oracle), but readings come from the trace, so no plugin is ever polled.
  const plugins = args.options.plugins.map(
    (p): PluginDefinition => ({
      ...p,
      create: async (o, ctx) => {
        const retrieve = traceFeed(o.name);
        const instance = await p.create(o, ctx);
        instances.set(o.name, instance);
        return {
          retrieve,
          estimateDynos: (value, context) => instance.estimateDynos(value, context),
          close: () => instance.close?.(),
        };
      },
    }),
  );
  const changes: QuantityChange[] = [];
  const warnings = { count: 0, first: [] as string[] };
  const logger = createLogger(
    (r: LogRecord) => {
      warnings.count++;
      if (warnings.first.length < 5) warnings.first.push(r.message);
    },
    { level: "warn" },
  );
  let scaler: Runtime;
  try {
    scaler = await createRuntime(replayed, {
      plugins,
      clock,
      logger,
      http: args.http,
      // Nothing leaves a replay: no stats file, no email.
      stats: { report() {} },
      alerts: { raise() {}, clear() {} },
      onTick: ([r]) => {
        if (r && r.after !== null && r.after !== r.before)
          changes.push({ time: r.time - clockStart, quantity: r.after });
      },
    });
  } catch (e) {
    throw simulationError(e);
  }
  const hysteresis: Record<string, number> = {};
  for (const p of replayed.plugins) hysteresis[p.name ?? p.type] = Number(p.hysteresis_period ?? 0);
  return {
    scaler,
    clock,
    instances,
    changes,
    settings: {
      blackout: replayed.scaler.blackout,
      scale_down_step: replayed.scaler.scale_down_step,
      hysteresis_period: hysteresis,
    },
    engine: { policy: replayed.scaler.policy, headroom: replayed.scaler.headroom },
    warnings,
  };
}

/** The config one policy replays: only the fed sources, no stats or alerts, the policy's settings, the boot time replayed. */
function replayConfig(
  config: DynosaurConfig,
  policy: BacktestPolicy,
  fed: Set<string>,
  bootSeconds: number,
): DynosaurConfig {
  const kept = [...config.plugins.entries()].filter(([, p]) => fed.has(p.name ?? p.type));
  const raw = {
    scaler: { ...config.scaler, dry_run: true, boot_seconds: bootSeconds, ...policy.scaler },
    plugins: kept.map(([, p]) =>
      policy.hysteresisPeriod === undefined ? p : { ...p, hysteresis_period: policy.hysteresisPeriod },
    ),
  };
  // Parsed once more: its values were substituted already.
  const envReferences = envReferencesFor(
    config,
    kept.map(([i]) => i),
  );
  return parseConfig(escapeEnv(raw), {}, { envReferences }).config;
}

function simulationError(e: unknown): DynosaurError {
  const base = e instanceof DynosaurError ? e : new DynosaurError("DYNO_PLUGIN_FAILED", describeError(e), { cause: e });
  return new DynosaurError(base.code, `simulation: ${base.message}`, {
    exitCode: base.exitCode,
    path: base.path,
    cause: e,
    hint:
      base.hint ??
      "a simulation creates each replayed source with its plugin, as a live run does (but with no network): its options must be valid",
  });
}

/**
 * The oracle: per period, the largest source estimate rounded up, as the engine combines them;
 * clamped to the bounds of `settings` when given.
 */
function neededPerPeriod(
  feeds: BacktestFeed[],
  instances: Map<string, PluginInstance>,
  trace: Trace,
  bounds: Pick<ScalerConfig, "min_dynos" | "max_dynos"> | null,
): Int32Array {
  const needed = new Int32Array(trace.length);
  for (const feed of feeds) {
    const estimate = instances.get(feed.source)?.estimateDynos;
    if (!estimate) throw new DynosaurError("DYNO_SIMULATION", `source ${feed.source} was not created`);
    for (const [i, value] of feed.values.entries()) {
      let dynos: number;
      try {
        dynos = estimate(value);
      } catch (e) {
        throw new DynosaurError(
          "DYNO_PLUGIN_FAILED",
          `simulation: source ${feed.source} could not turn row ${i + 1} of ${trace.file} (${value} ${feed.unit}) into dynos: ${describeError(e)}`,
          { cause: e },
        );
      }
      if (typeof dynos !== "number" || !Number.isFinite(dynos) || dynos < 0) {
        throw new DynosaurError(
          "DYNO_PLUGIN_FAILED",
          `simulation: source ${feed.source} turned row ${i + 1} of ${trace.file} (${value} ${feed.unit}) into ${String(dynos)} dynos`,
          {
            hint: "a plugin's estimateDynos must return a number >= 0",
          },
        );
      }
      needed[i] = Math.max(must(needed[i], "a period's needed dynos"), Math.ceil(dynos));
    }
  }
  return bounds ? needed.map((dynos) => clamp(dynos, bounds.min_dynos, bounds.max_dynos)) : needed;
}
