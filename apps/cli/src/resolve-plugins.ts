import { existsSync, readFileSync, statSync } from "node:fs";
import { registerHooks } from "node:module";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  checkPluginShape,
  DynosaurError,
  inputError,
  type PluginDefinition,
  REPORTER_PACKAGES,
  type ReporterDefinition,
} from "@dynosaur/core";
import { CORE_URL } from "./core-url.js";
import { installHint, suggestUse } from "./plugin-hints.js";

/** First-party plugins: their short names and the seed-era type names that imply them. */
const FIRST_PARTY: Record<string, string> = {
  random: "random",
  RandomPlugin: "random",
  "google-analytics": "google-analytics",
  GoogleAnalyticsPlugin: "google-analytics",
  newrelic: "newrelic",
  NewRelicPlugin: "newrelic",
  "redis-queue": "redis-queue",
  sidekiq: "redis-queue",
  bullmq: "redis-queue",
  rq: "redis-queue",
  celery: "redis-queue",
  "postgres-queue": "postgres-queue",
  "good-job": "postgres-queue",
  "solid-queue": "postgres-queue",
  "pg-boss": "postgres-queue",
  "graphile-worker": "postgres-queue",
  "delayed-job": "postgres-queue",
  "heroku-router": "heroku-router",
};

export interface LoadedPlugin {
  /** The `use:` entry (or the type it was inferred from). */
  spec: string;
  packageName: string;
  version: string | null;
  /** Directory the package was found in. */
  dir: string;
  plugin: PluginDefinition;
}

/**
 * The package names a `use:` entry may stand for, in the order they are tried:
 * `foo` → `@dynosaur/plugin-foo`, `dynosaur-plugin-foo`, `foo`;
 * `@scope/foo` → `@scope/dynosaur-plugin-foo`, `@scope/foo`; full names as they are.
 */
export function candidateNames(spec: string): [string, ...string[]] {
  if (spec.startsWith("@")) {
    const [scope, name = ""] = spec.split("/", 2);
    if (scope === "@dynosaur" || name.startsWith("dynosaur-plugin-")) return [spec];
    return [`${scope}/dynosaur-plugin-${name}`, spec];
  }
  if (spec.startsWith("dynosaur-plugin-")) return [spec];
  return [`@dynosaur/plugin-${spec}`, `dynosaur-plugin-${spec}`, spec];
}

/** The package a user should install for a spec that was not found. */
export function installName(spec: string): string {
  const firstParty = FIRST_PARTY[spec];
  if (firstParty) return `@dynosaur/plugin-${firstParty}`;
  const [first, second] = candidateNames(spec);
  return second !== undefined && !spec.startsWith("@") ? second : first;
}

/** The `use:` entries implied by a config without one: one per plugin type. */
export function inferUse(types: readonly string[]): string[] {
  return [...new Set(types.map((t) => FIRST_PARTY[t] ?? t))];
}

const CLI_DIR = dirname(fileURLToPath(import.meta.url));

let coreShared = false;
/**
 * Makes every plugin import the CLI's own @dynosaur/core, wherever the plugin is installed.
 * A global `npm install -g @dynosaur/cli dynosaur-plugin-foo` gives the plugin a copy of
 * its own; two cores would not recognise each other's errors and schemas.
 */
function shareCore(): void {
  if (coreShared) return;
  coreShared = true;
  registerHooks({
    resolve: (specifier, context, nextResolve) =>
      specifier === "@dynosaur/core" ? { url: CORE_URL, shortCircuit: true } : nextResolve(specifier, context),
  });
}

/**
 * Loads the plugin packages a config names. Each is looked up from the config file's
 * directory first, then from the CLI's own install (so a global install of the CLI next
 * to its plugins works). `paths[i]` is the config path to blame for `specs[i]`.
 */
export async function loadPlugins(
  specs: readonly string[],
  configDir: string,
  paths: readonly string[],
): Promise<LoadedPlugin[]> {
  const loaded: LoadedPlugin[] = [];
  for (const [i, spec] of specs.entries()) {
    const path = paths[i] ?? `use[${i}]`;
    const found = findPackage(spec, configDir);
    if (!found) {
      const pkg = installName(spec);
      const near = suggestUse(spec, FIRST_PARTY);
      throw inputError(
        "DYNO_PLUGIN_NOT_FOUND",
        `${path}: plugin "${spec}" is not installed${near ? ` (did you mean ${near}?)` : ""} (looked for ${describeCandidates(spec)} from ${configDir} and from the dynosaur CLI's install)`,
        {
          path,
          hint: !near
            ? installHint(pkg)
            : FIRST_PARTY[spec]
              ? `write use: [${near}]: "${spec}" is a plugin type of that package (${installHint(pkg)}, if it is not installed)`
              : `write use: [${near}] if you meant it; a package named "${spec}" would be installed with ${installHint(pkg)}`,
        },
      );
    }
    let mod: { default?: unknown };
    shareCore();
    try {
      mod = await import(pathToFileURL(found.entry).href);
    } catch (e) {
      throw new DynosaurError(
        "DYNO_PLUGIN_INVALID",
        `${path}: plugin package ${found.name} failed to load: ${(e as Error).message}`,
        {
          exitCode: 2,
          hint: `reinstall it (npm install ${found.name}) or report it to its author`,
          cause: e,
        },
      );
    }
    // A package may export several plugins (contract v2), e.g. one per queue library.
    const exported = Array.isArray(mod.default) && mod.default.length > 0 ? mod.default : [mod.default];
    for (const plugin of exported) {
      checkPluginShape(plugin, `plugin package ${found.name}${found.version ? `@${found.version}` : ""}`);
      loaded.push({ spec, packageName: found.name, version: found.version, dir: found.dir, plugin });
    }
  }
  return loaded;
}

