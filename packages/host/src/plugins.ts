import { existsSync, readFileSync, statSync } from "node:fs";
import { registerHooks } from "node:module";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import {
  checkPluginShape,
  DynosaurError,
  inputError,
  type PluginDefinition,
  REPORTER_PACKAGES,
  type ReporterDefinition,
} from "@dynosaur/core";
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

/** An npm package name (optionally scoped), or a short name such as `random`: never a path or URL. */
const PACKAGE_NAME = /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/i;

/**
 * Where `loadPlugins` looks, and what it takes. The CLI and the server differ only here: the
 * CLI looks from the config file's directory and takes paths; the server looks from its
 * working directory and takes installed package names only.
 */
export interface PluginLookup {
  /** Looked from first: the config file's directory (CLI) or the server's working directory. */
  from: string;
  /** Looked from next: where the program is installed (a global install next to its plugins). */
  installDir: string;
  /** The program, for errors: `the dynosaur CLI`, `dynosaur-web`. */
  program: string;
  /** Whether a `use:` entry may be a path (`./my-plugin`): yes for the CLI, no for a server. */
  allowPaths: boolean;
  /** The @dynosaur/core every plugin and reporter is made to import. @default the one this package imports */
  coreUrl?: string;
}

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

/** The `use:` entries of a config and the config path each one answers to; without `use:`, one per plugin type. */
export function useOf(config: { use?: unknown; plugins?: unknown }): { specs: string[]; paths: string[] } {
  if (Array.isArray(config.use)) return { specs: config.use.map(String), paths: config.use.map((_, i) => `use[${i}]`) };
  const types = (Array.isArray(config.plugins) ? config.plugins : []).map((p) =>
    String((p as { type?: unknown })?.type ?? ""),
  );
  const specs = inferUse(types.filter(Boolean));
  return { specs, paths: specs.map((spec) => `plugins[${types.findIndex((t) => inferUse([t])[0] === spec)}].type`) };
}

let sharedCore: string | null = null;
/**
 * Makes every plugin import the program's own @dynosaur/core, wherever the plugin is installed.
 * A global `npm install -g @dynosaur/cli dynosaur-plugin-foo` gives the plugin a copy of
 * its own; two cores would not recognise each other's errors and schemas. A program that
 * imports a plugin itself (dynosaur-web's drains import heroku-router) calls it before that
 * import: a plugin has core as a peer only, which a production install does not give it.
 * The first call wins.
 */
export function shareCore(coreUrl?: string): void {
  if (sharedCore !== null) return;
  const url = coreUrl ?? import.meta.resolve("@dynosaur/core");
  sharedCore = url;
  registerHooks({
    resolve: (specifier, context, nextResolve) =>
      specifier === "@dynosaur/core" ? { url, shortCircuit: true } : nextResolve(specifier, context),
  });
}

/**
 * Loads the plugin packages a config names. Each is looked up from `lookup.from` first,
 * then from the program's install (so a global install of the CLI next to its plugins
 * works). `paths[i]` is the config path to blame for `specs[i]`.
 */
