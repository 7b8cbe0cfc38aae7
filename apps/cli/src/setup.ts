import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { type DynosaurConfig, type LogLevel, parseConfig, parsePluginOptions, PluginRegistry, readConfigFile, type Redactor } from "@dynosaur/core";
import type { LogFormat } from "./log-writer.js";
import { inferUse, type LoadedPlugin, loadPlugins } from "./resolve-plugins.js";

/** Where the CLI reads and writes: the real process in `bin.ts`, buffers in tests. */
export interface CliIO {
  argv: string[];
  env: Record<string, string | undefined>;
  cwd: string;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  /** Where SIGTERM/SIGINT arrive. */
  signals?: { once(event: "SIGTERM" | "SIGINT", listener: () => void): unknown; off?(event: string, listener: () => void): unknown };
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
}

/** Reads, validates and resolves a config and its plugins. */
export async function loadSetup(configPath: string, io: Pick<CliIO, "cwd" | "env">, flags: Pick<CliFlags, "dryRun">): Promise<Setup> {
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
  const plugins = await loadPlugins(specs, dirname(file), paths);
  // Check every plugin's options now, before anything starts or prints.
  const registry = new PluginRegistry(plugins.map((p) => p.plugin));
  redactor.guard(() => {
    for (const [i, entry] of config.plugins.entries()) parsePluginOptions(registry.get(entry.type, `plugins[${i}].type`), entry, `plugins[${i}]`);
  });
  return { file, config, redactor, plugins };
}

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}
