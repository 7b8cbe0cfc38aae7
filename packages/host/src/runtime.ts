import { resolve } from "node:path";
import {
  type AlertSink,
  createRuntime,
  type DynosaurConfig,
  isParsed,
  parseConfig,
  Redactor,
  type ReporterLoader,
  type Runtime,
  type RuntimeOptions,
  type StatsReporter,
  silentLogger,
  systemClock,
  type TickReport,
} from "@dynosaur/core";
import type { Dispatcher } from "undici";
import { type AlertSinkHandle, createAlertSink } from "./alerts/index.js";
import { ApiBudgets, type BudgetMember, budgetedFormation } from "./api-budget.js";
import { createDispatcher } from "./http.js";
import { createNotifier, memoryOutbox, type Notifier, type NotifyOutbox } from "./notify/index.js";
import {
  createFileReporter,
  createStatsDispatcher,
  createStatsReporters,
  type StatsDispatcher,
} from "./stats/index.js";

export interface HostRuntimeOptions extends Omit<RuntimeOptions, "http"> {
  /** Every HTTP call (plugins, Heroku, reporters, alerts) goes through it. @default a keep-alive undici Agent, made on first use */
  http?: Dispatcher;
  /** For `${VAR}` in a raw config, `DATABASE_URL` (the leader lock) and the alert defaults. @default process.env */
  env?: Record<string, string | undefined>;
  /** Where a dry run's stats file is written relative to. @default process.cwd() */
  cwd?: string;
  /** Loads reporters core does not carry (`otlp`): found as plugins are (`loadReporter`). */
  loadReporter?: ReporterLoader;
  /** Heroku's `User-Agent`. */
  userAgent?: string;
  /** Whether a dry run appends its ticks to `scaler.stats_file`, as the seed's stats.txt did (a server stores them itself). @default true */
  dryRunStatsFile?: boolean;
  /** Where `notify:` keeps the messages it has not delivered yet (the server: its database). @default in memory */
  notifyOutbox?: NotifyOutbox;
  /**
   * The Platform API budgets of the process: the apps on one Heroku key share one, and their
   * formation reads are spaced to fit it. A server passes the same to every app's runtime.
   * @default one of this runtime's own
   */
  apiBudgets?: ApiBudgets;
}

/**
 * Core's runtime with what talks to the outside world: Heroku's formation (simulated in a
 * dry run), the leader lock when `DATABASE_URL` is set (never in a dry run), the reporters
 * of `stats:` and the alert sink of `alerts:`. Each of these can be replaced by an option.
 * A reconfiguration rebuilds what its sections changed: the reporters, the alert sink, the
 * leader lock (another app or other process types).
 */
export async function createHostRuntime(config: unknown, options: HostRuntimeOptions): Promise<Runtime> {
  const env = options.env ?? process.env;
  const parsed = isParsed(config)
    ? { config, redactor: options.redactor ?? new Redactor() }
    : parseConfig(config, env, { redactor: options.redactor });
  const host = new Host(options, env, parsed.redactor);
  // The sources first: a config whose plugin options are wrong fails before a lock is
  // taken or a reporter or alert channel is set up (and says so).
  const runtime = await createRuntime(parsed.config, {
    ...options,
    env,
    redactor: parsed.redactor,
    http: () => host.http,
    formation: options.formation ?? ((c) => host.heroku(c)),
    leader: options.leader ?? host.leader,
    // `notify:` hears every tick and every problem, whoever reports and alerts.
    stats: host.notifying(options.stats ?? host.stats),
    alerts: host.notifyingAlerts(options.alerts ?? host.alerts),
  }).catch(async (e: unknown) => {
    await host.close();
    throw e;
  });
  try {
    await host.build(parsed.config);
  } catch (e) {
    await runtime.stop();
    await host.close();
    throw e;
  }
  return {
    get config() {
      return runtime.config;
    },
    get redactor() {
      return runtime.redactor;
    },
    get lastReports() {
      return runtime.lastReports;
    },
    describeAlerts: () => runtime.describeAlerts(),
    start: () => runtime.start(),
    tick: () => runtime.tick(),
    status: () => runtime.status(),
    observe: (news) => runtime.observe(news),
    async stop(stopOptions) {
      // The runtime flushes the stats and alerts and gives the lock up after its last tick.
      await runtime.stop(stopOptions);
      await host.close();
    },
    async reconfigure(raw, reconfigureOptions) {
      const next = isParsed(raw) ? raw : parseConfig(raw, env, { redactor: runtime.redactor }).config;
      await runtime.reconfigure(next, reconfigureOptions);
      await host.rebuild(next);
    },
  };
}

