import type { RJSFSchema } from "@rjsf/utils";

/**
 * The server's config schema made into the form's: every field is labelled with its config
 * key (titles go, so the form library falls back to the key), and a default is shown in the
 * description rather than filled in, so saving writes only what the user set.
 */
export function formSchema(schema: unknown): RJSFSchema {
  return walk(schema) as RJSFSchema;
}

function walk(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(walk);
  if (!node || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === "title" || k === "default") continue;
    // Keyed maps: their keys are names, not schemas to rewrite.
    out[k] =
      k === "properties" || k === "$defs" || k === "patternProperties"
        ? Object.fromEntries(Object.entries(v as object).map(([n, s]) => [n, walk(s)]))
        : k === "enum" || k === "const" || k === "required" || k === "examples"
          ? v
          : walk(v);
  }
  // The chooser between alternatives names each by what it takes, not "Option 1".
  for (const k of ["anyOf", "oneOf"] as const)
    if (Array.isArray(out[k]))
      out[k] = (out[k] as unknown[]).map((b) =>
        b && typeof b === "object" && !("title" in b) ? { ...b, title: kindOf(b as Kind) } : b,
      );
  const d = (node as { default?: unknown }).default;
  if (d !== undefined && !(Array.isArray(d) && d.length === 0)) {
    const text = typeof out.description === "string" ? out.description : "";
    out.description = `${text}${text ? " " : ""}Default: ${JSON.stringify(d)}.`;
  }
  return out;
}

interface Kind {
  type?: unknown;
  const?: unknown;
  enum?: unknown[];
}

/** What an alternative of a field takes, in words: "One value", "A list", "A number"... */
function kindOf(branch: Kind): string {
  if (branch.const !== undefined) return JSON.stringify(branch.const);
  if (Array.isArray(branch.enum)) return `One of ${branch.enum.map((v) => JSON.stringify(v)).join(", ")}`;
  switch (branch.type) {
    case "string":
      return "One value";
    case "array":
      return "A list";
    case "object":
      return "Several settings";
    case "number":
    case "integer":
      return "A number";
    case "boolean":
      return "Yes or no";
    case "null":
      return "None";
    default:
      return "Other";
  }
}

/** `plugins[0].api_key` → the form's field id `root_plugins_0_api_key`. */
export const fieldId = (path: string) =>
  `root_${path
    .replace(/\[(\d+)\]/g, ".$1")
    .split(".")
    .filter(Boolean)
    .join("_")}`;

/** Every leaf of a config as `path → JSON`, for the diff against the running version. */
export function flatten(value: unknown, path = "", out = new Map<string, string>()): Map<string, string> {
  if (value && typeof value === "object" && !(Array.isArray(value) && value.length === 0)) {
    for (const [k, v] of Object.entries(value))
      flatten(v, Array.isArray(value) ? `${path}[${k}]` : path ? `${path}.${k}` : k, out);
  } else if (value !== undefined) {
    out.set(path, JSON.stringify(value));
  }
  return out;
}

export interface Change {
  path: string;
  before: string | null;
  after: string | null;
}

export function diff(before: unknown, after: unknown): Change[] {
  const a = flatten(before);
  const b = flatten(after);
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  return paths
    .filter((p) => a.get(p) !== b.get(p))
    .map((p) => ({ path: p, before: a.get(p) ?? null, after: b.get(p) ?? null }));
}

/**
 * The form ids of the fields a config sets: a deprecated key (`deprecated: true` in the schema,
 * e.g. `scaler.min` for `min_dynos`) is shown only when the config in force uses it.
 */
export const usedFieldIds = (config: unknown): Set<string> => new Set([...flatten(config).keys()].map(fieldId));

/**
 * The keys the schema marks `writeOnly`: the server marks secrets by key name (core's naming
 * rule and the plugins' `secrets` lists), wherever they stand.
 */
export function writeOnlyKeys(schema: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(schema)) for (const s of schema) writeOnlyKeys(s, out);
  else if (schema && typeof schema === "object") {
    const properties = (schema as { properties?: unknown }).properties;
    if (properties && typeof properties === "object")
      for (const [key, s] of Object.entries(properties))
        if ((s as { writeOnly?: unknown })?.writeOnly === true) out.add(key);
    for (const v of Object.values(schema)) writeOnlyKeys(v, out);
  }
  return out;
}

/** One `${VAR}` and nothing else: it names a config var, it holds no secret. */
const BARE_REFERENCE = /^"\$\{[A-Za-z_][A-Za-z0-9_]*\}"$/;

/**
 * The diff as shown: a secret's value never is. A stored literal (left out of the config the
 * server sends) shows as "set", a typed one as "(new value)"; only a bare `${VAR}` is shown.
 */
export function shownChanges(
  changes: readonly Change[],
  secrets: { keys: ReadonlySet<string>; stored: ReadonlySet<string> },
): Change[] {
  const isSecret = (path: string) =>
    secrets.stored.has(path) ||
    path
      .replace(/\[\d+\]/g, "")
      .split(".")
      .some((key) => secrets.keys.has(key));
  const mask = (value: string | null, hidden: string) =>
    value === null || BARE_REFERENCE.test(value) ? value : hidden;
  return changes.map((c) =>
    isSecret(c.path)
      ? {
          path: c.path,
          before: secrets.stored.has(c.path) ? "set" : mask(c.before, "set"),
          after: mask(c.after, "(new value)"),
        }
      : c,
  );
}
