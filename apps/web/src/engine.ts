/*
 * The one place that builds a scaling engine from a config. Today it wires core's Scaler the
 * way apps/cli/src/commands/run.ts does (createScaler, a HerokuClient formation, the stats
 * dispatcher, the alert sink); when core's `createRuntime` lands, only this file changes.
 * Nothing else in apps/web may import scaler internals.
 *
 * Live reconfiguration relies on three things of today's Scaler:
 * - `updateSettings(scaler)` swaps the `scaler:` settings from the next tick, keeping the
 *   formation (and the time of its last change, so the blackout holds) unless the app, key,
 *   process type, API URL, timeout or dry run changed;
 * - `replacePlugin(name, entry)` / `removePlugin(name)` swap single sources, so an unchanged
 *   source keeps its readings and hysteresis window;
 * - the `stats` and `alerts` deps are only called through, so they are proxies here whose
 *   target is swapped when the `stats:` or `alerts:` sections change.
 * A `use:` change that brings a plugin type the running scaler was built without cannot be
 * applied that way (its registry is fixed at construction): the scaler is rebuilt. The new
 * one reads the formation's `updated_at` from Heroku on its first tick, so the blackout still
 * holds; only the sources' readings start afresh.
 */
import {
  type AlertSink,
  type Clock,
  createAlertSink,
  createScaler,
  createStatsDispatcher,
  createStatsReporters,
  type DynosaurConfig,
  HerokuClient,
  type Logger,
  type LogFields,
  type LogLevel,
  type PluginDefinition,
  type Scaler,
  type ScalerStatus,
  type SourceHealth,
  type TickReport,
} from "@dynosaur/core";
import type { Dispatcher } from "undici";

/** Something the engine did or saw that belongs in the app's history. */
export interface EngineEvent {
  time: number;
  kind: "scale-up" | "scale-down" | "manual-change" | "refused" | "heroku-error" | "source-outage" | "source-recovered";
  message: string;
  data: Record<string, unknown>;
}

export type EngineStatus = ScalerStatus;

export interface AppEngine {
  start(): void;
  /** Finishes the tick in progress (abandoning its calls after `graceMs`), flushes stats and alerts. */
  stop(options?: { graceMs?: number }): Promise<void>;
  status(): EngineStatus;
  readonly lastReport: TickReport | null;
  /** Applies a new (validated) config without a restart; says whether it had to rebuild. */
  reconfigure(config: DynosaurConfig, plugins: readonly PluginDefinition[]): Promise<"live" | "rebuilt">;
  onTick(listener: (report: TickReport) => void): () => void;
  onEvent(listener: (event: EngineEvent) => void): () => void;
}

export interface EngineDeps {
  config: DynosaurConfig;
  plugins: readonly PluginDefinition[];
  clock: Clock;
  http: Dispatcher;
  logger: Logger;
  env: Record<string, string | undefined>;
  /** Sent to Heroku, so its logs (and the tests) can tell which server scaled. */
  userAgent: string;
  /** Whether this engine may change the formation now (holds the app's lock, app not paused). */
  mayScale: () => boolean;
  /** Why it may not, for the tick's reason. */
  whyNot: () => string;
}

