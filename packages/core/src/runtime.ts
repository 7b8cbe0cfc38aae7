import type { Dispatcher } from "undici";
import { type Clock, systemClock } from "./clock.js";
import { type DynosaurConfig, defaultProcess, envReferences, isParsed, parseConfig } from "./config.js";
import { DynosaurError, describeError, inputError } from "./errors.js";
import {
  FormationController,
  type FormationHold,
  type FormationNews,
  type LeaderGate,
} from "./formation/controller.js";
import { type FormationApi, SimulatedFormation } from "./formation/simulated.js";
import { alertListener, logListener } from "./listeners.js";
import { type Logger, silentLogger } from "./logger.js";
import { Loop, type TickListener } from "./loop.js";
import { limitsFor } from "./plan.js";
import { type PluginDefinition, parsePluginOptions } from "./plugin.js";
import { Redactor } from "./redact.js";
import { PluginRegistry } from "./registry.js";
import type { AlertSink, EngineEvent, SourceStatus, TickReport } from "./report.js";
import { Source } from "./source.js";

/** A plugin, and the package it came from when known (for `status()` and logs). */
export interface RuntimePlugin {
  plugin: PluginDefinition;
  packageName?: string;
  version?: string | null;
}

export interface RuntimeOptions {
  /** Every plugin the config may name by `type` or alias. */
  plugins: ReadonlyArray<PluginDefinition | RuntimePlugin>;
  /** @default systemClock */
  clock?: Clock;
  /**
   * What plugins make their HTTP calls through (`ctx.http`); a function is called on first
   * use. Core makes none: without it, a plugin that asks for one fails to start.
   * `createHostRuntime` (@dynosaur/host) gives a keep-alive undici Agent, made on first use.
   */
  http?: Dispatcher | (() => Dispatcher);
  /** @default silentLogger */
  logger?: Logger;
  /** For `${VAR}` in a raw config. @default process.env */
  env?: Record<string, string | undefined>;
  /** Secrets already known (from `parseConfig`): plugin-declared secrets are added to it. */
  redactor?: Redactor;
  /**
   * The formation port: where the quantities live. Asked again when the app or the process
   * types change. Required unless the config is a dry run (then simulated in memory).
   */
  formation?: (config: DynosaurConfig) => FormationApi | Promise<FormationApi>;
  /** Who may scale; stopped after the last tick. @default this process */
  leader?: LeaderGate & { stop?(): Promise<void> };
  /** Receives every tick's reports; closed on stop. @default none */
  stats?: { report(tick: TickReport): void; close?(): Promise<void> };
  /** Receives problems and recoveries; closed on stop. @default none */
  alerts?: AlertSink & { describe?(): string };
  /** Called once per tick with every process type's report, after the log, stats and alerts. */
  onTick?: (reports: readonly TickReport[]) => void;
}

/** What the engine sees of one process type now. */
export interface ProcessStatus {
  processType: string;
  /** Formation quantity as last read or set; null before Heroku answered. */
  current: number | null;
  estimate: number | null;
  winner: string | null;
  /** Why the last tick did what it did. */
  reason: string | null;
  /** Time (ms) of the last change of the formation, by us or by hand; null if unknown. */
  lastChange: number | null;
  /** The limits in force now (a schedule window's, or the process type's own). */
  minDynos: number;
  maxDynos: number;
}

/** The seed's `get_status`: the first process type's figures at the top, every one in `processes`. */
export interface RuntimeStatus extends ProcessStatus {
  time: number;
  app: string;
  dryRun: boolean;
  running: boolean;
  processes: ProcessStatus[];
  /** Formation changes held (Heroku prebooting a release), and why; null when none. */
  hold: FormationHold | null;
  /** Milliseconds a formation read stays good: longer while Heroku's webhooks tell the changes. */
  formationPollMs: number;
  /** Whether Heroku's app webhooks tell the formation's changes. */
  webhooks: boolean;
  /** The config's `boot_seconds`: what the policy assumes a dyno takes to boot. */
  bootSeconds: number;
  /** Each source, with the process type it drives, its poll interval (s) and the package its plugin came from. */
  sources: Array<SourceStatus & { process: string; interval: number; package: string | null; version: string | null }>;
}

