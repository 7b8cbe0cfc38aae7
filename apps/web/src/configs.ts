import type { LoadedPlugin } from "@dynosaur/cli";
import { type Clock, type DynosaurConfig, type PluginDefinition, parseConfig, type Redactor } from "@dynosaur/core";
import { stringify } from "yaml";
import { type CheckResult, type ConfigProblem, checkConfig, problemsOf } from "./config-check.js";
import { bindDrainFeeds, drainFeedKey } from "./drains.js";
import type { PluginLoader } from "./plugins.js";
import { useOf } from "./plugins.js";
import { isSealed, type SecretBox } from "./secret-box.js";
import {
  type ConfigTree,
  getAt,
  keepOmittedSecrets,
  type MaskedSecret,
  MissingKeyError,
  maskConfig,
  openConfig,
  pathText,
  referencedSecrets,
  type Segment,
  sealConfig,
  secretPaths,
} from "./secrets.js";
import { type AppRow, type AppStore, VersionConflict } from "./store/apps.js";
import type { ReadingStore } from "./store/readings.js";

/** Names of apps: what may stand in a URL path and a log line without quoting. */
export const APP_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export type SaveResult =
  | { ok: true; app: AppRow; created: boolean }
  | { ok: false; errors: ConfigProblem[] }
  | { ok: false; conflict: VersionConflict };

/** A config ready to run: opened (secrets decrypted), validated, with its plugins. */
export interface RunnableConfig {
  version: number;
  config: DynosaurConfig;
  plugins: PluginDefinition[];
}

export interface ConfigServiceDeps {
  apps: AppStore;
  readings: ReadingStore;
  loader: PluginLoader;
  box: SecretBox | null;
  env: Record<string, string | undefined>;
  clock: Clock;
  /** Told after every saved change, so the engine applies it at once. */
  changed?: (app: string) => void;
  /** The drain feed an app's heroku-router sources read (the server's drains: drainFeedKey with its instance). */
  drainFeed?: (app: string) => string;
}

/**
 * Configs as the API sees them: validated by core's and the plugins' schemas before
 * anything is saved, stored as versions with literal secrets sealed, shown and exported
 * without a secret's value.
 */
export class ConfigService {
  constructor(private readonly deps: ConfigServiceDeps) {}

  async check(raw: unknown): Promise<CheckResult> {
    return checkConfig(raw, { loader: this.deps.loader, env: this.deps.env });
  }

  async save(
    name: string,
    raw: unknown,
    meta: { author: string; comment?: string | null; ifMatch?: number | null; kind?: "config-changed" | "rollback" },
  ): Promise<SaveResult> {
    const now = this.deps.clock.now();
    const existing = await this.deps.apps.get(name);
    const previous = existing ? await this.deps.apps.version(existing.id, existing.version) : null;
    if (meta.ifMatch !== undefined && meta.ifMatch !== null && (existing?.version ?? 0) !== meta.ifMatch) {
      return { ok: false, conflict: new VersionConflict(meta.ifMatch, existing?.version ?? null) };
    }
    const checked = await this.#checkAgainst(raw, previous?.config ?? null);
    if (!checked.ok) return { ok: false, errors: checked.errors };
    const { merged, opened, result } = checked;
    let sealed: ConfigTree;
    try {
      sealed = sealConfig(merged, secretPaths(opened, pluginLookup(result.plugins)), this.deps.box);
    } catch (e) {
      if (e instanceof MissingKeyError)
        return { ok: false, errors: [{ path: e.path, message: e.message, code: "DYNO_SECRET_KEY_INVALID" }] };
      throw e;
    }
    try {
      const saved = await this.deps.apps.save(name, sealed, {
        author: meta.author,
        comment: meta.comment ?? null,
        now,
        ifMatch: meta.ifMatch,
      });
      const kind = meta.kind ?? "config-changed";
      const message = saved.created
        ? `app created by ${meta.author} (version 1)`
        : `${kind === "rollback" ? "rolled back" : "config changed"} by ${meta.author} (version ${saved.app.version})`;
      await this.deps.readings.write({
        ticks: [],
        minutes: [],
        events: [
          {
            appId: saved.app.id,
            time: now,
            kind,
            message: meta.comment ? `${message}: ${meta.comment}` : message,
            data: { version: saved.app.version, author: meta.author },
          },
        ],
      });
      this.deps.changed?.(name);
      return { ok: true, ...saved };
    } catch (e) {
      if (e instanceof VersionConflict) return { ok: false, conflict: e };
      throw e;
    }
  }