export async function createAppEngine(deps: EngineDeps): Promise<AppEngine> {
  const tickListeners = new Set<(report: TickReport) => void>();
  const eventListeners = new Set<(event: EngineEvent) => void>();
  const emit = (event: EngineEvent) => {
    for (const l of eventListeners) l(event);
  };

  // Events the scaler logs during a tick wait for its report, which says why and who won.
  let pending: { kind: EngineEvent["kind"]; message: string; fields: LogFields; time: number }[] = [];
  const logger = tap(deps.logger, (level, message, fields) => {
    const kind = EVENT_OF[String(fields.event)];
    if (!kind || (kind === "heroku-error" && level !== "error")) return;
    pending.push({ kind, message, fields, time: deps.clock.now() });
  });
  let lastHealth = new Map<string, SourceHealth>();
  const onTick = (report: TickReport) => {
    for (const p of pending) {
      const kind: EngineEvent["kind"] = p.fields.event === "scale" ? (Number(p.fields.to) > Number(p.fields.from) ? "scale-up" : "scale-down") : p.kind;
      const { event: _event, ...details } = p.fields;
      emit({ time: p.time, kind, message: p.message, data: { ...details, reason: report.reason, winner: report.winner, estimate: report.estimate } });
    }
    pending = [];
    const health = new Map(report.sources.map((s) => [s.name, s.health]));
    for (const s of report.sources) {
      const was = lastHealth.get(s.name);
      if (s.health === "outage" && was !== "outage") emit({ time: report.time, kind: "source-outage", message: `source ${s.name} is in outage: ${s.lastError ?? "no reading"}`, data: { source: s.name, error: s.lastError } });
      if (s.health !== "outage" && was === "outage") emit({ time: report.time, kind: "source-recovered", message: `source ${s.name} reads again`, data: { source: s.name } });
    }
    lastHealth = health;
    for (const l of tickListeners) l(report);
  };

  // Proxies the scaler holds for good; their targets change with the `stats:`/`alerts:` sections.
  let sinks = await createSinks(deps.config, deps, logger);
  const stats = { report: (t: TickReport) => sinks.stats.report(t) };
  const alerts: AlertSink = {
    raise: (p) => sinks.alerts.raise(p),
    clear: (k) => sinks.alerts.clear(k),
    tick: (r, healthy) => sinks.alerts.tick?.(r, healthy),
  };

  let config = deps.config;
  let known = new Set(deps.plugins.flatMap((p) => [p.type, ...(p.aliases ?? [])]));
  const build = (c: DynosaurConfig, plugins: readonly PluginDefinition[]) =>
    createScaler(c, {
      plugins,
      clock: deps.clock,
      http: deps.http,
      logger,
      stats,
      alerts,
      leader: { isLeader: deps.mayScale, describe: deps.whyNot },
      formation: (s) =>
        new HerokuClient({
          app: s.heroku_app_name!,
          apiKey: s.heroku_api_key!,
          processType: s.process_type,
          baseUrl: s.heroku_api_url,
          dispatcher: deps.http,
          timeoutMs: s.heroku_timeout * 1000,
          clock: deps.clock,
          userAgent: deps.userAgent,
        }),
      onTick,
    });
  let scaler: Scaler = await build(config, deps.plugins);
  let running = false;
  // Reconfigurations run one at a time, in the order they were asked for.
  let queue: Promise<unknown> = Promise.resolve();

  const reconfigure = async (next: DynosaurConfig, plugins: readonly PluginDefinition[]): Promise<"live" | "rebuilt"> => {
    const needsRebuild = next.plugins.some((p) => !known.has(p.type));
    if (needsRebuild) {
      const fresh = await build(next, plugins);
      const old = scaler;
      scaler = fresh;
      known = new Set(plugins.flatMap((p) => [p.type, ...(p.aliases ?? [])]));
      await old.stop();
      if (running) fresh.start();
    } else {
      if (!same(config.scaler, next.scaler)) scaler.updateSettings(next.scaler);
      const names = new Set(next.plugins.map((p) => p.name ?? p.type));
      const before = new Map(config.plugins.map((p) => [p.name ?? p.type, p]));
      for (const entry of next.plugins) {
        const name = entry.name ?? entry.type;
        if (!same(before.get(name), entry)) await scaler.replacePlugin(name, entry);
      }
      for (const name of before.keys()) if (!names.has(name)) await scaler.removePlugin(name);
    }
    if (!same(config.stats, next.stats) || !same(config.alerts, next.alerts)) {
      const old = sinks;
      sinks = await createSinks(next, deps, logger);
      await closeSinks(old);
    }
    config = next;
    return needsRebuild ? "rebuilt" : "live";
  };

  return {
    start() {
      running = true;
      scaler.start();
    },
    async stop(options) {
      running = false;
      await queue.catch(() => {});
      await scaler.stop(options);
      await closeSinks(sinks);
    },
    status: () => scaler.status(),
    get lastReport() {
      return scaler.lastReport;
    },
    reconfigure(next, plugins) {
      const run = queue.catch(() => {}).then(() => reconfigure(next, plugins));
      queue = run;
      return run;
    },
    onTick(listener) {
      tickListeners.add(listener);
      return () => tickListeners.delete(listener);
    },
    onEvent(listener) {
      eventListeners.add(listener);
      return () => eventListeners.delete(listener);
    },
  };
}

const EVENT_OF: Record<string, EngineEvent["kind"]> = {
  scale: "scale-up",
  "manual-change": "manual-change",
  "heroku-refused": "refused",
  "heroku-error": "heroku-error",
};

async function createSinks(config: DynosaurConfig, deps: EngineDeps, logger: Logger) {
  const app = config.scaler.heroku_app_name ?? "dry-run";
  const ctx = { app, logger, http: deps.http, env: deps.env, clock: deps.clock };
  // A dry run's CSV stats file is the CLI's record of decisions; here every tick is stored.
  const stats = createStatsDispatcher(await createStatsReporters(config.stats, ctx), { logger });
  return { stats, alerts: createAlertSink(config.alerts, ctx) };
}

async function closeSinks(sinks: Awaited<ReturnType<typeof createSinks>>): Promise<void> {
  await Promise.allSettled([sinks.stats.close(), sinks.alerts.close()]);
}

/** A logger that also shows each record to `seen` (children included). */
function tap(inner: Logger, seen: (level: LogLevel, message: string, fields: LogFields) => void): Logger {
  const at = (level: LogLevel) => (message: string, fields: LogFields = {}) => {
    inner[level](message, fields);
    seen(level, message, fields);
  };
  return {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: (fields) => tap(inner.child(fields), (level, message, more) => seen(level, message, { ...fields, ...more })),
    enabled: (level) => inner.enabled(level),
  };
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
