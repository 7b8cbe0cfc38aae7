import type { Clock } from "./clock.js";
import { DynosaurError, describeError } from "./errors.js";
import type { Logger } from "./logger.js";
import type { PluginDefinition, PluginInstance, SourceOptions } from "./plugin.js";
import type { SourceHealth, SourceStatus } from "./report.js";
import { withTimeout } from "./timeout.js";

/** How far above `max_dynos` an estimate may go before the reading is taken for garbage. */
const ABSURD_FACTOR = 100;

interface StoredReading {
  time: number;
  value: number;
  estimate: number;
  /** Work running at the time (jobs being processed), when the plugin says. */
  busy: number | null;
}

/**
 * One metric source: a plugin instance plus the rules core applies to every plugin.
 * It calls `retrieve()` at most once per `interval`, abandons a call after `timeout`,
 * keeps the readings of the last `hysteresis_period` seconds, and never lets a failed
 * or absurd reading become a number.
 */
export class Source {
  readonly name: string;
  readonly type: string;
  readonly unit: string;
  /** The process type this source drives. */
  readonly process: string;
  readonly options: SourceOptions;
  readonly plugin: PluginDefinition;
  /** The `plugins[]` entry it was made from, to tell whether a new config changes it. */
  readonly #entry: string;
  readonly #instance: PluginInstance;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #startedAt: number;
  #readings: StoredReading[] = [];
  #lastAttempt: number | null = null;
  #lastError: string | null = null;
  #closed = false;
  /** The reading under way, if any: a slow one is not started again, only waited for. */
  #inFlight: Promise<DynosaurError | null> | null = null;
  readonly #closing = new AbortController();

  constructor(
    plugin: PluginDefinition,
    options: SourceOptions,
    instance: PluginInstance,
    deps: { clock: Clock; logger: Logger; entry?: unknown },
  ) {
    this.plugin = plugin;
    this.#entry = JSON.stringify(deps.entry ?? options);
    this.name = options.name;
    this.type = plugin.type;
    this.unit = plugin.unit;
    this.process = options.process ?? "web";
    this.options = options;
    this.#instance = instance;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#startedAt = deps.clock.now();
  }

  /** Whether `entry` (a `plugins[]` entry) is the one this source was made from. */
  sameEntry(entry: unknown): boolean {
    return !this.#closed && JSON.stringify(entry) === this.#entry;
  }

  /** Whether a fresh reading is due at `now`. */
  due(now: number): boolean {
    return this.#lastAttempt === null || now - this.#lastAttempt >= this.options.interval * 1000;
  }

  /**
   * Takes a fresh reading if one is due, waiting for it at most `waitMs` (real time): a
   * slow source never holds up a tick, its reading lands in a later one. Before its first
   * good reading it waits for one, at most the source's `timeout`. Never throws: a
   * failure is logged and kept in `lastError`, and the previous good reading stands.
   * Returns the failure, if the reading finished with one. `maxDynos` bounds what counts
   * as a plausible estimate.
   */
  async poll(
    maxDynos: number,
    waitMs = Number.POSITIVE_INFINITY,
    current: number | null = null,
  ): Promise<DynosaurError | null> {
    if (this.#closed) return null;
    if (!this.#inFlight) {
      const now = this.#clock.now();
      if (!this.due(now)) return null;
      this.#lastAttempt = now;
      this.#inFlight = this.#read(maxDynos, current).finally(() => {
        this.#inFlight = null;
      });
    }
    // Before the first good reading there is nothing to fall back on: wait for it, but never
    // past the source's `timeout` (the reading is abandoned then anyway), so a service that
    // accepts the connection and never answers holds a tick no longer than that.
    const wait = this.#readings.length === 0 ? this.options.timeout * 1000 : waitMs;
    return Number.isFinite(wait) ? withTimeout(this.#inFlight, wait, () => null) : this.#inFlight;
  }

