import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type Clock,
  type DynosaurConfig,
  DynosaurError,
  type LogLevel,
  parseConfig,
  REPORTER_PACKAGES,
  type Redactor,
  type ReporterLoader,
  readConfigFile,
} from "@dynosaur/core";
import { type LoadedPlugin, loadPlugins, loadReporter, type PluginLookup, useOf } from "@dynosaur/host/plugins";
import { z } from "zod";
import { CORE_URL } from "./core-url.js";
import type { LogFormat } from "./log-writer.js";

/** Where the CLI reads and writes: the real process in `bin.ts`, buffers in tests. */
export interface CliIO {
  argv: string[];
  env: Record<string, string | undefined>;
  cwd: string;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  /** Where SIGTERM/SIGINT arrive. */
  signals?: {
    once(event: "SIGTERM" | "SIGINT", listener: () => void): unknown;
    off?(event: string, listener: () => void): unknown;
  };
  /** What `check` reads "now" from (the schedule in force). @default the system clock */
  clock?: Clock;
}

export interface CliFlags {
  once: boolean;
  ticks: number | null;
  dryRun: boolean;
  logFormat: LogFormat;
  logLevel: LogLevel;
}

/** A loaded config: validated, with its plugins resolved. */
export interface Setup {
  file: string;
  config: DynosaurConfig;
  redactor: Redactor;
  plugins: LoadedPlugin[];
  /** Loads a `stats:` reporter that is a package of its own (for `createStatsReporters`), found as plugins are. */
  loadReporter: ReporterLoader;
}

/**
 * Reads, validates and resolves a config and its plugins, and, unless `reporters` is false
 * (commands that send no stats), the packages of its `stats:` reporters.
 */
export async function loadSetup(
  configPath: string,
  io: Pick<CliIO, "cwd" | "env">,
  flags: Pick<CliFlags, "dryRun"> & { reporters?: boolean },
): Promise<Setup> {
  const file = resolve(io.cwd, configPath);
  const raw = await readConfigFile(file);
  // --dry-run is applied by parseConfig, the one path for check, run and simulate: a dry run
  // needs no Heroku credentials, and a misspelt `scaler:` is reported the same by each.
  const { config, redactor } = parseConfig(raw, io.env, { dryRun: flags.dryRun });
  // Plugin options are checked once, by the runtime, before anything starts.
  const plugins = await loadConfigPlugins(config, file);
  const loadStatsReporter: ReporterLoader = (type, path) => loadReporter(type, path, lookupFrom(file));
  if (flags.reporters !== false) {
    // A reporter package that is not installed is a config error now, as a missing plugin is.
    for (const [i, entry] of config.stats.entries())
      if (REPORTER_PACKAGES[entry.type]) await loadStatsReporter(entry.type, `stats[${i}].type`);
  }
  return { file, config, redactor, plugins, loadReporter: loadStatsReporter };
}

/** What a config file lists of its plugins: all `dynosaur schema` reads of it. */
const pluginListSchema = z.looseObject({
  use: z.array(z.string().min(1)).optional(),
  plugins: z.array(z.looseObject({ type: z.string().min(1) })).min(1),
});

/**
 * The plugins a config file loads, for its JSON Schema. The config is checked as a dry run
 * checks it (Heroku's settings and reporters are not needed), but an editor's schema must not
 * need the config's `${VAR}` secrets set: with some unset, the plugin list is read as written.
 */
export async function loadSchemaPlugins(configPath: string, io: Pick<CliIO, "cwd" | "env">): Promise<LoadedPlugin[]> {
  try {
    return (await loadSetup(configPath, io, { dryRun: true, reporters: false })).plugins;
  } catch (e) {
    if (!(e instanceof DynosaurError) || e.code !== "DYNO_ENV_MISSING") throw e;
    const file = resolve(io.cwd, configPath);
    const listed = pluginListSchema.safeParse(await readConfigFile(file));
    if (!listed.success) throw e;
    return loadConfigPlugins(listed.data, file);
  }
}

/** Loads the plugins of `use:`, or, without it (the seed's layout), the package each plugin type names. */
function loadConfigPlugins(config: { use?: string[]; plugins: { type: string }[] }, file: string) {
  const { specs, paths } = useOf(config);
  return loadPlugins(specs, paths, lookupFrom(file));
}

/** The CLI looks for plugins from the config file's directory, then from its own install, and takes paths. */
function lookupFrom(file: string): PluginLookup {
  return {
    from: dirname(file),
    installDir: dirname(fileURLToPath(import.meta.url)),
    program: "the dynosaur CLI",
    allowPaths: true,
    coreUrl: CORE_URL,
  };
}

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}
