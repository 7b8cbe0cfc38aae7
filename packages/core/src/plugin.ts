import type { Dispatcher } from "undici";
import { z } from "zod";
import type { Clock } from "./clock.js";
import type { Logger } from "./logger.js";
import { parseOrThrow } from "./validate.js";

/**
 * The version of the plugin contract this core implements. `definePlugin` stamps it
 * on every plugin, so core can tell a plugin built for another contract from a broken one.
 * v2 added `busy` readings, the estimate context and `secrets`; v1 plugins still run
 * unchanged (they ignore what they do not know).
 */
export const PLUGIN_API_VERSION = 2;
/** Contract versions this core runs. */
export const SUPPORTED_PLUGIN_API_VERSIONS: readonly number[] = [1, 2];

/** What core hands a plugin when it creates an instance. */
export interface PluginContext {
  /** The source's name from the config (`plugins[].name`). */
  name: string;
  /** Logger whose lines carry the source's name. Never log a secret. */
  logger: Logger;
  /**
   * The HTTP dispatcher every request must use: call its own method,
   * `ctx.http.request({ origin, path, method, headers, signal })`, so a plugin needs no
   * undici dependency. Never a global agent or `fetch`: tests and proxies redirect this one.
   */
  http: Dispatcher;
  /** Aborted when the instance is being closed. */
  signal: AbortSignal;
  /** The scaler's clock: read time from it, never from `Date.now()`. */
  clock: Clock;
}

/**
 * A reading with more than the number (contract v2). `busy` is how much work is running
 * right now (e.g. jobs being processed): while it is above 0, a process type with
 * `hold_while_busy` is not scaled down, so no running job is killed.
 */
export interface Reading {
  value: number;
  busy?: number;
}

/** What `estimateDynos` may take into account besides the reading (contract v2). */
export interface EstimateContext {
  /** Dynos of the source's process type running now; null before Heroku was read. */
  current: number | null;
  /** The process type the source drives, e.g. `web` or `worker`. */
  process: string;
}

/** One live metric source created from a plugin and its options. */
export interface PluginInstance {
  /**
   * Takes one fresh reading: a number, or a `Reading` that also says how much work is
   * busy. Throw (preferably a `PluginError`) on failure: core logs it, reports it and
   * keeps the last good reading. Must stop when `signal` aborts; core aborts it after the
   * source's `timeout`.
   */
  retrieve(signal: AbortSignal): Promise<number | Reading>;
  /**
   * Turns a reading into the number of dynos it needs: a whole number >= 0, monotone in
   * `value`. `context` (v2; core always passes it) says how many dynos run now, for sources whose need depends on
   * it (e.g. a latency band: add one dyno while jobs wait too long).
   */
  estimateDynos(value: number, context?: EstimateContext): number;
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
   * Option keys whose values are secrets (v2), e.g. `["api_key"]`, or `["url"]` for a URL
   * that carries a password. Core redacts them from logs and errors, the web app stores
   * them encrypted and never shows them. Keys named like `*_key`, `*token`, `*password`
   * and `*secret` are secret whatever a plugin says.
   */
  secrets?: readonly string[];
  /**
   * Where each secret is sent (optional, additive to v2): for a secret option, the options
   * that decide where it travels, e.g. `{ api_key: ["endpoint", "region"] }`. The web app
   * keeps a secret a save leaves out only while these stay as they were; changing one
   * requires typing the secret again, so a stored key cannot be sent to a new host. A
   * plugin that says nothing: every URL-like option (`url`, `*_url`, `endpoint`, `host`,
   * `region`...) goes with every secret. `[]`: the secret goes nowhere the options choose.
   */
  destinations?: Readonly<Record<string, readonly string[]>>;
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

/**
 * A plugin: what a plugin package default-exports. `definePlugin` stamps `apiVersion`; a
 * plain object that `satisfies PluginDefinition` may leave it out (it then means this
 * core's version).
 */
export interface PluginDefinition<S extends PluginOptionsSchema = PluginOptionsSchema>
  extends PluginDefinitionInput<S> {
  /** The contract version the plugin was built against. @default PLUGIN_API_VERSION */
  apiVersion?: number;
}

/** Defines a plugin. A plugin package default-exports the result. */
export function definePlugin<S extends PluginOptionsSchema>(
  definition: PluginDefinitionInput<S>,
): PluginDefinition<S> & { apiVersion: number } {
  return { ...definition, apiVersion: PLUGIN_API_VERSION };
}

/** The options core handles for every source, whatever its plugin. */
export const sourceOptionsSchema = z.object({
  name: z
    .string()
    .min(1)
    .optional()
    .describe("Unique name of the source, shown in logs and stats; defaults to its type."),
  type: z
    .string()
    .min(1)
    .describe("The plugin's `type` (or one of its aliases), e.g. `random`, `google-analytics`, `newrelic`."),
  process: z
    .string()
    .min(1)
    .optional()
    .describe("The process type this source drives (`processes.<type>`); `web`, or the only process type, by default."),
  interval: z
    .number()
    .positive()
    .default(60)
    .describe("Seconds between two readings; in between, the last reading is reused."),
  hysteresis_period: z
    .number()
    .min(0)
    .default(0)
    .describe(
      "Seconds of readings kept; the largest of them drives the estimate, so it rises fast and falls slowly. 0 = the latest reading only.",
    ),
  outage_after: z
    .number()
    .positive()
    .default(300)
    .describe("Seconds without a good reading after which the source is in outage (alerted)."),
  timeout: z
    .number()
    .positive()
    .default(10)
    .describe(
      "Seconds a single reading may take before it is abandoned (and the longest a tick waits for a source's first reading).",
    ),
});

export type SourceOptions = Required<
  Pick<z.output<typeof sourceOptionsSchema>, "type" | "interval" | "hysteresis_period" | "outage_after" | "timeout">
> & {
  name: string;
  /** The process type the source drives. */
  process?: string;
};

/**
 * Validates one `plugins[]` entry against the plugin's schema plus the common source
 * options, rejecting unknown keys (with a "did you mean" for typos). `path` prefixes every
 * error, e.g. `plugins[1]`; `fromEnv` as for `parseOrThrow`. Returns the options `create` receives.
 */
export function parsePluginOptions<S extends PluginOptionsSchema>(
  plugin: PluginDefinition<S>,
  raw: unknown,
  path: string,
  fromEnv?: ReadonlySet<string>,
): z.output<S> & SourceOptions {
  const schema = pluginOptionsSchema(plugin);
  const parsed = parseOrThrow(schema, raw, path, undefined, fromEnv) as z.output<S> &
    z.output<typeof sourceOptionsSchema>;
  return { ...parsed, name: parsed.name ?? plugin.type };
}

/** The full schema of a `plugins[]` entry for this plugin: common options + the plugin's own, strict. */
export function pluginOptionsSchema(plugin: PluginDefinition): PluginOptionsSchema {
  // The plugin's own keys win, so it can narrow e.g. `interval`.
  return sourceOptionsSchema.extend(plugin.options.shape).strict();
}