/** A running Dynosaur for one config: what the CLI runs and what the web app hosts per app. */
export interface Runtime {
  readonly config: DynosaurConfig;
  readonly redactor: Redactor;
  /** The last tick's reports, one per process type (empty before the first tick). */
  readonly lastReports: readonly TickReport[];
  /** Where problems go (for `dynosaur check`). */
  describeAlerts(): string;
  start(): void;
  /** Runs one tick now; resolves with each process type's report. */
  tick(): Promise<TickReport[]>;
  /** Finishes the tick under way (abandoning its calls after `graceMs`), closes sources, flushes stats and alerts. */
  stop(options?: { graceMs?: number }): Promise<void>;
  status(): RuntimeStatus;
  /**
   * Applies a new config from the next tick without a restart: sources whose entry did not
   * change keep their readings, the blackout and refusals carry over unless the app or
   * process type changed. Validated first: an invalid config changes nothing.
   */
  reconfigure(config: unknown, options?: { plugins?: RuntimeOptions["plugins"] }): Promise<void>;
  /**
   * What Heroku's app webhooks told (a formation change, a hold while a release preboots):
   * taken at once, between ticks. Returns the events it made, which no tick report carries.
   */
  observe(news: FormationNews): EngineEvent[];
}

/**
 * Builds the engine (sources, formation controller, loop) from a config. It builds nothing
 * that talks to the outside world: the formation, leader gate, stats and alerts are given
 * (`createHostRuntime` in @dynosaur/host gives Heroku, the lock, reporters and alerts).
 */
export async function createRuntime(config: unknown, options: RuntimeOptions): Promise<Runtime> {
  const env = options.env ?? process.env;
  const parsed = isParsed(config)
    ? { config, redactor: options.redactor ?? new Redactor() }
    : parseConfig(config, env, { redactor: options.redactor });
  const runtime = new EngineRuntime(parsed.config, parsed.redactor, options, env);
  await runtime.init();
  return runtime;
}

const FORMATION_KEYS = ["heroku_app_name", "heroku_api_key", "heroku_api_url", "dry_run", "heroku_timeout"] as const;

class EngineRuntime implements Runtime {
  config: DynosaurConfig;
  readonly redactor: Redactor;
  readonly #o: RuntimeOptions;
  readonly #env: Record<string, string | undefined>;
  readonly #clock: Clock;
  readonly #logger: Logger;
  #registry!: PluginRegistry;
  readonly #packages = new Map<PluginDefinition, RuntimePlugin>();
  #http: Dispatcher | undefined;
  readonly #makeHttp: (() => Dispatcher) | undefined;
  readonly #closing = new AbortController();
  #loop!: Loop;
  #leader: RuntimeOptions["leader"];
  #stats: NonNullable<RuntimeOptions["stats"]>;
  #alerts: NonNullable<RuntimeOptions["alerts"]>;

  constructor(
    config: DynosaurConfig,
    redactor: Redactor,
    options: RuntimeOptions,
    env: Record<string, string | undefined>,
  ) {
    this.config = config;
    this.redactor = redactor;
    this.#o = options;
    this.#env = env;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#usePlugins(options.plugins);
    if (typeof options.http === "function") this.#makeHttp = options.http;
    else this.#http = options.http;
    this.#stats = options.stats ?? { report() {} };
    this.#alerts = options.alerts ?? { raise() {}, clear() {} };
    this.#leader = options.leader;
  }

