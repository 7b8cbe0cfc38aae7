import type { LoadedPlugin } from "@dynosaur/cli";
import {
  type DynosaurConfig,
  DynosaurError,
  describeError,
  type ErrorCode,
  errorProblems,
  type PluginDefinition,
  PluginRegistry,
  parseConfig,
  parsePluginOptions,
  type Redactor,
  silentLogger,
  substituteEnv,
  systemClock,
} from "@dynosaur/core";
import { Agent } from "undici";
import type { PluginLoader } from "./plugins.js";
import { useOf } from "./plugins.js";

/** One thing wrong with a config, at its path (`plugins[0].per_dyno`; "" for the whole config). */
export interface ConfigProblem {
  path: string;
  message: string;
  hint?: string;
  /** What kind of problem, from core's catalogue: what a program maps, never the message. */
  code: ErrorCode;
}

export type CheckResult =
  | { ok: true; config: DynosaurConfig; redactor: Redactor; plugins: LoadedPlugin[] }
  | { ok: false; errors: ConfigProblem[] };

/**
 * An error's problems, each at its path (core's errors list them: `DynosaurError.problems`).
 * `code`: the code of anything else thrown, which says nothing of itself.
 */
export function problemsOf(e: unknown, code: ErrorCode = "DYNO_CONFIG_INVALID"): ConfigProblem[] {
  if (!(e instanceof DynosaurError)) return [{ path: "", message: describeError(e), code }];
  return errorProblems(e).map((p) => ({
    path: p.path,
    message: p.message,
    ...(e.hint ? { hint: e.hint } : {}),
    code: e.code,
  }));
}

/**
 * Checks a config exactly as the CLI would before running it: core's schema (with `${VAR}`
 * resolved from `env`), the packages in `use:`, each plugin's options, and each plugin's
 * own start-up checks (`create`, which may not touch the network). Lists every problem.
 */
export async function checkConfig(
  raw: unknown,
  deps: { loader: PluginLoader; env: Record<string, string | undefined> },
): Promise<CheckResult> {
  const errors: ConfigProblem[] = [];
  let parsed: { config: DynosaurConfig; redactor: Redactor } | null = null;
  try {
    parsed = parseConfig(raw, deps.env);
  } catch (e) {
    errors.push(...problemsOf(e));
  }
  const tree = (raw && typeof raw === "object" && !Array.isArray(raw) ? raw : {}) as {
    use?: unknown;
    plugins?: unknown;
  };
  // The plugins are checked even when the rest failed, so one answer lists every problem.
  const { specs, paths } = useOf(tree);
  const loaded: LoadedPlugin[] = [];
  for (const [i, spec] of specs.entries()) {
    try {
      loaded.push(...(await deps.loader.load([spec], [paths[i] ?? `use[${i}]`])));
    } catch (e) {
      errors.push(...problemsOf(atPath(e, paths[i] ?? `use[${i}]`), "DYNO_PLUGIN_INVALID"));
    }
  }
  const registry = new PluginRegistry(loaded.map((p) => p.plugin));
  const entries = Array.isArray(tree.plugins) ? tree.plugins : [];
  const options: { plugin: PluginDefinition; options: ReturnType<typeof parsePluginOptions> }[] = [];
  for (const [i, entry] of entries.entries()) {
    const path = `plugins[${i}]`;
    if (!entry || typeof entry !== "object" || typeof (entry as { type?: unknown }).type !== "string") continue;
    try {
      const plugin = registry.get((entry as { type: string }).type, `${path}.type`);
      const fromEnv = new Set<string>();
      const substituted = substituteAt(entry, i, deps.env, fromEnv);
      options.push({ plugin, options: parsePluginOptions(plugin, substituted, path, fromEnv) });
    } catch (e) {
      const problems = problemsOf(e);
      // An unknown type is only news when every package loaded (else the missing package is the news).
      if (!(e instanceof DynosaurError && e.code === "DYNO_PLUGIN_UNKNOWN_TYPE" && loaded.length < specs.length))
        errors.push(...problems);
    }
  }
  if (errors.length === 0) {
    for (const [i, { plugin, options: o }] of options.entries()) {
      const problem = await tryCreate(plugin, o);
      if (problem) errors.push(...problemsOf(prefixed(problem, `plugins[${i}]`)));
    }
  }
  if (errors.length > 0 || !parsed) return { ok: false, errors: dedupe(errors) };
  return { ok: true, config: parsed.config, redactor: parsed.redactor, plugins: loaded };
}

/** Runs a plugin's `create` (its own start-up checks) and closes the instance at once. */
async function tryCreate(plugin: PluginDefinition, options: ReturnType<typeof parsePluginOptions>): Promise<unknown> {
  const closing = new AbortController();
  const http = new Agent();
  try {
    const instance = await plugin.create(options, {
      name: options.name,
      logger: silentLogger,
      http,
      signal: closing.signal,
      clock: systemClock,
    });
    await instance.close?.();
    return null;
  } catch (e) {
    return e;
  } finally {
    closing.abort();
    await http.close().catch(() => {});
  }
}

/** A loader's error that names no path (a package that throws on import) is about the `use:` entry. */
function atPath(e: unknown, path: string): unknown {
  if (!(e instanceof DynosaurError) || e.path !== undefined) return e;
  return new DynosaurError(e.code, e.message, { path, hint: e.hint, exitCode: e.exitCode, cause: e });
}

/** A plugin's error names its option (`json_pointer`): place it under the entry, as core does. */
function prefixed(e: unknown, entryPath: string): unknown {
  if (e instanceof DynosaurError && e.path && !e.path.startsWith("plugins[")) {
    return new DynosaurError(e.code, `${entryPath}.${e.path}: ${e.message}`, {
      path: `${entryPath}.${e.path}`,
      hint: e.hint,
      exitCode: e.exitCode,
      // Each of its problems under the entry too (a plugin may check its options with zod).
      problems: errorProblems(e).map((p) => ({
        path: p.path ? `${entryPath}.${p.path}` : entryPath,
        message: p.message,
      })),
    });
  }
  if (e instanceof DynosaurError) return e;
  return new DynosaurError("DYNO_PLUGIN_FAILED", `${entryPath}: the plugin failed to start: ${describeError(e)}`, {
    path: entryPath,
  });
}

function dedupe(errors: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const key = `${e.path}\n${e.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** `${VAR}` in one `plugins[]` entry, an unset variable named by its path in the whole config (`plugins[2].url`). */
function substituteAt(
  entry: unknown,
  index: number,
  env: Record<string, string | undefined>,
  wholeReferences: Set<string>,
): unknown {
  const plugins: unknown[] = [];
  plugins[index] = entry;
  return (substituteEnv({ plugins }, env, new Set(), { wholeReferences }) as { plugins: unknown[] }).plugins[index];
}
