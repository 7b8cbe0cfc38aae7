import { type PluginDefinition, redactConfig } from "@dynosaur/core";
import { isSealed, type SecretBox } from "./secret-box.js";

/*
 * Which values of a config are secrets, and what happens to them: sealed when saved,
 * opened when run, left out of every answer and export. One list serves all of that:
 * core's naming rule (the keys `redactConfig` blanks: `*_key`, `*token`, `*password`,
 * `*secret`, `headers`...) plus the option keys each plugin lists in `secrets` (contract v2).
 */

export type Segment = string | number;
export type ConfigTree = Record<string, unknown>;

/** `plugins[0].token`, as core names config paths. */
export function pathText(path: readonly Segment[]): string {
  let out = "";
  for (const s of path) out += typeof s === "number" ? `[${s}]` : out ? `.${s}` : s;
  return out;
}

/** Whether core counts a key of this name as a secret (asked of core's own rule, never copied). */
export function isSecretKey(key: string): boolean {
  return (redactConfig({ [key]: "?" }) as ConfigTree)[key] !== "?";
}

/** Where the secret values of `config` are. `pluginFor` finds a `plugins[]` entry's plugin by type. */
export function secretPaths(
  config: ConfigTree,
  pluginFor: (type: string) => PluginDefinition | undefined,
): Segment[][] {
  const paths: Segment[][] = [];
  const byName = (value: unknown, redacted: unknown, path: Segment[]) => {
    if (typeof value === "string") {
      if (redacted !== value) paths.push(path);
    } else if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) byName(v, (redacted as unknown[])[i], [...path, i]);
    } else if (value && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) byName(v, (redacted as ConfigTree)[k], [...path, k]);
    }
  };
  byName(config, redactConfig(config), []);
  // A URL that carries a password is a secret wherever it is written (heroku_api_url, endpoint...).
  const urls = (value: unknown, path: Segment[]) => {
    if (typeof value === "string") {
      if (hasUrlPassword(value) && !paths.some((p) => pathText(p) === pathText(path))) paths.push(path);
    } else if (Array.isArray(value)) for (const [i, v] of value.entries()) urls(v, [...path, i]);
    else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) urls(v, [...path, k]);
  };
  urls(config, []);
  const plugins = Array.isArray(config.plugins) ? config.plugins : [];
  plugins.forEach((entry, i) => {
    if (!entry || typeof entry !== "object" || typeof (entry as ConfigTree).type !== "string") return;
    for (const key of pluginFor((entry as ConfigTree).type as string)?.secrets ?? []) {
      if (
        typeof (entry as ConfigTree)[key] === "string" &&
        !paths.some((p) => p[0] === "plugins" && p[1] === i && p[2] === key)
      )
        paths.push(["plugins", i, key]);
    }
  });
  return paths;
}

/**
 * A `${VAR}` reference is kept as written: it names a config var, it is not the secret. Only
 * a value that is exactly one `${NAME}`: anything around or inside it (`HRKU-...${HOME}`,
 * `$${X}`, a `:-fallback`) may hold part of a secret, so it is sealed like a literal.
 */
export function isReference(value: string): boolean {
  return /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(value);
}

/** Whether `value` is a URL with a password in it (`scheme://user:password@host`): that password is a secret. */
export function hasUrlPassword(value: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\/[^/?#@\s]*:[^/?#@\s]+@/i.test(value.trim());
}

export function getAt(tree: unknown, path: readonly Segment[]): unknown {
  let node = tree;
  for (const s of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[s as string];
  }
  return node;
}

function setAt(tree: unknown, path: readonly Segment[], value: unknown): void {
  let node = tree as Record<string, unknown>;
  for (const s of path.slice(0, -1)) node = node[s as string] as Record<string, unknown>;
  node[path.at(-1) as string] = value;
}

function deleteAt(tree: unknown, path: readonly Segment[]): void {
  const parent = getAt(tree, path.slice(0, -1));
  if (parent && typeof parent === "object") delete (parent as Record<string, unknown>)[path.at(-1) as string];
}

const clone = <T>(value: T): T => structuredClone(value);

/** The config to store: literal secrets sealed, references as written. Throws without a key when a literal needs one. */
export function sealConfig(config: ConfigTree, paths: Segment[][], box: SecretBox | null): ConfigTree {
  const out = clone(config);
  for (const path of paths) {
    const value = getAt(out, path);
    if (typeof value !== "string" || isSealed(value) || isReference(value)) continue;
    if (!box) throw new MissingKeyError(pathText(path));
    setAt(out, path, box.seal(value));
  }
  return out;
}

export class MissingKeyError extends Error {
  constructor(readonly path: string) {
    super(
      `${path}: a secret typed in literally is stored encrypted, and this server has no key: set DYNOSAUR_SECRET_KEY, or write a \${VAR} reference to a config var instead`,
    );
  }
}

/** The config to run: every sealed value opened. */
export function openConfig(stored: ConfigTree, box: SecretBox | null): ConfigTree {
  const walk = (value: unknown): unknown => {
    if (isSealed(value)) {
      if (!box) throw new MissingKeyError("a stored secret");
      return box.open(value);
    }
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === "object")
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    return value;
  };
  return walk(stored) as ConfigTree;
}

