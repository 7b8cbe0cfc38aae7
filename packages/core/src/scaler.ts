import type { Dispatcher } from "undici";
import { type Clock, systemClock } from "./clock.js";
import { type DynosaurConfig, isParsed, parseConfig, type ScalerConfig, scalerConfigSchema } from "./config.js";
import { DynosaurError, describeError, inputError } from "./errors.js";
import { type FormationApi, type FormationState, SimulatedFormation } from "./formation.js";
import { type Logger, silentLogger } from "./logger.js";
import { type PluginDefinition, parsePluginOptions } from "./plugin.js";
import { combine, decide } from "./policy.js";
import { PluginRegistry } from "./registry.js";
import type { AlertSink, SourceStatus, TickReport } from "./report.js";
import { Source } from "./source.js";
import { formatTick } from "./tick-format.js";
import { parseOrThrow } from "./validate.js";

/** How long Heroku's refusal of a quantity (422, e.g. a plan's dyno limit) is remembered. */
const REFUSAL_MEMORY_MS = 60 * 60 * 1000;

/** Where tick reports go besides the log: stats reporters. Must not block. */
export interface TickSink {
  report(tick: TickReport): void;
  close?(): Promise<void>;
}

export interface ScalerDeps {
  /** Every plugin the config may name by `type` or alias. */
  plugins: readonly PluginDefinition[];
  /** @default systemClock */
  clock?: Clock;
  /** HTTP dispatcher handed to plugins and the Heroku client. @default undici's global dispatcher */
  http?: Dispatcher;
  /** @default silentLogger */
  logger?: Logger;
  /**
   * Builds where the quantity is read and set, from the scaler settings. Called again
   * when the settings change. A dry run always uses an in-memory simulation instead.
   */
  formation: (settings: ScalerConfig) => FormationApi;
  /** Stats reporters, fed one report per tick without waiting. */
  stats?: TickSink;
  /** Problems and recoveries, deduplicated by the sink. */
  alerts?: AlertSink;
  /** Called with every tick report (after logging). */
  onTick?: (tick: TickReport) => void;
  /**
   * Replaces a source's readings while keeping its plugin's `estimateDynos` (backtests
   * feed recorded load this way). Return undefined to leave a source as it is.
   */
  retrieveOverride?: (source: { name: string; type: string }) => ((signal: AbortSignal) => Promise<number>) | undefined;
  /**
   * When given and `isLeader()` is false, the scaler reads and reports but never changes
   * the formation: another scaler of the same app holds the lead.
   */
  leader?: { isLeader(): boolean; describe?(): string };
}

export interface ScalerStatus {
  time: number;
  app: string;
  processType: string;
  dryRun: boolean;
  running: boolean;
  /** Formation quantity as last read or set; null before Heroku answered. */
  current: number | null;
  estimate: number | null;
  winner: string | null;
  /** Why the last tick did what it did. */
  reason: string | null;
  /** Time (ms) of the last change of the formation, by us or by hand; null if unknown. */
  lastChange: number | null;
  sources: SourceStatus[];
}

/**
 * Builds a scaler from a config object (raw, as parsed from YAML/JSON, or already
 * validated) and the plugins it may use. Plugin options are checked and instances created
 * here, so a bad option fails before the first tick.
 */
export async function createScaler(config: unknown, deps: ScalerDeps): Promise<Scaler> {
  const parsed = isParsed(config) ? config : parseConfig(config).config;
  const scaler = new Scaler(parsed, deps);
  await scaler.init();
  return scaler;
}


export class Scaler {
  #config: DynosaurConfig;
  #settings: ScalerConfig;
  readonly #deps: ScalerDeps;
  readonly #registry: PluginRegistry;
  readonly #clock: Clock;
  readonly #logger: Logger;
  #sources: Source[] = [];
  #formation!: FormationApi;

  /** Quantity as last read or set. */
  #current: number | null = null;
  #formationReadAt: number | null = null;
  #lastChange: number | null = null;
  #refused: { quantity: number; at: number } | null = null;
  #herokuFailures = 0;
  #herokuRetryAt = 0;
  #lastReport: TickReport | null = null;

  #running = false;
  #loop: Promise<void> | null = null;
  readonly #stopSignal = new AbortController();
  #tickSignal = new AbortController();
  #ticking: Promise<TickReport> | null = null;