  /**
   * A draft checked exactly as a save would check it (the secrets it leaves out are the
   * stored ones), with nothing saved: what a replay of the draft runs.
   */
  async checkDraft(app: AppRow, raw: unknown): Promise<CheckResult> {
    const previous = await this.deps.apps.version(app.id, app.version);
    const checked = await this.#checkAgainst(raw, previous?.config ?? null);
    return checked.ok ? checked.result : checked;
  }

  /** Secrets the update left out are the stored ones: opened for the check (a save seals them again to store). */
  async #checkAgainst(
    raw: unknown,
    previous: ConfigTree | null,
  ): Promise<
    | { ok: true; merged: ConfigTree; opened: ConfigTree; result: Extract<CheckResult, { ok: true }> }
    | { ok: false; errors: ConfigProblem[] }
  > {
    if (!raw || typeof raw !== "object" || Array.isArray(raw))
      return {
        ok: false,
        errors: [
          {
            path: "",
            message: "the config must be an object with `scaler` and `plugins`",
            code: "DYNO_CONFIG_INVALID",
          },
        ],
      };
    const merged = previous ? keepOmittedSecrets(raw as ConfigTree, previous) : (raw as ConfigTree);
    let opened: ConfigTree;
    try {
      opened = openConfig(merged, this.deps.box);
    } catch (e) {
      return { ok: false, errors: problemsOf(e) };
    }
    const result = await this.check(opened);
    const plugins = result.ok ? result.plugins : await this.#pluginsOf(opened).catch(() => []);
    const secrets = secretPaths(opened, pluginLookup(plugins));
    const fallbacks = secretFallbacks(merged, secrets);
    if (!result.ok)
      return { ok: false, errors: [...fallbacks, ...forSecrets(result.errors, secrets, opened, this.deps.env)] };
    return fallbacks.length > 0 ? { ok: false, errors: fallbacks } : { ok: true, merged, opened, result };
  }

  /** The config in force, secrets masked. */
  async show(
    app: AppRow,
    version = app.version,
  ): Promise<{
    version: number;
    config: ConfigTree;
    secrets: MaskedSecret[];
    author: string;
    comment: string | null;
    createdAt: number;
  } | null> {
    const row = await this.deps.apps.version(app.id, version);
    if (!row) return null;
    const { config, secrets } = maskConfig(row.config);
    const plugins = await this.#pluginsOf(row.config).catch(() => []);
    return {
      version: row.version,
      config,
      secrets: [...secrets, ...referencedSecrets(row.config, secretPaths(row.config, pluginLookup(plugins)))],
      author: row.author,
      comment: row.comment,
      createdAt: row.createdAt,
    };
  }

  /**
   * The config as CLI YAML: each literal secret becomes a `${VAR}` reference (listed at the
   * top), so the file runs with `dynosaur` once those variables are set and never holds a secret.
   */
  async export(app: AppRow): Promise<string> {
    const row = await this.deps.apps.version(app.id, app.version);
    if (!row) throw new Error(`app ${app.name} has no version ${app.version}`);
    const vars: string[] = [];
    const walk = (value: unknown, path: (string | number)[]): unknown => {
      if (isSealed(value)) {
        const name = envName(path, row.config);
        vars.push(`#   ${name}  (${pathText(path)})`);
        return `\${${name}}`;
      }
      if (Array.isArray(value)) return value.map((v, i) => walk(v, [...path, i]));
      if (value && typeof value === "object")
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, [...path, k])]));
      return value;
    };
    const out = walk(row.config, []);
    const head = [`# ${app.name}, version ${app.version}, exported by dynosaur-web`];
    if (vars.length)
      head.push("# Secrets are not exported: set these environment variables before running it:", ...vars);
    return `${head.join("\n")}\n${stringify(out)}`;
  }

  /**
   * The config of `version`, opened and checked, ready for an engine. Its secrets (named like
   * one, or from a secret-looking variable) are added to `redactor`; core's runtime adds the
   * options its plugins declare secret.
   */
  async runnable(app: AppRow, redactor: Redactor): Promise<RunnableConfig> {
    const row = await this.deps.apps.version(app.id, app.version);
    if (!row) throw new Error(`app ${app.name} has no version ${app.version}`);
    const opened = openConfig(row.config, this.deps.box);
    const loaded = await this.#pluginsOf(opened);
    const { config } = parseConfig(opened, this.deps.env, { redactor });
    const plugins = bindDrainFeeds(
      loaded.map((p) => p.plugin),
      this.deps.drainFeed?.(app.name) ?? drainFeedKey(app.name),
    );
    return { version: row.version, config, plugins };
  }

  async #pluginsOf(config: ConfigTree): Promise<LoadedPlugin[]> {
    const { specs, paths } = useOf(config);
    return this.deps.loader.load(specs, paths);
  }
}