/**
 * Loads the package of a `stats:` type that core does not implement itself (core's
 * `REPORTER_PACKAGES`: `otlp` → @dynosaur/reporter-otlp), looked up as plugins are. `path` is
 * the entry's `stats[i].type`. Core checks that the package's default export is that reporter.
 */
export async function loadReporter(type: string, configDir: string, path: string): Promise<ReporterDefinition> {
  const pkg = REPORTER_PACKAGES[type];
  if (!pkg) throw new Error(`core has no package for stats type "${type}": it implements it itself`);
  const found = findPackage(pkg, configDir);
  if (!found) {
    throw inputError(
      "DYNO_REPORTER_NOT_FOUND",
      `${path}: the ${type} reporter is not installed (looked for ${pkg} from ${configDir} and from the dynosaur CLI's install)`,
      {
        path,
        hint: installHint(pkg),
      },
    );
  }
  shareCore();
  try {
    const mod = (await import(pathToFileURL(found.entry).href)) as { default?: unknown };
    return mod.default as ReporterDefinition;
  } catch (e) {
    throw new DynosaurError(
      "DYNO_REPORTER_INVALID",
      `${path}: reporter package ${found.name} failed to load: ${(e as Error).message}`,
      {
        exitCode: 2,
        hint: `reinstall it (npm install ${found.name})`,
        cause: e,
      },
    );
  }
}

function describeCandidates(spec: string): string {
  if (isPathSpec(spec)) return spec;
  return candidateNames(spec).join(", ");
}

function isPathSpec(spec: string): boolean {
  return spec.startsWith(".") || isAbsolute(spec);
}

interface FoundPackage {
  name: string;
  version: string | null;
  dir: string;
  entry: string;
}

function findPackage(spec: string, configDir: string): FoundPackage | null {
  if (isPathSpec(spec)) {
    const target = resolve(configDir, spec);
    if (!existsSync(target)) return null;
    if (statSync(target).isFile()) return { name: spec, version: null, dir: dirname(target), entry: target };
    return readPackage(target);
  }
  for (const base of [configDir, CLI_DIR]) {
    for (const name of candidateNames(spec)) {
      const dir = lookUp(base, name);
      if (dir) {
        const pkg = readPackage(dir);
        if (pkg) return pkg;
      }
    }
  }
  return null;
}

/** Node's own lookup: `node_modules/<name>` in `base` and every directory above it. */
function lookUp(base: string, name: string): string | null {
  let dir = resolve(base);
  for (;;) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

function readPackage(dir: string): FoundPackage | null {
  const file = join(dir, "package.json");
  if (!existsSync(file)) {
    const index = join(dir, "index.js");
    return existsSync(index) ? { name: dir, version: null, dir, entry: index } : null;
  }
  const pkg = JSON.parse(readFileSync(file, "utf8")) as {
    name?: string;
    version?: string;
    exports?: unknown;
    main?: string;
    module?: string;
  };
  const target = exportTarget(pkg.exports) ?? pkg.module ?? pkg.main ?? "index.js";
  return { name: pkg.name ?? dir, version: pkg.version ?? null, dir, entry: join(dir, target) };
}

/** The file an `exports` map gives for `import "<pkg>"` under Node's conditions. */
function exportTarget(exports: unknown): string | null {
  if (typeof exports === "string") return exports;
  if (!exports || typeof exports !== "object") return null;
  const map = exports as Record<string, unknown>;
  const root = Object.keys(map).some((k) => k.startsWith(".")) ? map["."] : map;
  return pickCondition(root);
}

function pickCondition(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.map(pickCondition).find((v) => v !== null) ?? null;
  if (!value || typeof value !== "object") return null;
  for (const [condition, target] of Object.entries(value)) {
    if (["node", "import", "default"].includes(condition)) {
      const picked = pickCondition(target);
      if (picked) return picked;
    }
  }
  return null;
}