  #usePlugins(plugins: RuntimeOptions["plugins"]): void {
    for (const p of plugins) {
      const entry = "plugin" in p ? p : { plugin: p };
      this.#packages.set(entry.plugin, entry);
    }
    this.#registry = new PluginRegistry([...this.#packages.keys()]);
  }

  /** Made on first use: a config whose plugins call no HTTP API never loads undici. */
  get http(): Dispatcher {
    this.#http ??= this.#makeHttp?.();
    if (this.#http === undefined)
      throw new DynosaurError("DYNO_USAGE", "a plugin needs HTTP, and createRuntime was given no `http` dispatcher", {
        hint: "pass `http` to createRuntime, or use createHostRuntime from @dynosaur/host",
      });
    return this.#http;
  }

  async init(): Promise<void> {
    const sources = await this.#createSources(this.config, []);
    let controller: FormationController;
    try {
      controller = await this.#controller(this.config);
    } catch (e) {
      await Promise.all(sources.map((s) => s.close()));
      throw e;
    }
    const listeners: TickListener[] = [
      logListener(this.#logger),
      (t) => this.#stats.report(t),
      alertListener(() => this.#alerts),
    ];
    this.#loop = new Loop(
      { config: this.config, sources, controller },
      { clock: this.#clock, listeners, onTick: this.#o.onTick, onUnexpected: (e) => this.#unexpected(e) },
    );
  }

  get lastReports(): readonly TickReport[] {
    return this.#loop.lastReports;
  }

  describeAlerts(): string {
    if (this.#alerts.describe) return this.#alerts.describe();
    return this.#o.alerts ? "handed to the embedding program" : "none";
  }

  start(): void {
    this.#loop.start();
  }

  tick(): Promise<TickReport[]> {
    return this.#loop.tick();
  }

  async stop(options: { graceMs?: number } = {}): Promise<void> {
    this.#closing.abort();
    await this.#loop.stop(options.graceMs ?? 8000);
    await Promise.all(this.#loop.parts.sources.map((s) => s.close()));
    const flushes = [this.#stats.close?.(), this.#alerts.close?.()].map((p) =>
      p?.catch((e) => this.#logger.warn(`flushing failed: ${describeError(e)}`)),
    );
    await Promise.all(flushes);
    // Only after the last tick: a standby takes over as soon as the lock is free.
    await this.#leader?.stop?.();
  }

  status(): RuntimeStatus {
    const now = this.#clock.now();
    const { config, sources, controller } = this.#loop.parts;
    // Estimates are the last decision's (the policy's, e.g. a forecast): the figures a tick
    // logged, charted and acted on. Before the first tick there is none to show.
    const reports = new Map(this.#loop.lastReports.map((r) => [r.processType, r]));
    const decided = (process: string, name: string) =>
      reports.get(process)?.sources.find((s) => s.name === name)?.estimate ?? null;
    const processes = Object.keys(config.processes).map((type): ProcessStatus => {
      const limits = limitsFor(config, type, now);
      const report = reports.get(type);
      return {
        processType: type,
        current: controller.current(type),
        estimate: report?.estimate ?? null,
        winner: report?.winner ?? null,
        reason: report?.reason ?? null,
        lastChange: controller.lastChange(type),
        minDynos: limits.min,
        maxDynos: limits.max,
      };
    });
    return {
      time: now,
      app: config.scaler.heroku_app_name ?? "(dry run)",
      dryRun: config.scaler.dry_run,
      running: this.#loop.running,
      ...(processes[0] as ProcessStatus),
      processes,
      hold: controller.held(now),
      formationPollMs: controller.pollIntervalMs(),
      webhooks: controller.webhooksFlowing,
      bootSeconds: config.scaler.boot_seconds,
      sources: sources.map((source) => {
        const from = this.#packages.get(source.plugin);
        const status = source.status(now);
        return {
          ...status,
          estimate: decided(source.process, status.name),
          process: source.process,
          interval: source.options.interval,
          package: from?.packageName ?? null,
          version: from?.version ?? null,
        };
      }),
    };
  }

  observe(news: FormationNews): EngineEvent[] {
    return this.#loop.parts.controller.observe(news);
  }

  async reconfigure(raw: unknown, options: { plugins?: RuntimeOptions["plugins"] } = {}): Promise<void> {
    const next = isParsed(raw) ? raw : parseConfig(raw, this.#env, { redactor: this.redactor }).config;
    // A new `use:` entry brings plugin types; the sources already running keep theirs.
    if (options.plugins) this.#usePlugins(options.plugins);
    const old = this.#loop.parts;
    const sources = await this.#createSources(next, old.sources);
    const types = (c: DynosaurConfig) => Object.keys(c.processes).join(",");
    const moved =
      FORMATION_KEYS.some((k) => next.scaler[k] !== old.config.scaler[k]) || types(next) !== types(old.config);
    const controller = moved ? await this.#controller(next) : old.controller;
    if (!moved) controller.forgetRefusals();
    // A tick under way finishes with the parts it began with; the next one takes these.
    this.#loop.parts = { config: next, sources, controller };
    this.config = next;
    await this.#loop.idle();
    await Promise.all(old.sources.filter((s) => !sources.includes(s)).map((s) => s.close()));
    this.#logger.info("config updated", { event: "reconfigure" });
  }

  /** Sources for `config`, reusing those of `keep` whose entry did not change (so they keep their readings). */
  async #createSources(config: DynosaurConfig, keep: readonly Source[]): Promise<Source[]> {
    const created: Source[] = [];
    try {
      for (const [i, entry] of config.plugins.entries()) {
        const same = keep.find((s) => s.sameEntry(entry));
        created.push(same ?? (await this.#createSource(entry, `plugins[${i}]`, envReferences(config))));
      }
      return created;
    } catch (e) {
      await Promise.all(created.filter((s) => !keep.includes(s)).map((s) => s.close()));
      throw e;
    }
  }

  async #createSource(
    entry: Record<string, unknown>,
    path: string,
    fromEnv: ReadonlySet<string> | undefined,
  ): Promise<Source> {
    const plugin = this.#registry.get(String(entry.type), `${path}.type`);
    const options = parsePluginOptions(plugin, entry, path, fromEnv);
    options.process ??= defaultProcess(this.config);
    for (const key of plugin.secrets ?? []) {
      const value = (options as Record<string, unknown>)[key];
      if (typeof value === "string") this.redactor.add(value);
    }
    const logger = this.#logger.child({ source: options.name });
    try {
      const runtime = this;
      const ctx = {
        name: options.name,
        logger,
        get http() {
          return runtime.http;
        },
        signal: this.#closing.signal,
        clock: this.#clock,
      };
      return new Source(plugin, options, await plugin.create(options, ctx), { clock: this.#clock, logger, entry });
    } catch (e) {
      if (!(e instanceof DynosaurError))
        throw new DynosaurError(
          "DYNO_PLUGIN_FAILED",
          `${path}: plugin "${plugin.type}" failed to start: ${describeError(e)}`,
          { cause: e },
        );
      if (e.exitCode === 2 && e.path && !e.path.startsWith("plugins[")) {
        throw inputError(e.code, `${path}.${e.path}: ${e.message}`, {
          path: `${path}.${e.path}`,
          hint: e.hint,
          cause: e.cause,
        });
      }
      throw e;
    }
  }

  async #controller(config: DynosaurConfig): Promise<FormationController> {
    const settings = config.scaler;
    return new FormationController({
      formation: await this.#formation(config),
      app: settings.heroku_app_name ?? "dry-run",
      processTypes: Object.keys(config.processes),
      intervalMs: settings.interval * 1000,
      pollIntervalMs: settings.heroku_poll_interval * 1000,
      clock: this.#clock,
      leader: this.#leader,
    });
  }

  async #formation(config: DynosaurConfig): Promise<FormationApi> {
    const settings = config.scaler;
    // A dry run never talks to Heroku: the formation lives in memory, starting at the minimum.
    if (settings.dry_run) {
      return new SimulatedFormation(
        Object.fromEntries(Object.entries(config.processes).map(([type, p]) => [type, p.min_dynos])),
        this.#clock,
      );
    }
    if (this.#o.formation) return this.#o.formation(config);
    throw new DynosaurError("DYNO_USAGE", "createRuntime was given no formation for a config that is not a dry run", {
      hint: "pass `formation`, or use createHostRuntime from @dynosaur/host (it adds Heroku's)",
    });
  }

  #unexpected(e: unknown): void {
    this.#logger.error(`unexpected error in the scaler loop: ${describeError(e)}`, {
      event: "unexpected",
      stack: e instanceof Error ? e.stack : undefined,
    });
    this.#alerts.raise({
      key: `unexpected:${describeError(e).slice(0, 80)}`,
      kind: "unexpected",
      message: `unexpected error: ${describeError(e)}`,
    });
  }
}