function pluginLookup(loaded: readonly LoadedPlugin[]): (type: string) => PluginDefinition | undefined {
  return (type) => loaded.find((p) => p.plugin.type === type || p.plugin.aliases?.includes(type))?.plugin;
}

/** `scaler.heroku_api_key` → HEROKU_API_KEY; `plugins[1].token` of source `shop-queue` → SHOP_QUEUE_TOKEN. */
function envName(path: (string | number)[], config: ConfigTree): string {
  const key = String(path.at(-1));
  let prefix = "";
  if (path[0] === "plugins" && typeof path[1] === "number") {
    const entry = (config.plugins as ConfigTree[])[path[1]];
    prefix = String(entry?.name ?? entry?.type ?? `plugin_${path[1]}`);
  } else if (path[0] !== "scaler") {
    prefix = path
      .filter((s) => typeof s === "string")
      .slice(0, -1)
      .join("_");
  }
  return `${prefix ? `${prefix}_` : ""}${key}`.replace(/[^A-Za-z0-9]+/g, "_").toUpperCase();
}

/** `${VAR:-fallback}` with a fallback: what a secret field may not hold. */
const FALLBACK = /\$\{([A-Za-z_][A-Za-z0-9_]*):-[^}]+\}/;

/**
 * A `${VAR}` reference is stored as written, so a fallback in a secret field would be a secret
 * stored (and shown) in clear text: refused at its path, never quoting the fallback.
 */
function secretFallbacks(config: ConfigTree, paths: readonly Segment[][]): ConfigProblem[] {
  return paths.flatMap((path) => {
    const value = getAt(config, path);
    const name = typeof value === "string" ? FALLBACK.exec(value)?.[1] : undefined;
    if (name === undefined) return [];
    return [
      {
        path: pathText(path),
        message: `a fallback in a secret (\${${name}:-...}) would be stored in clear text`,
        hint: `set the variable ${name}, or type the secret itself, which is encrypted`,
        code: "DYNO_CONFIG_INVALID" as const,
      },
    ];
  });
}

/**
 * Core's hint for an unset variable offers `${VAR:-default}`: at a secret field that default
 * would be a secret in clear text, so the hint there says what to do instead.
 */
function forSecrets(
  errors: ConfigProblem[],
  paths: readonly Segment[][],
  config: ConfigTree,
  env: Record<string, string | undefined>,
): ConfigProblem[] {
  const secret = new Map(paths.map((p) => [pathText(p), p]));
  return errors.map((e) => {
    const path = secret.get(e.path);
    if (e.code !== "DYNO_ENV_MISSING" || path === undefined) return e;
    // The variable is read from the field as written, not from the message.
    const value = getAt(config, path);
    const name = typeof value === "string" ? unsetVariables(value, env)[0] : undefined;
    if (name === undefined) return e;
    return {
      ...e,
      hint: `set ${name} where this server runs (\`heroku config:set ${name}=...\` on Heroku), or type the secret itself, which is encrypted`,
    };
  });
}

/** The `${VAR}`s in `text` (those without a fallback) that `env` does not set. */
function unsetVariables(text: string, env: Record<string, string | undefined>): string[] {
  return [...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].flatMap(([, name]) =>
    name !== undefined && env[name] === undefined ? [name] : [],
  );
}