/** What the runtime hands each tick to (the stats reporters, or the ones given). */
type TickSink = NonNullable<RuntimeOptions["stats"]>;

/** The parts that talk to the outside world, behind fixed proxies the runtime keeps. */
class Host {
  readonly #o: HostRuntimeOptions;
  readonly #env: Record<string, string | undefined>;
  readonly #redactor: Redactor;
  #http: Dispatcher | undefined;
  #config!: DynosaurConfig;
  #stats: StatsDispatcher | null = null;
  #alerts: AlertSinkHandle | null = null;
  #lock: { isLeader(): boolean; describe(): string; stop(): Promise<void> } | null = null;
  #notifier: Notifier | null = null;
  /** Outlives the notifiers: one rebuilt by a reconfiguration takes up what the last one left. */
  readonly #outbox: NotifyOutbox;
  /** Problems currently raised: an outage is announced once, and its recovery once. */
  readonly #outages = new Set<string>();
  /** Whether the key's budget spaces this app's reads (told to `notify:` when it starts). */
  #budgetSpaced = false;
  readonly #budgets: ApiBudgets;
  /** This app's place in its key's budget, while it talks to Heroku. */
  #budget: BudgetMember | null = null;
  /** The app's own poll interval (ms), which the budget may stretch. */
  #pollMs = 60_000;

  constructor(options: HostRuntimeOptions, env: Record<string, string | undefined>, redactor: Redactor) {
    this.#o = options;
    this.#env = env;
    this.#redactor = redactor;
    this.#http = options.http;
    this.#outbox = options.notifyOutbox ?? memoryOutbox();
    this.#budgets = options.apiBudgets ?? new ApiBudgets({ clock: options.clock });
  }

  /** Made on first use: a config whose plugins and reporters call no HTTP API never loads undici. */
  get http(): Dispatcher {
    this.#http ??= createDispatcher(this.#env);
    return this.#http;
  }

  readonly leader = {
    isLeader: () => this.#lock?.isLeader() ?? true,
    describe: () => this.#lock?.describe() ?? "this process scales",
    stop: async () => {
      const lock = this.#lock;
      this.#lock = null;
      await lock?.stop();
    },
  };

  // Closing is idempotent: the runtime closes them after its last tick, and `close` again.
  readonly stats = {
    report: (tick: TickReport) => this.#stats?.report(tick),
    close: async () => {
      const stats = this.#stats;
      this.#stats = null;
      await stats?.close();
    },
  };

  readonly alerts: AlertSink & { describe(): string } = {
    raise: (p) => this.#alerts?.raise(p),
    clear: (k) => this.#alerts?.clear(k),
    tick: (r, healthy) => this.#alerts?.tick?.(r, healthy),
    close: async () => {
      const alerts = this.#alerts;
      this.#alerts = null;
      await alerts?.close();
    },
    describe: () => this.#alerts?.describe() ?? "none",
  };

  /** The reporter the runtime is given: `inner`, and the notifier told what each tick did. */
  notifying(inner: TickSink): TickSink {
    return {
      report: (tick) => {
        this.#notifier?.report(tick);
        this.#tellBudget();
        inner.report(tick);
      },
      // The notifier outlives the reporters (core closes them on some reconfigurations): `close` ends it.
      close: async () => {
        await inner.close?.();
      },
    };
  }