export interface MaskedSecret {
  path: string;
  /** `set`: a literal is stored (never shown); `reference`: a `${VAR}` shown as written. */
  state: "set" | "reference";
}

/**
 * The config to show: sealed values left out, and listed so a form can say "set". A value at
 * a secret path (`paths`) that is neither sealed nor a `${NAME}` reference (stored in clear
 * by an older version) is left out too.
 */
export function maskConfig(
  stored: ConfigTree,
  paths: readonly Segment[][] = [],
): { config: ConfigTree; secrets: MaskedSecret[] } {
  const out = clone(stored);
  const secrets: MaskedSecret[] = [];
  const walk = (value: unknown, path: Segment[]) => {
    if (isSealed(value)) {
      secrets.push({ path: pathText(path), state: "set" });
      deleteAt(out, path);
    } else if (Array.isArray(value)) for (const [i, v] of value.entries()) walk(v, [...path, i]);
    else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
  };
  walk(stored, []);
  for (const path of paths) {
    const value = getAt(stored, path);
    if (typeof value === "string" && !isSealed(value) && !isReference(value)) {
      secrets.push({ path: pathText(path), state: "set" });
      deleteAt(out, path);
    }
  }
  return { config: out, secrets };
}

/** Lists the `${VAR}` references among secret paths (shown as written). */
export function referencedSecrets(stored: ConfigTree, paths: Segment[][]): MaskedSecret[] {
  return paths
    .filter((p) => {
      const v = getAt(stored, p);
      return typeof v === "string" && isReference(v);
    })
    .map((p) => ({ path: pathText(p), state: "reference" as const }));
}

/** A secret an update left out and kept: where it is now, and where it was in the stored config. */
export interface KeptSecret {
  path: Segment[];
  from: Segment[];
}

/**
 * An update that leaves a secret out keeps it: every sealed value of `previous` whose place
 * is missing in `incoming` is carried over. Plugins are matched by name (or type), so
 * reordering sources keeps each one's secrets.
 */
export function keepOmittedSecrets(incoming: ConfigTree, previous: ConfigTree): ConfigTree {
  return keepSecrets(incoming, previous).config;
}

/** `keepOmittedSecrets`, also saying which secrets it kept and from where. */
export function keepSecrets(incoming: ConfigTree, previous: ConfigTree): { config: ConfigTree; kept: KeptSecret[] } {
  const out = clone(incoming);
  const kept: KeptSecret[] = [];
  const isMap = (v: unknown): v is ConfigTree => !!v && typeof v === "object" && !Array.isArray(v);
  const carry = (from: unknown, parent: ConfigTree, key: string, path: Segment[], fromPath: Segment[]) => {
    if (isSealed(from)) {
      if (parent[key] === undefined) {
        parent[key] = from;
        kept.push({ path, from: fromPath });
      }
    } else if (isMap(from) && isMap(parent[key])) {
      for (const [k, v] of Object.entries(from)) carry(v, parent[key] as ConfigTree, k, [...path, k], [...fromPath, k]);
    }
  };
  for (const key of Object.keys(previous))
    if (key !== "plugins" && key !== "stats") carry(previous[key], out, key, [key], [key]);
  // Lists: plugins by name (or type), stats reporters by type.
  const lists = [
    ["plugins", (e: ConfigTree) => e.name ?? e.type],
    ["stats", (e: ConfigTree) => e.type],
  ] as const;
  for (const [list, id] of lists) {
    const before = Array.isArray(previous[list]) ? (previous[list] as unknown[]) : [];
    const after = Array.isArray(out[list]) ? (out[list] as unknown[]) : [];
    after.forEach((entry, i) => {
      if (!isMap(entry)) return;
      const j = before.findIndex((b) => isMap(b) && id(b) === id(entry));
      const match = before[j];
      if (isMap(match)) for (const [k, v] of Object.entries(match)) carry(v, entry, k, [list, i, k], [list, j, k]);
    });
  }
  return { config: out, kept };
}

