import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import {
  type Clock,
  type DynosaurConfig,
  type LogLevel,
  parseConfig,
  REPORTER_PACKAGES,
  type Redactor,
  type ReporterLoader,
  readConfigFile,
} from "@dynosaur/core";
import type { LogFormat } from "./log-writer.js";
import { inferUse, type LoadedPlugin, loadPlugins, loadReporter } from "./resolve-plugins.js";

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
  let specs: string[];
  let paths: string[];
  if (config.use) {
    specs = config.use;
    paths = config.use.map((_, i) => `use[${i}]`);
  } else {
    // No `use:` (the seed's layout): each plugin type names its package.
    specs = inferUse(config.plugins.map((p) => p.type));
    paths = specs.map((spec) => `plugins[${config.plugins.findIndex((p) => inferUse([p.type])[0] === spec)}].type`);
  }
  // Plugin options are checked once, by the runtime, before anything starts.
  const plugins = await loadPlugins(specs, dirname(file), paths);
  // Plugin options are checked once, by the runtime, before anything starts.
  const loadStatsReporter: ReporterLoader = (type, path) => loadReporter(type, dirname(file), path);
  if (flags.reporters !== false) {
    // A reporter package that is not installed is a config error now, as a missing plugin is.
    for (const [i, entry] of config.stats.entries())
      if (REPORTER_PACKAGES[entry.type]) await loadStatsReporter(entry.type, `stats[${i}].type`);
  }
  return { file, config, redactor, plugins, loadReporter: loadStatsReporter };
}

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}