  /** The alert sink the runtime is given: `inner`, and outages and recoveries told to `notify:`. */
  notifyingAlerts(inner: AlertSink & { describe?(): string }): AlertSink & { describe?(): string } {
    const config = () => this.#config;
    return {
      ...inner,
      raise: (p) => {
        // A refusal is told from the tick (with its figures); a dead notify target only alerts.
        if (p.kind !== "heroku-refused" && !p.key.startsWith("notify:") && !this.#outages.has(p.key)) {
          this.#outages.add(p.key);
          this.#notifier?.notify(this.#problemEvent(config(), "outage", p.message));
        }
        inner.raise(p);
      },
      clear: (key) => {
        if (this.#outages.delete(key))
          this.#notifier?.notify(this.#problemEvent(config(), "recovered", `${key} cleared`));
        inner.clear(key);
      },
      tick: (r, healthy) => inner.tick?.(r, healthy),
      close: async () => {
        await inner.close?.();
      },
    };
  }

  /** Once when the key's budget starts spacing this app's reads beyond its poll interval (the `budget` event). */
  #tellBudget(): void {
    const notice = this.#budget ? this.#budgets.notice(this.#budget.account) : null;
    const spaced = notice?.spaced ?? false;
    if (spaced === this.#budgetSpaced) return;
    this.#budgetSpaced = spaced;
    if (spaced && notice?.message) this.#notifier?.notify(this.#problemEvent(this.#config, "budget", notice.message));
  }

  #problemEvent(config: DynosaurConfig, kind: "outage" | "recovered" | "config-changed" | "budget", reason: string) {
    const clock = this.#o.clock ?? systemClock;
    return {
      kind,
      time: clock.now(),
      app: config.scaler.heroku_app_name ?? "dry-run",
      processType: null,
      from: null,
      to: null,
      reason,
      winner: null,
    };
  }

