/*
 * The one place that builds a scaling engine from a config: host's `createHostRuntime`, with
 * what the server owns passed in (its HTTP dispatcher, clock, logger, the app's redactor, and
 * a leader gate that says whether this process may change the formation now). Nothing else
 * in apps/web touches the runtime.
 *
 * Live reconfiguration is `runtime.reconfigure(config, { plugins })`: unchanged sources keep
 * their readings, the formation controller (so the blackout and refusals) is kept, a `use:`
 * change brings its plugin types along, and the reporters and alert sink are rebuilt when
 * `stats:` or `alerts:` change.
 */
import type {
  Clock,
  DynosaurConfig,
  FormationNews,
  LeaderGate,
  Logger,
  PluginDefinition,
  Redactor,
  Runtime,
  RuntimeStatus,
  SourceHealth,
  TickReport,
} from "@dynosaur/core";
import { type ApiBudgets, createHostRuntime, type NotifyOutbox } from "@dynosaur/host";
import type { Dispatcher } from "undici";
import { whyScaled } from "./why.js";

/** Something the engine did or saw that belongs in the app's history. */
export interface EngineEvent {
  time: number;
  /** Core's event kinds (a scale split into up and down), and sources going out and back. */
  kind:
    | "scale-up"
    | "scale-down"
    | "manual-change"
    | "foreign-scaler"
    | "heroku-refused"
    | "heroku-refusal-lifted"
    | "heroku-error"
    | "heroku-recovered"
    | "source-outage"
    | "source-recovered"
    /** A Heroku release, told by the app's webhook. */
    | "release"
    /** Formation changes held (Heroku prebooting a release). */
    | "formation-held";
  message: string;
  /** `process` (the process type, null for the app as a whole) and the event's figures. */
  data: Record<string, unknown>;
}

export type EngineStatus = RuntimeStatus;

export interface AppEngine {
  start(): void;
  /** Finishes the tick in progress (abandoning its calls after `graceMs`), flushes stats and alerts. */
  stop(options?: { graceMs?: number }): Promise<void>;
  status(): EngineStatus;
  /** The last tick's reports, one per process type. */
  readonly lastReports: readonly TickReport[];
  /** Applies a new (validated) config without a restart. */
  reconfigure(config: DynosaurConfig, plugins: readonly PluginDefinition[]): Promise<void>;
  /** Called once per tick with every process type's report. */
  onTick(listener: (reports: readonly TickReport[]) => void): () => void;
  onEvent(listener: (event: EngineEvent) => void): () => void;
  /** What Heroku's app webhook told (heroku-webhooks.ts), taken at once: its events go out now, not at the next tick. */
  observe(news: FormationNews): void;
}

export interface EngineDeps {
  config: DynosaurConfig;
  plugins: readonly PluginDefinition[];
  /** The app's secrets; core adds the plugin-declared ones to it. */
  redactor: Redactor;
  clock: Clock;
  http: Dispatcher;
  logger: Logger;
  env: Record<string, string | undefined>;
  /** Sent to Heroku, so its logs (and the tests) can tell which server scaled. */
  userAgent: string;
  /** Whether this engine may change the formation now (holds the app's lock, app not paused), and why not. */
  gate: LeaderGate;
  /** Where `notify:` keeps what it has not delivered yet (the app's rows in the database). @default in memory */
  notifyOutbox?: NotifyOutbox;
  /** The process's Platform API budgets: apps on one Heroku key share one. @default one per engine */
  apiBudgets?: ApiBudgets;
}

export async function createAppEngine(deps: EngineDeps): Promise<AppEngine> {
  const tickListeners = new Set<(reports: readonly TickReport[]) => void>();
  const eventListeners = new Set<(event: EngineEvent) => void>();
  const emit = (event: EngineEvent) => {
    for (const l of eventListeners) l(event);
  };

  let lastHealth = new Map<string, SourceHealth>();
  const onTick = (reports: readonly TickReport[]) => {
    const health = new Map<string, SourceHealth>();
    for (const report of reports) {
      const context = {
        process: report.processType,
        reason: report.reason,
        winner: report.winner,
        estimate: report.estimate,
      };
      for (const e of report.events) {
        const kind =
          e.kind === "scale" ? (Number(e.fields.to) > Number(e.fields.from) ? "scale-up" : "scale-down") : e.kind;
        // An app-wide event (Heroku not answering) rides on the first report: it is no process's.
        // A dry run's simulated scaling is history too, and says so.
        // A scale says why (the winning source, its reading, the limits): see why.ts.
        const message =
          e.kind === "scale"
            ? `${report.dryRun ? "[dry run] " : ""}${whyScaled(report, Number(e.fields.from), Number(e.fields.to))}`
            : e.message;
        emit({
          time: report.time,
          kind,
          message,
          data: { ...e.fields, ...(e.processType === null ? { process: null } : context) },
        });
      }
      for (const s of report.sources) {
        const was = lastHealth.get(s.name);
        health.set(s.name, s.health);
        const source = { source: s.name, process: report.processType };
        if (s.health === "outage" && was !== "outage")
          emit({
            time: report.time,
            kind: "source-outage",
            message: `source ${s.name} is in outage: ${s.lastError ?? "no reading"}`,
            data: { ...source, error: s.lastError },
          });
        if (s.health !== "outage" && was === "outage")
          emit({ time: report.time, kind: "source-recovered", message: `source ${s.name} reads again`, data: source });
      }
    }
    lastHealth = health;
    for (const l of tickListeners) l(reports);
  };

  const runtime: Runtime = await createHostRuntime(deps.config, {
    plugins: deps.plugins,
    clock: deps.clock,
    http: deps.http,
    logger: deps.logger,
    env: deps.env,
    redactor: deps.redactor,
    userAgent: deps.userAgent,
    // Always given: without it, a server on Postgres (DATABASE_URL) would take a second lock per app.
    leader: deps.gate,
    // Every tick is stored in the database: no dry-run CSV file.
    dryRunStatsFile: false,
    notifyOutbox: deps.notifyOutbox,
    apiBudgets: deps.apiBudgets,
    onTick,
  });
  // Reconfigurations run one at a time, in the order they were asked for.
  let queue: Promise<unknown> = Promise.resolve();
  const reconfigure = (next: DynosaurConfig, plugins: readonly PluginDefinition[]) =>
    runtime.reconfigure(next, { plugins });

  return {
    start() {
      runtime.start();
    },
    async stop(options) {
      await queue.catch(() => {});
      await runtime.stop(options);
    },
    status: () => runtime.status(),
    get lastReports() {
      return runtime.lastReports;
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
    observe(news) {
      const time = deps.clock.now();
      for (const e of runtime.observe(news))
        emit({
          time,
          kind: e.kind === "scale" ? "scale-up" : e.kind,
          message: e.message,
          data: { ...e.fields, process: e.processType },
        });
    },
  };
}