export async function loadPlugins(
  specs: readonly string[],
  paths: readonly string[],
  lookup: PluginLookup,
): Promise<LoadedPlugin[]> {
  const loaded: LoadedPlugin[] = [];
  for (const [i, spec] of specs.entries()) {
    const path = paths[i] ?? `use[${i}]`;
    // In a server a `use:` entry may come from a request: a path (`/etc/hostname`, `./x.mjs`) or
    // URL (`file:...`) would make it import a file the request names. The spec is not quoted: it
    // may name the server's own folders.
    if (!lookup.allowPaths && !PACKAGE_NAME.test(spec)) {
      throw inputError(
        "DYNO_PLUGIN_NOT_FOUND",
        `${path}: in ${lookup.program} a plugin is the name of an installed package (e.g. random, @acme/dynosaur-plugin-x); paths and URLs are for the CLI`,
        {
          path,
          hint: `publish or install the plugin as a package next to ${lookup.program}, and name the package`,
        },
      );
    }
    const found = findPackage(spec, lookup);
    if (!found) {
      const pkg = installName(spec);
      const near = suggestUse(spec, FIRST_PARTY);
      // A server takes installed packages only; on Heroku it installs those its
      // DYNOSAUR_PLUGINS config var names at build time (scripts/heroku-plugins.sh).
      const where = lookup.allowPaths ? "" : " next to the server";
      const onHeroku = lookup.allowPaths
        ? ""
        : "; on Heroku, name its package in the DYNOSAUR_PLUGINS config var and deploy again";
      const hint = !near
        ? installHint(pkg)
        : FIRST_PARTY[spec]
          ? `write use: [${near}]: "${spec}" is a plugin type of that package (${installHint(pkg)}, if it is not installed)`
          : `write use: [${near}] if you meant it; a package named "${spec}" would be installed with ${installHint(pkg)}`;
      throw inputError(
        "DYNO_PLUGIN_NOT_FOUND",
        `${path}: plugin "${spec}" is not installed${where}${near ? ` (did you mean ${near}?)` : ""} (looked for ${describeCandidates(spec)} ${lookedFrom(lookup)})`,
        { path, hint: `${hint}${onHeroku}` },
      );
    }
    let mod: { default?: unknown };
    shareCore(lookup.coreUrl);
    try {
      mod = await import(pathToFileURL(found.entry).href);
    } catch (e) {
      // What a package's import threw may quote its files or the server's folders: a server's
      // client is told only which package failed.
      if (!lookup.allowPaths)
        throw new DynosaurError("DYNO_PLUGIN_INVALID", `${path}: plugin package "${found.name}" failed to load`, {
          exitCode: 2,
          path,
          hint: `reinstall it where ${lookup.program} runs, or report it to its author`,
        });
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
export async function loadReporter(type: string, path: string, lookup: PluginLookup): Promise<ReporterDefinition> {
  const pkg = REPORTER_PACKAGES[type];
  if (!pkg) throw new Error(`core has no package for stats type "${type}": it implements it itself`);
  const found = findPackage(pkg, lookup);
  if (!found) {
    throw inputError(
      "DYNO_REPORTER_NOT_FOUND",
      `${path}: the ${type} reporter is not installed (looked for ${pkg} ${lookedFrom(lookup)})`,
      {
        path,
        hint: installHint(pkg),
      },
    );
  }
  shareCore(lookup.coreUrl);
  try {
    const mod = (await import(pathToFileURL(found.entry).href)) as { default?: unknown };
    return mod.default as ReporterDefinition;
  } catch (e) {
    if (!lookup.allowPaths)
      throw new DynosaurError("DYNO_REPORTER_INVALID", `${path}: reporter package ${found.name} failed to load`, {
        exitCode: 2,
        path,
        hint: `reinstall it where ${lookup.program} runs`,
      });
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

/** Where a package was looked for; a server names no folder of its own to its clients. */
function lookedFrom(lookup: PluginLookup): string {
  return lookup.allowPaths
    ? `from ${lookup.from} and from ${lookup.program}'s install`
    : `next to the server and in ${lookup.program}'s install`;
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

function findPackage(spec: string, lookup: PluginLookup): FoundPackage | null {
  if (isPathSpec(spec)) {
    const target = resolve(lookup.from, spec);
    if (!existsSync(target)) return null;
    if (statSync(target).isFile()) return { name: spec, version: null, dir: dirname(target), entry: target };
    return readPackage(target);
  }
  for (const base of [lookup.from, lookup.installDir]) {
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

/**
 * `loadPlugins` for a long-lived process (the server, with many apps' configs): a package
 * is imported once and every config naming it shares the definition.
 */
export class PluginLoader {
  readonly #cache = new Map<string, Promise<LoadedPlugin[]>>();
  readonly #lookup: PluginLookup;

  constructor(lookup: PluginLookup) {
    this.#lookup = lookup;
  }

  /** Every plugin of the packages named: a package may export several (e.g. one per queue library). */
  async load(specs: readonly string[], paths: readonly string[]): Promise<LoadedPlugin[]> {
    return (await Promise.all(specs.map((spec, i) => this.#one(spec, paths[i] ?? `use[${i}]`)))).flat();
  }

  #one(spec: string, path: string): Promise<LoadedPlugin[]> {
    let found = this.#cache.get(spec);
    if (!found) {
      found = loadPlugins([spec], [path], this.#lookup).then((plugins) => {
        if (plugins.length === 0) throw new Error(`loading plugin "${spec}" gave no plugin`);
        return plugins;
      });
      this.#cache.set(spec, found);
      // A failure is not remembered: the package may be installed by the next try.
      found.catch(() => this.#cache.delete(spec));
    }
    return found;
  }
}