/** Where core's own secrets go: a secret of these sections travels to exactly these options. */
const CORE_DESTINATIONS: Record<string, Record<string, readonly string[]>> = {
  scaler: { heroku_api_key: ["heroku_api_url"] },
  alerts: { sendgrid_api_key: ["sendgrid_endpoint"] },
};

/** Option keys that say where something is sent, when a plugin does not say itself. */
const URL_LIKE_KEY =
  /(^|_)(url|uri|urls|endpoint|endpoints|host|hostname|hosts|origin|region|server|servers|domain|port|address|proxy)$/i;
const URL_LIKE_VALUE = /^\s*[a-z][a-z0-9+.-]*:\/\//i;

/**
 * The options a secret at `path` travels to, and the config entry they belong to. A plugin's
 * `destinations` says it; without, every URL-like option of the entry (by name, or written as
 * a URL) goes with every secret. A plugin or reporter entry's `type` always does: another
 * type is another destination.
 */
export function destinationsOf(
  config: ConfigTree,
  previous: ConfigTree,
  kept: KeptSecret,
  pluginFor: (type: string) => PluginDefinition | undefined,
): { entry: Segment[]; from: Segment[]; keys: string[] } {
  const inList = (kept.path[0] === "plugins" || kept.path[0] === "stats") && typeof kept.path[1] === "number";
  const depth = inList ? 2 : 1;
  const entry = kept.path.slice(0, depth);
  const from = kept.from.slice(0, depth);
  const secret = String(kept.path[depth]);
  const now = getAt(config, entry);
  const before = getAt(previous, from);
  const keysOf = (v: unknown) => (v && typeof v === "object" && !Array.isArray(v) ? Object.entries(v) : []);
  const urlLike = () => [
    ...new Set(
      [...keysOf(now), ...keysOf(before)]
        .filter(([k, v]) => k !== secret && (URL_LIKE_KEY.test(k) || (typeof v === "string" && URL_LIKE_VALUE.test(v))))
        .map(([k]) => k),
    ),
  ];
  if (!inList) {
    const declared = CORE_DESTINATIONS[String(entry[0])]?.[secret];
    return { entry, from, keys: declared ? [...declared] : urlLike() };
  }
  const type = (now as ConfigTree | undefined)?.type;
  const declared =
    kept.path[0] === "plugins" && typeof type === "string" ? pluginFor(type)?.destinations?.[secret] : undefined;
  return { entry, from, keys: ["type", ...(declared ? declared : urlLike())] };
}

/**
 * The kept secrets whose destination a save changes: each must be typed again. Compared on the
 * opened configs (a sealed destination is its plain value), as written (a `${VAR}` swapped
 * for another is a change).
 */
export function movedSecrets(
  opened: ConfigTree,
  openedPrevious: ConfigTree,
  kept: readonly KeptSecret[],
  pluginFor: (type: string) => PluginDefinition | undefined,
): { path: Segment[]; changed: string[] }[] {
  return kept.flatMap((k) => {
    const { entry, from, keys } = destinationsOf(opened, openedPrevious, k, pluginFor);
    const changed = keys.filter(
      (key) =>
        JSON.stringify(getAt(opened, [...entry, key]) ?? null) !==
        JSON.stringify(getAt(openedPrevious, [...from, key]) ?? null),
    );
    return changed.length > 0 ? [{ path: k.path, changed: changed.map((key) => pathText([...entry, key])) }] : [];
  });
}