  constructor(config: DynosaurConfig, deps: ScalerDeps) {
    this.#config = config;
    this.#settings = config.scaler;
    this.#deps = deps;
    this.#registry = new PluginRegistry(deps.plugins);
    this.#clock = deps.clock ?? systemClock;
    this.#logger = deps.logger ?? silentLogger;
  }

  /** @internal Creates the sources and the formation; called by `createScaler`. */
  async init(): Promise<void> {
    const sources: Source[] = [];
    try {
      for (const [i, entry] of this.#config.plugins.entries()) sources.push(await this.#createSource(entry, `plugins[${i}]`));
    } catch (e) {
      await Promise.all(sources.map((s) => s.close()));
      throw e;
    }
    this.#sources = sources;
    this.#formation = this.#makeFormation(this.#settings);
  }

  async #createSource(entry: Record<string, unknown>, path: string): Promise<Source> {
    const plugin = this.#registry.get(String(entry.type), `${path}.type`);
    const options = parsePluginOptions(plugin, entry, path);
    const logger = this.#logger.child({ source: options.name });
    let instance: Awaited<ReturnType<PluginDefinition["create"]>>;
    try {
      instance = await plugin.create(options, {
        name: options.name,
        logger,
        http: this.#deps.http ?? (await defaultDispatcher()),
        signal: this.#stopSignal.signal,
        clock: this.#clock,
      });
    } catch (e) {
      if (e instanceof DynosaurError) {
        if (e.exitCode === 2 && e.path && !e.path.startsWith("plugins[")) {
          throw inputError(e.code, `${path}.${e.path}: ${e.message}`, { path: `${path}.${e.path}`, hint: e.hint, cause: e.cause });
        }
        throw e;
      }
      throw new DynosaurError("DYNO_PLUGIN_FAILED", `${path}: plugin "${plugin.type}" failed to start: ${describeError(e)}`, { cause: e });
    }
    const override = this.#deps.retrieveOverride?.({ name: options.name, type: plugin.type });
    if (override) instance = { ...instance, retrieve: override };
    return new Source(plugin, options, instance, { clock: this.#clock, logger });
  }

  #makeFormation(settings: ScalerConfig): FormationApi {
    if (settings.dry_run) {
      // A dry run never talks to Heroku: the formation lives in memory, starting at the minimum.
      return new SimulatedFormation(settings.min_dynos, this.#clock);
    }
    return this.#deps.formation(settings);
  }

  get settings(): Readonly<ScalerConfig> {
    return this.#settings;
  }

  /** Runs ticks every `interval` seconds until `stop()`. Returns at once. */
  start(): void {
    if (this.#running) return;
    if (this.#stopSignal.signal.aborted) throw new DynosaurError("DYNO_USAGE", "this scaler was stopped; create a new one");
    this.#running = true;
    const signal = this.#stopSignal.signal;
    this.#loop = (async () => {
      while (!signal.aborted) {
        const started = this.#clock.now();
        await this.tick().catch((e) => this.#unexpected(e));
        if (signal.aborted) break;
        const wait = Math.max(0, this.#settings.interval * 1000 - (this.#clock.now() - started));
        await this.#clock.sleep(wait, signal).catch(() => {});
      }
    })();
  }

  /**
   * Stops the loop: lets the tick in progress finish (abandoning its calls after
   * `graceMs`), then closes the sources and flushes stats and alerts.
   */
  async stop(options: { graceMs?: number } = {}): Promise<void> {
    this.#stopSignal.abort();
    const grace = options.graceMs ?? 8000;
    const timer = setTimeout(() => this.#tickSignal.abort(new Error("stopping")), grace);
    timer.unref?.();
    try {
      await this.#loop;
      await this.#ticking?.catch(() => {});
    } finally {
      clearTimeout(timer);
    }
    this.#running = false;
    this.#loop = null;
    await Promise.all(this.#sources.map((s) => s.close()));
    await Promise.all([this.#deps.stats?.close?.(), this.#deps.alerts?.close?.()].map((p) => p?.catch((e) => this.#logger.warn(`flushing failed: ${describeError(e)}`))));
  }

  /** Runs one tick now (ticks never overlap: a second call waits for the first). */
  tick(): Promise<TickReport> {
    const run = (this.#ticking ?? Promise.resolve()).catch(() => {}).then(() => this.#tick());
    this.#ticking = run;
    return run;
  }

  async #tick(): Promise<TickReport> {
    if (this.#tickSignal.signal.aborted) this.#tickSignal = new AbortController();
    const signal = this.#tickSignal.signal;
    const settings = this.#settings;
    const alerts = this.#deps.alerts;

    // 1. Read each source (those whose interval has passed), in parallel. A slow one is
    // waited for at most one tick; until its reading lands, its last good one stands.
    await Promise.all(this.#sources.map((s) => s.poll(settings.max_dynos, settings.interval * 1000)));
    const now = this.#clock.now();
    const sources = this.#sources.map((s) => s.status(now));

    // 2. Health: outages are problems worth a human's attention; recoveries too.
    for (const s of sources) {
      const key = `source-outage:${s.name}`;
      if (s.health === "outage") alerts?.raise({ key, kind: "source-outage", message: `source ${s.name} has had no good reading for ${s.lastRetrieval === null ? "ever" : `${Math.round((now - s.lastRetrieval) / 1000)} s`}: ${s.lastError ?? "no reading"}` });
      else alerts?.clear(key);
    }
    const allOut = sources.length > 0 && sources.every((s) => s.health === "outage");
    if (allOut) alerts?.raise({ key: "all-sources-out", kind: "all-sources-out", message: "every source is in outage: holding the formation as it is" });
    else alerts?.clear("all-sources-out");

    // 3. Combine.
    const combined = combine(sources, settings);

    // 4 + 5. Decide and act.
    const before = await this.#readFormation(now, false, signal);
    let after = before;
    let reason: string;
    if (before === null) {
      reason = `Heroku unavailable, holding (${this.#herokuErrorCode ?? "no answer"})`;
    } else {
      if (this.#refused && now - this.#refused.at > REFUSAL_MEMORY_MS) this.#liftRefusal();
      let decision = decide({ now, current: before, combined, sources, lastChange: this.#lastChange, refusedQuantity: this.#refused?.quantity ?? null, settings });
      reason = decision.reason;
      if (decision.target !== before) {
        // Always act on a fresh quantity: someone may have scaled by hand since the last read.
        const fresh = this.#formationReadAt === now ? before : await this.#readFormation(now, true, signal);
        if (fresh === null) {
          reason = `Heroku unavailable, holding (${this.#herokuErrorCode ?? "no answer"})`;
        } else {
          if (fresh !== before) {
            decision = decide({ now, current: fresh, combined, sources, lastChange: this.#lastChange, refusedQuantity: this.#refused?.quantity ?? null, settings });
            reason = decision.reason;
          }
          after = fresh;
          const leader = this.#deps.leader;
          if (decision.target === fresh) {
            // Nothing to do: the fresh read already matches.
          } else if (leader && !leader.isLeader()) {
            reason = `${decision.reason}; standing by: ${leader.describe?.() ?? "another scaler leads"}`;
          } else {
            after = await this.#scale(fresh, decision.target, now, signal);
            if (after === fresh) reason = `${reason}; not applied (${this.#herokuErrorCode ?? "refused"})`;
          }
        }
      }
    }

    // 6. Report.
    const report: TickReport = {
      time: now,
      app: settings.heroku_app_name ?? "(dry run)",
      processType: settings.process_type,
      dryRun: settings.dry_run,
      before,
      after,
      estimate: combined.estimate,
      winner: combined.winner,
      reason,
      sources,
    };
    this.#lastReport = report;
    // Replays run hundreds of thousands of ticks with logging off: build the line only when kept.
    if (this.#logger.enabled("info")) this.#logger.info(formatTick(report), { event: "tick", ...report });
    try {
      this.#deps.stats?.report(report);
      alerts?.tick?.(report, before !== null && sources.every((s) => s.health === "ok"));
      this.#deps.onTick?.(report);
    } catch (e) {
      this.#unexpected(e);
    }
    return report;
  }

  #herokuErrorCode: string | null = null;

  async #readFormation(now: number, force: boolean, signal: AbortSignal): Promise<number | null> {
    const fresh = this.#formationReadAt !== null && now - this.#formationReadAt < this.#settings.heroku_poll_interval * 1000;
    if (!force && fresh && this.#current !== null) return this.#current;
    if (!force && now < this.#herokuRetryAt) return this.#current === null || !fresh ? null : this.#current;
    try {
      const formation = await this.#formation.getFormation(signal);
      this.#herokuOk();
      this.#noticeFormation(formation);
      this.#formationReadAt = now;
      return formation.quantity;
    } catch (e) {
      this.#herokuFailed(e, now, "reading the formation");
      return null;
    }
  }

  #noticeFormation(formation: FormationState): void {
    if (this.#current === null) {
      // First read: the blackout counts from Heroku's last change, so a restart never
      // lets an immediate scale-down through.
      this.#lastChange = formation.updatedAt === null ? null : Math.min(formation.updatedAt, this.#clock.now());
    } else if (formation.quantity !== this.#current) {
      this.#logger.warn(`formation changed outside Dynosaur: ${this.#current} → ${formation.quantity} (someone ran heroku ps:scale?); counting it as a change for the blackout`, {
        event: "manual-change",
        from: this.#current,
        to: formation.quantity,
      });
      // When we saw it, not when the tick began: the read may have waited for the rate budget.
      this.#lastChange = this.#clock.now();
    }
    this.#current = formation.quantity;
    // Heroku runs this many now (a person scaled, or the plan changed): the refusal no longer holds.
    if (this.#refused && formation.quantity >= this.#refused.quantity) this.#liftRefusal();
  }

  async #scale(from: number, to: number, now: number, signal: AbortSignal): Promise<number> {
    try {
      const formation = await this.#formation.scale(to, signal);
      this.#herokuOk();
      this.#current = formation.quantity;
      this.#formationReadAt = now;
      // When it happened: the call may have waited for the rate budget.
      this.#lastChange = this.#clock.now();
      if (this.#refused && formation.quantity >= this.#refused.quantity) this.#liftRefusal();
      const simulated = this.#settings.dry_run ? "[dry run] simulated formation " : "";
      this.#logger.info(`${simulated}scaled ${this.#settings.process_type} ${from} → ${formation.quantity}`, { event: "scale", from, to: formation.quantity });
      return formation.quantity;
    } catch (e) {
      if (!(e instanceof DynosaurError && e.code === "HEROKU_UNPROCESSABLE" && to > from)) {
        this.#herokuFailed(e, now, `scaling to ${to}`);
        return from;
      }
      // A plan's dyno limit and the like: asking again would only fail again. When Heroku
      // said what the plan allows, nothing above that is asked for.
      const limit = (e as { limit?: unknown }).limit;
      const known = typeof limit === "number" && limit < to ? limit : null;
      this.#refused = { quantity: known === null ? to : known + 1, at: now };
      this.#herokuErrorCode = e.code;
      this.#logger.error(`Heroku refused ${this.#settings.process_type}=${to}: ${describeError(e)}; not asking for ${to} or more for an hour`, { event: "heroku-refused", code: e.code });
      this.#deps.alerts?.raise({ key: "heroku-refused", kind: "heroku-refused", message: `Heroku refused to scale ${this.#settings.process_type} to ${to}: ${describeError(e)}` });
      // Go to what the plan allows now, rather than one dyno per tick.
      if (known !== null && known > from) return this.#scale(from, known, now, signal);
      return from;
    }
  }

  /**
   * Forgets a refused quantity (its hour passed, Heroku runs that many now, or the settings
   * changed). Only then is the refusal over: scaling up to the plan's limit does not end it.
   */
  #liftRefusal(): void {
    if (this.#refused === null) return;
    this.#refused = null;
    this.#deps.alerts?.clear("heroku-refused");
  }

  #herokuOk(): void {
    if (this.#herokuFailures > 0) this.#logger.info("Heroku answers again");
    this.#herokuFailures = 0;
    this.#herokuRetryAt = 0;
    this.#herokuErrorCode = null;
    this.#deps.alerts?.clear("heroku-error");
  }

  #herokuFailed(e: unknown, now: number, doing: string): void {
    this.#herokuFailures++;
    const message = describeError(e);
    // Retry after 1, 2, 4... ticks, at most one poll interval apart: never hammer a failing API.
    const backoff = Math.min(this.#settings.interval * 2 ** (this.#herokuFailures - 1), this.#settings.heroku_poll_interval) * 1000;
    this.#herokuRetryAt = now + backoff;
    const code = e instanceof DynosaurError ? e.code : "HEROKU_UNAVAILABLE";
    this.#herokuErrorCode = code;
    this.#logger.error(`Heroku: ${doing} failed: ${message}; retrying in ${Math.round(backoff / 1000)} s`, { event: "heroku-error", code });
    this.#deps.alerts?.raise({ key: "heroku-error", kind: "heroku-error", message: `Heroku: ${doing} failed: ${message}` });
  }

  #unexpected(e: unknown): void {
    this.#logger.error(`unexpected error in the scaler loop: ${describeError(e)}`, { event: "unexpected", stack: e instanceof Error ? e.stack : undefined });
    this.#deps.alerts?.raise({ key: `unexpected:${describeError(e).slice(0, 80)}`, kind: "unexpected", message: `unexpected error: ${describeError(e)}` });
  }

  /** The seed's `get_status`: what the scaler sees now. */
  status(): ScalerStatus {
    const now = this.#clock.now();
    const sources = this.#sources.map((s) => s.status(now));
    const combined = combine(sources, this.#settings);
    return {
      time: now,
      app: this.#settings.heroku_app_name ?? "(dry run)",
      processType: this.#settings.process_type,
      dryRun: this.#settings.dry_run,
      running: this.#running,
      current: this.#current,
      estimate: combined.estimate,
      winner: combined.winner,
      reason: this.#lastReport?.reason ?? null,
      lastChange: this.#lastChange,
      sources,
    };
  }

  /** The last tick's report, or null before the first tick. */
  get lastReport(): TickReport | null {
    return this.#lastReport;
  }

  /**
   * The seed's `set_config` for the `scaler:` section: merges `changes` into the current
   * settings, validates them, and applies them from the next tick. Changing the app,
   * key, process type, API URL or dry run switches to a new formation.
   */
  updateSettings(changes: Record<string, unknown>): ScalerConfig {
    const current = Object.fromEntries(Object.entries(this.#config.scaler).filter(([, v]) => v !== undefined));
    const next = parseOrThrow(scalerConfigSchema, { ...current, ...changes }, "scaler");
    const formationKeys = ["heroku_app_name", "heroku_api_key", "process_type", "heroku_api_url", "dry_run", "heroku_timeout"] as const;
    if (formationKeys.some((k) => next[k] !== this.#settings[k])) {
      this.#formation = this.#makeFormation(next);
      this.#current = null;
      this.#formationReadAt = null;
      this.#herokuRetryAt = 0;
    }
    this.#liftRefusal();
    this.#config = { ...this.#config, scaler: next };
    this.#settings = next;
    this.#logger.info("scaler settings updated", { event: "reconfigure" });
    return next;
  }

  /**
   * The seed's `set_config` for one plugin: replaces the source named `name` (or adds it)
   * with a new one built from `entry` (a `plugins[]` entry). The old instance is closed.
   */
  async replacePlugin(name: string, entry: Record<string, unknown>): Promise<void> {
    const index = this.#sources.findIndex((s) => s.name === name);
    const position = index === -1 ? this.#sources.length : index;
    const source = await this.#createSource({ ...entry, name }, `plugins[${position}]`);
    const old = this.#sources[index];
    const sources = [...this.#sources];
    sources.splice(position, index === -1 ? 0 : 1, source);
    this.#sources = sources;
    const plugins = [...this.#config.plugins];
    plugins.splice(position, index === -1 ? 0 : 1, { ...entry, name, type: String(entry.type) });
    this.#config = { ...this.#config, plugins };
    await old?.close();
    this.#logger.info(`plugin ${name} ${old ? "replaced" : "added"}`, { event: "reconfigure", source: name });
  }

  /** Removes the source named `name`; the last source cannot be removed. */
  async removePlugin(name: string): Promise<void> {
    const source = this.#sources.find((s) => s.name === name);
    if (!source) throw inputError("DYNO_CONFIG_INVALID", `no plugin named "${name}"`, { hint: `known: ${this.#sources.map((s) => s.name).join(", ")}` });
    if (this.#sources.length === 1) throw inputError("DYNO_CONFIG_INVALID", "cannot remove the last plugin", { hint: "replace it instead" });
    this.#sources = this.#sources.filter((s) => s !== source);
    this.#config = { ...this.#config, plugins: this.#config.plugins.filter((p) => (p.name ?? p.type) !== name) };
    await source.close();
  }
}

let globalDispatcher: Dispatcher | undefined;
async function defaultDispatcher(): Promise<Dispatcher> {
  globalDispatcher ??= (await import("undici")).getGlobalDispatcher();
  return globalDispatcher;
}