  /** `after`: the notifier being replaced closes first, so the two never send the same messages. */
  #createNotifier(config: DynosaurConfig, after?: Promise<unknown>): Notifier | null {
    // Without targets, what waits in the outbox is kept for when some come back (or dropped then).
    if (!config.notify?.length) return null;
    // Core's rule knows a Slack webhook URL is a credential; a config parsed elsewhere was not collected.
    this.#redactor.collect({ notify: config.notify });
    const deps = this.#deps(config);
    const host = this;
    return createNotifier(config.notify, {
      get http() {
        return host.http;
      },
      clock: deps.clock,
      logger: deps.logger,
      // The dead-target alert goes where every other problem goes, not back into `notify:`.
      alerts: { raise: (p) => this.alertTarget.raise(p), clear: (k) => this.alertTarget.clear(k) },
      publicUrl: this.#env.DYNOSAUR_PUBLIC_URL || undefined,
      outbox: this.#outbox,
      after,
      scrub: (text) => this.#redactor.scrub(text),
    });
  }

  /** The sink a dead notify target is reported to (the runtime's own, or the one given). */
  get alertTarget(): AlertSink {
    return this.#o.alerts ?? this.alerts;
  }

  async #closeNotifier(): Promise<void> {
    const n = this.#notifier;
    this.#notifier = null;
    await n?.close();
  }

  async build(config: DynosaurConfig): Promise<void> {
    this.#config = config;
    try {
      this.#notifier = this.#createNotifier(config);
      if (!this.#o.leader) this.#lock = await this.#startLock(config);
      if (!this.#o.stats) this.#stats = await this.#createStats(config);
      if (!this.#o.alerts) this.#alerts = createAlertSink(config.alerts, this.#deps(config));
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  /** After a reconfiguration: rebuilds what the changed sections need. */
  async rebuild(next: DynosaurConfig): Promise<void> {
    const old = this.#config;
    this.#config = next;
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    const app = (c: DynosaurConfig) => [c.scaler.heroku_app_name, c.scaler.dry_run, Object.keys(c.processes)];
    if (!this.#o.stats && (!same(old.stats, next.stats) || old.scaler.dry_run !== next.scaler.dry_run)) {
      const was = this.#stats;
      this.#stats = await this.#createStats(next);
      await was?.close().catch(() => {});
    }
    if (!this.#o.alerts && (!same(old.alerts, next.alerts) || !same(app(old), app(next)))) {
      const was = this.#alerts;
      this.#alerts = createAlertSink(next.alerts, this.#deps(next));
      await was?.close().catch(() => {});
    }
    if (!same(old.notify, next.notify) || !same(app(old), app(next))) {
      const was = this.#notifier;
      const closing = was?.close().catch(() => {});
      this.#notifier = this.#createNotifier(next, closing);
      await closing;
    }
    if (!same({ ...old, notify: undefined }, { ...next, notify: undefined }))
      this.#notifier?.notify(this.#problemEvent(next, "config-changed", "the config was changed"));
    this.#pollMs = next.scaler.heroku_poll_interval * 1000;
    if (!this.#o.leader && !same(app(old), app(next))) {
      const was = this.#lock;
      this.#lock = await this.#startLock(next);
      await was?.stop();
    }
  }

  /** What the runtime does not close itself: the dispatcher it made. */
  async close(): Promise<void> {
    this.#budget?.leave();
    this.#budget = null;
    await Promise.allSettled([this.#closeNotifier(), this.stats.close(), this.alerts.close?.(), this.leader.stop()]);
    if (this.#o.http === undefined) await this.#http?.close().catch(() => {});
  }

  async heroku(config: DynosaurConfig) {
    const settings = config.scaler;
    const { HerokuClient } = await import("./heroku-client.js");
    const client = new HerokuClient({
      app: settings.heroku_app_name ?? "",
      apiKey: settings.heroku_api_key ?? "",
      processType: settings.process_type,
      baseUrl: settings.heroku_api_url,
      dispatcher: this.http,
      timeoutMs: settings.heroku_timeout * 1000,
      clock: this.#o.clock,
      userAgent: this.#o.userAgent,
    });
    // Asked again when the app or the key changes: the app leaves the old key's budget.
    this.#budget?.leave();
    this.#pollMs = settings.heroku_poll_interval * 1000;
    this.#budget = this.#budgets.join(settings.heroku_api_key ?? "", () => this.#pollMs);
    return budgetedFormation(client, this.#budget);
  }

  async #startLock(config: DynosaurConfig) {
    const settings = config.scaler;
    const databaseUrl = this.#env.DATABASE_URL;
    if (settings.dry_run || !databaseUrl) return null;
    // The URL, and its password on its own (as written and decoded).
    this.#redactor.add(databaseUrl);
    this.#redactor.collect(databaseUrl);
    const { startLeaderLock } = await import("./locks.js");
    return startLeaderLock({
      databaseUrl,
      app: settings.heroku_app_name ?? "",
      // One lock for the process types scaled together ("web" alone keeps the key of earlier releases).
      processType: Object.keys(config.processes).join("+"),
      logger: this.#o.logger ?? this.#deps(config).logger,
      instance: this.#env.DYNO,
      clock: this.#o.clock,
    });
  }

  async #createStats(config: DynosaurConfig): Promise<StatsDispatcher> {
    const sources = config.plugins.map((p) => p.name ?? p.type);
    // Object.assign, not a spread: a spread would read the `http` getter and load undici.
    const deps = Object.assign(this.#deps(config), { loadReporter: this.#o.loadReporter, sources });
    const reporters: StatsReporter[] = await createStatsReporters(config.stats, deps);
    // A dry run always keeps its decisions in the stats file, as the seed's stats.txt did.
    if (config.scaler.dry_run && this.#o.dryRunStatsFile !== false)
      reporters.push(
        createFileReporter({ path: resolve(this.#o.cwd ?? process.cwd(), config.scaler.stats_file), sources }),
      );
    return createStatsDispatcher(reporters, { logger: deps.logger });
  }

  /** What reporters and alerts need; `http` is only made when one of them sends something. */
  #deps(config: DynosaurConfig) {
    const host = this;
    return {
      app: config.scaler.heroku_app_name ?? "dry-run",
      logger: this.#o.logger ?? silentLogger,
      env: this.#env,
      clock: this.#o.clock ?? systemClock,
      get http() {
        return host.http;
      },
    };
  }
}