  async #read(maxDynos: number, current: number | null): Promise<DynosaurError | null> {
    try {
      const { value, busy } = this.#unpack(await this.#retrieveWithTimeout());
      const estimate = this.#estimate(value, maxDynos, current);
      const time = this.#clock.now();
      this.#readings.push({ time, value: value as number, estimate, busy });
      this.#prune(time);
      if (this.#lastError) this.#logger.info(`source ${this.name} recovered`, { source: this.name });
      this.#lastError = null;
      return null;
    } catch (e) {
      if (this.#closed) return null;
      const error =
        e instanceof DynosaurError ? e : new DynosaurError("DYNO_PLUGIN_FAILED", describeError(e), { cause: e });
      this.#lastError = describeError(error);
      // Say what stands instead: the last good reading, or nothing yet (the source counts as stale).
      const standing = this.#readings.length > 0 ? "keeping the last good reading" : "no reading yet";
      this.#logger.warn(`source ${this.name}: reading failed, ${standing}: ${this.#lastError}`, {
        source: this.name,
        code: error.code,
        error: error.message,
        hint: error.hint,
      });
      return error;
    }
  }

  /** A v2 plugin may return `{ value, busy }`; a bad busy count is as bad as a bad value. */
  #unpack(reading: unknown): { value: unknown; busy: number | null } {
    if (typeof reading !== "object" || reading === null) return { value: reading, busy: null };
    const { value, busy } = reading as { value?: unknown; busy?: unknown };
    if (busy === undefined) return { value, busy: null };
    if (typeof busy !== "number" || !Number.isFinite(busy) || busy < 0) {
      throw new DynosaurError(
        "DYNO_BAD_READING",
        `source ${this.name} returned busy ${describeValue(busy)}, not a number >= 0; reading ignored`,
      );
    }
    return { value, busy };
  }

  async #retrieveWithTimeout(): Promise<unknown> {
    const controller = new AbortController();
    const timeoutMs = this.options.timeout * 1000;
    const onClose = () => controller.abort(new Error(`source ${this.name} is closing`));
    this.#closing.signal.addEventListener("abort", onClose, { once: true });
    // A real timer, not the injected clock: it bounds a real network call. A hung plugin
    // that ignores its signal is abandoned all the same.
    const reading = Promise.resolve().then(() => this.#instance.retrieve(controller.signal));
    try {
      return await withTimeout<unknown>(reading, timeoutMs, () => {
        const error = new DynosaurError(
          "DYNO_PLUGIN_TIMEOUT",
          `source ${this.name} gave no reading within ${this.options.timeout} s`,
          { hint: "raise plugins[].timeout if the service is slow, or check that it is up" },
        );
        controller.abort(error);
        throw error;
      });
    } finally {
      this.#closing.signal.removeEventListener("abort", onClose);
    }
  }

  #estimate(value: unknown, maxDynos: number, current: number | null): number {
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
      throw new DynosaurError(
        "DYNO_BAD_READING",
        `source ${this.name} returned ${describeValue(value)}, not a number >= 0; reading ignored`,
      );
    }
    const raw = this.dynosFor(value, current);
    if (raw > Math.max(maxDynos, 1) * ABSURD_FACTOR) {
      throw new DynosaurError(
        "DYNO_BAD_READING",
        `source ${this.name} read ${value} ${this.unit} (${raw} dynos, over ${ABSURD_FACTOR}x max_dynos): taken for a bad reading and ignored`,
        {
          hint: "if the load is real, raise the plugin's per-dyno capacity or max_dynos",
        },
      );
    }
    // Dynos are whole: a plugin that returns a fraction still needs the next dyno up.
    return Math.ceil(raw);
  }

  #prune(now: number): void {
    const keepFrom = now - this.options.hysteresis_period * 1000;
    const latest = this.#readings.at(-1);
    this.#readings = this.#readings.filter((r) => r.time >= keepFrom || r === latest);
  }

  /** The reading that drives the estimate: the largest within the hysteresis window. */
  #driving(now: number): StoredReading | null {
    const latest = this.#readings.at(-1);
    if (!latest) return null;
    const keepFrom = now - this.options.hysteresis_period * 1000;
    let best = latest;
    for (const r of this.#readings) if (r.time >= keepFrom && r.estimate > best.estimate) best = r;
    return best;
  }

  /** The newest good reading, whatever the hysteresis window: what a scaling policy learns from. */
  newest(): { time: number; value: number } | null {
    const latest = this.#readings.at(-1);
    return latest ? { time: latest.time, value: latest.value } : null;
  }

  /**
   * The plugin's own capacity model for a value the policy plans for (not rounded up: a
   * policy may compare fractions). Throws a DynosaurError when the plugin gives no number >= 0:
   * a reading is then ignored, a planned value sized by the source's own estimate instead.
   */
  dynosFor(value: number, current: number | null): number {
    const raw = this.#instance.estimateDynos(value, { current, process: this.process });
    if (typeof raw !== "number" || !Number.isFinite(raw) || raw < 0) {
      throw new DynosaurError(
        "DYNO_BAD_READING",
        `source ${this.name} turned ${value} into ${describeValue(raw)} dynos; reading ignored`,
      );
    }
    return raw;
  }

  health(now: number): SourceHealth {
    const latest = this.#readings.at(-1);
    const sinceGood = now - (latest?.time ?? this.#startedAt);
    if (sinceGood >= this.options.outage_after * 1000) return "outage";
    if (!latest || this.#lastError !== null) return "stale";
    // A good reading older than its interval (+ one engine tick of slack) is stale data.
    return sinceGood > this.options.interval * 1000 + this.options.timeout * 1000 ? "stale" : "ok";
  }

  status(now = this.#clock.now()): SourceStatus {
    const driving = this.#driving(now);
    return {
      name: this.name,
      type: this.type,
      unit: this.unit,
      value: driving?.value ?? null,
      estimate: driving?.estimate ?? null,
      health: this.health(now),
      busy: this.#readings.at(-1)?.busy ?? null,
      lastRetrieval: this.#readings.at(-1)?.time ?? null,
      lastError: this.#lastError,
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort();
    try {
      await this.#instance.close?.();
    } catch (e) {
      this.#logger.warn(`source ${this.name}: close failed: ${describeError(e)}`, { source: this.name });
    }
  }
}

function describeValue(v: unknown): string {
  if (typeof v === "string") return `the string ${JSON.stringify(v.slice(0, 40))}`;
  if (typeof v === "number") return String(v);
  return v === null ? "null" : typeof v;
}
