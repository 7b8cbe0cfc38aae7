import type { Dispatcher } from "undici";
import { z } from "zod";
import type { Clock } from "./clock.js";
import type { Logger } from "./logger.js";
import { parseOrThrow } from "./validate.js";

/**
 * The version of the plugin contract this core implements. `definePlugin` stamps it
 * on every plugin, so core can tell a plugin built for another contract from a broken one.
 */
export const PLUGIN_API_VERSION = 1;

/** What core hands a plugin when it creates an instance. */
export interface PluginContext {
  /** The source's name from the config (`plugins[].name`). */
  name: string;
  /** Logger whose lines carry the source's name. Never log a secret. */
  logger: Logger;
  /**
   * The HTTP dispatcher every request must use (`undici.request(url, { dispatcher: ctx.http })`),
   * never a global agent, so tests and proxies can redirect it.
   */
  http: Dispatcher;
  /** Aborted when the instance is being closed. */
  signal: AbortSignal;
  /** The scaler's clock: read time from it, never from `Date.now()`. */
  clock: Clock;
}

/** One live metric source created from a plugin and its options. */
export interface PluginInstance {
  /**
   * Takes one fresh reading. Throw (preferably a `PluginError`) on failure: core
   * logs it, reports it and keeps the last good reading. Must stop when `signal` aborts;
   * core aborts it after the source's `timeout`.
   */
  retrieve(signal: AbortSignal): Promise<number>;
  /** Turns a reading into the number of dynos it needs: a whole number >= 0, monotone in `value`. */
  estimateDynos(value: number): number;
  /** Releases what the instance holds. Core may call it more than once. */
  close?(): void | Promise<void>;
}

/** A zod object schema of a plugin's own options. */
export type PluginOptionsSchema = z.ZodObject<z.ZodRawShape>;

export interface PluginDefinitionInput<S extends PluginOptionsSchema> {
  /** What a config's `plugins[].type` names, e.g. `google-analytics`. */
  type: string;
  /** Older names still accepted for `type`, e.g. the seed's `GoogleAnalyticsPlugin`. */
  aliases?: string[];
  /** Unit of a reading, for logs and stats, e.g. `active users`. */
  unit: string;
  /** One line for `dynosaur check` and docs. */
  description?: string;
  /**
   * The plugin's own options. Core adds the common source options (`name`, `type`,
   * `interval`, `hysteresis_period`, `outage_after`, `timeout`) and rejects unknown keys.
   * A plugin may declare `interval` itself to change its default or minimum.
   */
  options: S;
  /**
   * Creates an instance from validated options. Core calls it at start-up, before the
   * first tick: check here what a schema cannot (e.g. that a PEM key parses) and throw
   * `inputError(...)` so a bad config fails before any network call.
   */
  create(options: z.output<S> & SourceOptions, ctx: PluginContext): PluginInstance | Promise<PluginInstance>;
}

export interface PluginDefinition<S extends PluginOptionsSchema = PluginOptionsSchema> extends PluginDefinitionInput<S> {
  /** The contract version the plugin was built against (stamped by `definePlugin`). */
  apiVersion: number;
}

/** Defines a plugin. A plugin package default-exports the result. */
export function definePlugin<S extends PluginOptionsSchema>(definition: PluginDefinitionInput<S>): PluginDefinition<S> {
  return { ...definition, apiVersion: PLUGIN_API_VERSION };
}

/** The options core handles for every source, whatever its plugin. */
export const sourceOptionsSchema = z.object({
  /** Unique name of the source; defaults to its type. */
  name: z.string().min(1).optional(),
  /** The plugin's `type` (or one of its aliases). */
  type: z.string().min(1),
  /**
   * Seconds between two readings; in between, the last reading is reused.
   * @default 60
   */
  interval: z.number().positive().default(60),
  /**
   * Seconds of readings kept; the largest of them drives the estimate, so the
   * estimate rises fast and falls slowly. 0 = latest reading only.
   * @default 0
   */
  hysteresis_period: z.number().min(0).default(0),
  /**
   * Seconds without a good reading after which the source is in outage.
   * @default 300
   */
  outage_after: z.number().positive().default(300),
  /**
   * Seconds a single reading may take before it is abandoned.
   * @default 30
   */
  timeout: z.number().positive().default(30),
});

export type SourceOptions = Required<Pick<z.output<typeof sourceOptionsSchema>, "type" | "interval" | "hysteresis_period" | "outage_after" | "timeout">> & {
  name: string;
};

/**
 * Validates one `plugins[]` entry against the plugin's schema plus the common source
 * options, rejecting unknown keys (with a "did you mean" for typos). `path` prefixes every
 * error, e.g. `plugins[1]`. Returns the options `create` receives.
 */
export function parsePluginOptions<S extends PluginOptionsSchema>(plugin: PluginDefinition<S>, raw: unknown, path: string): z.output<S> & SourceOptions {
  const schema = pluginOptionsSchema(plugin);
  const parsed = parseOrThrow(schema, raw, path) as z.output<S> & z.output<typeof sourceOptionsSchema>;
  return { ...parsed, name: parsed.name ?? plugin.type };
}

/** The full schema of a `plugins[]` entry for this plugin: common options + the plugin's own, strict. */
export function pluginOptionsSchema(plugin: PluginDefinition): PluginOptionsSchema {
  // The plugin's own keys win, so it can narrow e.g. `interval`.
  return sourceOptionsSchema.extend(plugin.options.shape).strict();
}
