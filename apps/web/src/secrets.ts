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

/** A `${VAR}` reference is kept as written: it names a config var, it is not the secret. */
export function isReference(value: string): boolean {
  return /\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}/.test(value);
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

/** The config to show: sealed values left out, and listed so a form can say "set". */
export function maskConfig(stored: ConfigTree): { config: ConfigTree; secrets: MaskedSecret[] } {
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

/**
 * An update that leaves a secret out keeps it: every sealed value of `previous` whose place
 * is missing in `incoming` is carried over. Plugins are matched by name (or type), so
 * reordering sources keeps each one's secrets.
 */
export function keepOmittedSecrets(incoming: ConfigTree, previous: ConfigTree): ConfigTree {
  const out = clone(incoming);
  const isMap = (v: unknown): v is ConfigTree => !!v && typeof v === "object" && !Array.isArray(v);
  const carry = (from: unknown, parent: ConfigTree, key: string) => {
    if (isSealed(from)) {
      if (parent[key] === undefined) parent[key] = from;
    } else if (isMap(from) && isMap(parent[key])) {
      for (const [k, v] of Object.entries(from)) carry(v, parent[key] as ConfigTree, k);
    }
  };
  for (const key of Object.keys(previous)) if (key !== "plugins" && key !== "stats") carry(previous[key], out, key);
  // Lists: plugins by name (or type), stats reporters by type.
  const lists = [
    ["plugins", (e: ConfigTree) => e.name ?? e.type],
    ["stats", (e: ConfigTree) => e.type],
  ] as const;
  for (const [list, id] of lists) {
    const before = Array.isArray(previous[list]) ? previous[list].filter(isMap) : [];
    const after = Array.isArray(out[list]) ? out[list].filter(isMap) : [];
    for (const entry of after) {
      const match = before.find((b) => id(b) === id(entry));
      if (match) for (const [k, v] of Object.entries(match)) carry(v, entry, k);
    }
  }
  return out;
}
