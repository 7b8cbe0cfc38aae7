import type { z } from "zod";
import { type ErrorProblem, inputError, must } from "./errors.js";

/**
 * Turns a zod error into one message listing each problem as `path: message`. A required
 * key that an unknown key's "did you mean" already names is not reported again: `scalar:`
 * is one problem, not two.
 */
export function formatZodIssues(
  error: z.ZodError,
  prefix = "",
  schema?: z.ZodType,
): { message: string; path: string; problems: ErrorProblem[] } {
  const suggested = new Set<string>();
  const texts = new Map<z.core.$ZodIssue, string>();
  for (const issue of error.issues) {
    if (issue.code !== "unrecognized_keys") continue;
    const known = schema ? keysAt(schema, issue.path) : [];
    const unknown = issue.keys.map((key) => {
      const near = closest(key, known);
      if (near) suggested.add(joinPath(prefix, [...issue.path, near]));
      return `unknown key "${key}"${near ? ` (did you mean "${near}"?)` : ""}`;
    });
    texts.set(issue, unknown.join(", "));
  }
  const lines = error.issues
    .filter((issue) => !(isMissing(issue) && suggested.has(joinPath(prefix, issue.path))))
    .map((issue) => {
      const path = joinPath(prefix, issue.path);
      return { path, message: texts.get(issue) ?? describeIssue(issue) };
    });
  return {
    message: lines.map((l) => `${l.path || "(top level)"}: ${l.message}`).join("\n"),
    path: lines[0]?.path ?? prefix,
    problems: lines,
  };
}

/**
 * Parses `value` with `schema`, throwing a DYNO_CONFIG_INVALID input error naming each bad path.
 * `fromEnv`: the paths (with `prefix`) whose value was one whole `${VAR}` reference (see
 * `substituteEnv`); where the schema wants a number or a boolean, the variable's text is read as one.
 */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  prefix = "",
  hint?: string,
  fromEnv?: ReadonlySet<string>,
): z.output<S> {
  // With the input in each issue, a missing key is told from a value of the wrong type.
  let result = schema.safeParse(value, { reportInput: true });
  if (!result.success && fromEnv && fromEnv.size > 0) {
    const typed = typeFromEnv(value, result.error.issues, prefix, fromEnv);
    if (typed !== value) result = schema.safeParse(typed, { reportInput: true });
  }
  if (result.success) return result.data;
  const { message, path, problems } = formatZodIssues(result.error, prefix, schema);
  throw inputError("DYNO_CONFIG_INVALID", message, { path, hint, problems });
}

/** `value` with each variable's text that stands where a number or boolean belongs read as one (a copy if any). */
function typeFromEnv(
  value: unknown,
  issues: readonly z.core.$ZodIssue[],
  prefix: string,
  fromEnv: ReadonlySet<string>,
): unknown {
  let copy = value;
  for (const issue of issues) {
    if (issue.code !== "invalid_type" || typeof issue.input !== "string") continue;
    if (!fromEnv.has(joinPath(prefix, issue.path))) continue;
    const typed = literal(issue.expected, issue.input.trim());
    if (typed === undefined) continue;
    if (copy === value) copy = structuredClone(value);
    setAt(copy, issue.path, typed);
  }
  return copy;
}

/** A number or boolean as YAML would have read the text written in place; undefined when it is not one. */
function literal(expected: string, text: string): number | boolean | undefined {
  if ((expected === "number" || expected === "int") && /^-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text))
    return Number(text);
  if (expected === "boolean" && (text === "true" || text === "false")) return text === "true";
  return undefined;
}

function setAt(tree: unknown, path: readonly PropertyKey[], value: unknown): void {
  const last = path.at(-1);
  let node = tree;
  for (const key of path.slice(0, -1)) node = (node as Record<PropertyKey, unknown>)[key];
  if (last !== undefined && node && typeof node === "object") (node as Record<PropertyKey, unknown>)[last] = value;
}

export function joinPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === "invalid_type") {
    const expected = EXPECTED[issue.expected] ?? issue.expected;
    return isMissing(issue)
      ? `required (expected ${expected})`
      : `expected ${expected}, got ${describeValue(issue.input)}`;
  }
  // zod says only "Invalid key in record"; the key's own issues say what a key must be.
  if (issue.code === "invalid_key") return `not a valid key: ${issue.issues.map((i) => i.message).join("; ")}`;
  return issue.message;
}

/** A key that is absent (YAML and JSON cannot write `undefined`), not one with a value of the wrong type. */
function isMissing(issue: z.core.$ZodIssue): boolean {
  return issue.code === "invalid_type" && issue.input === undefined;
}

/** zod's type names as a config file's author knows them (YAML has mappings and lists). */
const EXPECTED: Record<string, string> = {
  number: "a number",
  int: "a whole number",
  string: "a string",
  boolean: "true or false",
  object: "a mapping (key: value)",
  array: "a list",
};

/**
 * What was written instead, in short. A long string is not quoted (it may be a key written
 * in the wrong place); callers scrub the secrets they know from the message too.
 */
function describeValue(value: unknown): string {
  if (value === null) return "nothing (null)";
  if (typeof value === "string")
    return value.length > 24 ? `a string of ${value.length} characters` : `the string ${JSON.stringify(value)}`;
  if (typeof value === "number" || typeof value === "bigint") return `the number ${value}`;
  if (typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return typeof value;
}

/** The keys of the object schema found at `path` inside `schema`, for typo suggestions. */
function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let node: z.ZodType | undefined = schema;
  for (const key of [...path, null]) {
    node = unwrap(node);
    if (!node) return [];
    const def = node._zod.def as unknown as Record<string, unknown> & { type: string };
    if (key === null) return def.type === "object" ? Object.keys(def.shape as object) : [];
    if (def.type === "object") node = (def.shape as Record<string, z.ZodType>)[String(key)];
    else if (def.type === "array") node = def.element as z.ZodType;
    else return [];
  }
  return [];
}

function unwrap(node: z.ZodType | undefined): z.ZodType | undefined {
  for (let i = 0; node && i < 10; i++) {
    const def = node._zod.def as unknown as Record<string, unknown> & { type: string };
    if (["optional", "default", "nullable", "prefault", "readonly", "catch"].includes(def.type))
      node = def.innerType as z.ZodType;
    else if (def.type === "pipe") node = def.in as z.ZodType;
    else return node;
  }
  return node;
}

/** The known name closest to `word`, if it is a plausible typo of it. */
export function closest(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const d = distance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/** Levenshtein distance, one row of the table at a time. */
function distance(a: string, b: string): number {
  const cell = (row: number[], j: number) => must(row[j], "a cell of the distance table");
  let above = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitute = cell(above, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1);
      row.push(Math.min(cell(above, j) + 1, cell(row, j - 1) + 1, substitute));
    }
    above = row;
  }
  return cell(above, b.length);
}
