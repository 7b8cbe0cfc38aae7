import type { Dispatcher } from "undici";
import { z } from "zod";
import { describeError } from "../errors.js";
import {
  PLUGIN_API_VERSION,
  type PluginDefinition,
  type PluginInstance,
  parsePluginOptions,
  pluginOptionsSchema,
  type SourceOptions,
  SUPPORTED_PLUGIN_API_VERSIONS,
} from "../plugin.js";
import { checkPluginShape } from "../registry.js";
import { createTestContext } from "./context.js";

/** The checks every plugin must pass, in the order they run; each `title` is one line, used as the test's name. */
export const pluginChecks = [
  { id: "shape", title: "default export has the shape of a plugin" },
  {
    id: "api-version",
    title: `speaks a plugin API version this core runs (${SUPPORTED_PLUGIN_API_VERSIONS.join(", ")})`,
  },
  { id: "json-schema", title: "option schema converts to JSON Schema" },
  { id: "valid-options", title: "accepts its valid options and creates an instance" },
  { id: "invalid-options", title: "rejects invalid options with an error naming the path" },
  { id: "retrieve", title: "retrieve resolves to a finite number, or { value, busy } of finite numbers >= 0" },
  { id: "retrieve-abort", title: "retrieve rejects promptly when its signal aborts" },
  { id: "estimate-whole", title: "estimateDynos returns whole numbers >= 0" },
  { id: "estimate-monotone", title: "estimateDynos never falls as the reading rises" },
  { id: "close-twice", title: "close can be called twice" },
] as const;

export type PluginCheckId = (typeof pluginChecks)[number]["id"];
export type PluginCheck = { id: PluginCheckId; title: string };

/** What `setup` prepares for one check, e.g. a loopback fake of the plugin's service. */
export interface PluginFixture {
  /** Merged over `validOptions`, e.g. `{ url: fake.url }`. */
  options?: Record<string, unknown>;
  /**
   * The dispatcher behind `ctx.http`.
   * @default a new undici `Agent` per check
   */
  http?: Dispatcher;
  /** Called after the check, e.g. to stop the fake. */
  close?(): void | Promise<void>;
}

/** A `plugins[]` entry a user could write that the plugin must refuse. */
export interface InvalidOptionsCase {
  /** Merged over the valid options; set a key to `undefined` to leave it out. */
  options: Record<string, unknown>;
  /**
   * Where the error must point, relative to the entry: `users_per_dyno`, `headers.accept`, `hosts[1]`,
   * or `""` for the entry itself (an unknown key is reported there).
   * The check accepts a config error from the schema or an `inputError` thrown by `create`.
   */
  path: string;
}

export interface PluginTestOptions {
  /**
   * Options of a working `plugins[]` entry (`type` may be left out). The instance checks
   * create the plugin with these, merged with what `setup` returns.
   * @default {}
   */
  validOptions?: Record<string, unknown>;
  /** Mistakes the plugin must reject. Required when the plugin has options of its own. */
  invalidOptions: InvalidOptionsCase[];
  /**
   * Runs before each check that creates an instance or validates options, e.g. to start a
   * loopback fake and point the options at it. Its `close` runs after the check.
   * @default no fixture
   */
  setup?: () => PluginFixture | Promise<PluginFixture>;
  /**
   * Readings to feed `estimateDynos`; they are sorted, so order does not matter.
   * @default defaultSampleValues (0 to 1,000,000, fractions included)
   */
  sampleValues?: number[];
  /**
   * How long `retrieve` may take to reject once its signal aborts.
   * @default 1000
   */
  abortTimeoutMs?: number;
  /**
   * How long `create`, a normal `retrieve` and `close` may take.
   * @default 5000
   */
  timeoutMs?: number;
}

export interface PluginCheckResult {
  id: PluginCheckId;
  title: string;
  ok: boolean;
  /** Why the check failed, and what to do; on success, a note (may be empty). */
  message: string;
}

/** Readings `estimateDynos` is fed when `sampleValues` is not given. */
export const defaultSampleValues: readonly number[] = [
  0, 0.25, 0.5, 1, 1.5, 2, 3, 4, 5, 7, 10, 15, 20, 33, 50, 99, 100, 101, 150, 250, 500, 999, 1000, 1001, 2500, 5000,
  10_000, 12_345.6, 100_000, 1_000_000,
];

/** The path prefix core gives a source's errors; the checks validate as the first source. */
const ENTRY = "plugins[0]";
const TYPE_PATTERN = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** Runs every check and returns one result per check; never throws. */
export async function checkPlugin(plugin: unknown, options: PluginTestOptions): Promise<PluginCheckResult[]> {
  const results: PluginCheckResult[] = [];
  for (const check of pluginChecks) results.push(await runPluginCheck(check.id, plugin, options));
  return results;
}

/** Runs one check; a failing plugin gives a failed result, never an exception (an unknown `id` throws). */
export async function runPluginCheck(
  id: PluginCheckId,
  plugin: unknown,
  options: PluginTestOptions,
): Promise<PluginCheckResult> {
  const check = pluginChecks.find((c) => c.id === id);
  if (!check) throw new TypeError(`unknown plugin check "${id}"`);
  try {
    const note = await runners[id](plugin, resolve(options));
    return { ...check, ok: true, message: note ?? "" };
  } catch (error) {
    const message = error instanceof CheckFailure ? error.message : `unexpected error: ${describeError(error)}`;
    return { ...check, ok: false, message };
  }
}

type Resolved = Required<Omit<PluginTestOptions, "sampleValues">> & { sampleValues: readonly number[] };

function resolve(options: PluginTestOptions): Resolved {
  return {
    validOptions: options.validOptions ?? {},
    invalidOptions: options.invalidOptions ?? [],
    setup: options.setup ?? (() => ({})),
    sampleValues: options.sampleValues ?? defaultSampleValues,
    abortTimeoutMs: options.abortTimeoutMs ?? 1000,
    timeoutMs: options.timeoutMs ?? 5000,
  };
}

/** A check's verdict, as opposed to a bug in the kit or a crash worth reporting as such. */
class CheckFailure extends Error {}

function fail(message: string): never {
  throw new CheckFailure(message);
}

type Runner = (plugin: unknown, options: Resolved) => Promise<string | undefined>;

const runners: Record<PluginCheckId, Runner> = {
  async shape(value) {
    const problems = shapeProblems(value);
    if (problems.length > 0) fail(problems.join("\n"));
    return undefined;
  },

  async "api-version"(value) {
    if (typeof value !== "object" || value === null) fail(`the default export is ${show(value)}, not a plugin`);
    const { apiVersion, type } = value as { apiVersion?: unknown; type?: unknown };
    const name = typeof type === "string" ? `plugin "${type}"` : "the plugin";
    // A plain object that satisfies PluginDefinition may leave the version out: it means this core's.
    if (apiVersion === undefined) return `no apiVersion: taken as version ${PLUGIN_API_VERSION}`;
    if (typeof apiVersion !== "number" || !SUPPORTED_PLUGIN_API_VERSIONS.includes(apiVersion)) {
      fail(
        `${name} was built for plugin API version ${show(apiVersion)}, but this @dynosaur/core runs versions ${SUPPORTED_PLUGIN_API_VERSIONS.join(" and ")}: ` +
          `rebuild it with definePlugin() from a @dynosaur/core that implements version ${PLUGIN_API_VERSION}`,
      );
    }
    return undefined;
  },

  async "json-schema"(value) {
    const plugin = asPlugin(value);
    let schema: Record<string, unknown>;
    try {
      // Input mode: the JSON Schema describes what a config file may contain.
      schema = z.toJSONSchema(pluginOptionsSchema(plugin), { io: "input" }) as Record<string, unknown>;
      JSON.stringify(schema);
    } catch (error) {
      fail(
        `z.toJSONSchema cannot represent the option schema (${describeError(error)}). Options come from YAML or JSON: ` +
          "use strings, numbers, booleans, enums, arrays and objects, and turn them into richer values in create()",
      );
    }
    const properties = (schema.properties ?? {}) as Record<string, unknown>;
    const missing = Object.keys(plugin.options.shape).filter((key) => !(key in properties));
    if (schema.type !== "object" || missing.length > 0) {
      fail(
        `the JSON Schema lacks the options ${missing.map((k) => `"${k}"`).join(", ") || "(all)"}: ${JSON.stringify(schema)}`,
      );
    }
    return undefined;
  },

  async "valid-options"(value, options) {
    return withInstance(value, options, async () => undefined);
  },

  async "invalid-options"(value, options) {
    const plugin = asPlugin(value);
    const cases = options.invalidOptions;
    if (cases.length === 0) {
      if (Object.keys(plugin.options.shape).length === 0) return "the plugin has no options of its own";
      fail("no invalidOptions given: add a { options, path } case for each kind of mistake a user can make");
    }
    return withFixture(options, async (fixture) => {
      const problems: string[] = [];
      for (const c of cases) {
        const entry = { type: plugin.type, ...options.validOptions, ...fixture.options, ...c.options };
        const problem = await invalidCaseProblem(plugin, entry, c, fixture, options.timeoutMs);
        if (problem) problems.push(problem);
      }
      if (problems.length > 0) fail(problems.join("\n"));
      return `${cases.length} invalid case(s) rejected`;
    });
  },

  async retrieve(value, options) {
    return withInstance(value, options, async (instance) => {
      const controller = new AbortController();
      const outcome = await settle(() => instance.retrieve(controller.signal), options.timeoutMs);
      if (outcome.kind === "timeout") {
        controller.abort();
        fail(
          `retrieve did not settle within ${options.timeoutMs} ms: do the valid options (with setup()'s fixture) reach a service that answers?`,
        );
      }
      if (outcome.kind === "rejected") {
        fail(
          `retrieve rejected: ${describeError(outcome.error)}. With the valid options (and setup()'s fixture) it must produce a reading`,
        );
      }
      const reading = outcome.value as unknown;
      if (typeof reading === "object" && reading !== null) {
        const { value, busy } = reading as { value?: unknown; busy?: unknown };
        if (typeof value !== "number" || !Number.isFinite(value))
          fail(`retrieve resolved to { value: ${show(value)} }: value must be a finite number`);
        if (busy !== undefined && !(typeof busy === "number" && Number.isFinite(busy) && busy >= 0)) {
          fail(`retrieve resolved to { busy: ${show(busy)} }: busy must be a finite number >= 0 (or left out)`);
        }
        return `read ${value}${busy === undefined ? "" : `, ${busy} busy`}`;
      }
      if (typeof reading !== "number" || !Number.isFinite(reading))
        fail(`retrieve resolved to ${show(reading)}, not a finite number or { value, busy }`);
      return `read ${reading}`;
    });
  },

  async "retrieve-abort"(value, options) {
    const ms = options.abortTimeoutMs;
    const advice =
      "check signal.throwIfAborted() first and pass the signal on to ctx.http.request({ ..., signal }) and ctx.clock.sleep(ms, signal)";
    return withInstance(value, options, async (instance) => {
      const early = new AbortController();
      early.abort();
      const first = await settle(() => instance.retrieve(early.signal), ms);
      if (first.kind === "timeout")
        fail(`given an already-aborted signal, retrieve did not settle within ${ms} ms: ${advice}`);
      if (first.kind === "resolved")
        fail(
          `given an already-aborted signal, retrieve resolved to ${show(first.value)} instead of rejecting: ${advice}`,
        );

      const late = new AbortController();
      const pending = (async () => instance.retrieve(late.signal))();
      let settledEarly = false;
      pending.then(
        () => (settledEarly = true),
        () => (settledEarly = true),
      );
      // One turn of the event loop lets the reading get under way (a request connecting, a sleep started).
      await new Promise((done) => setImmediate(done));
      if (settledEarly)
        return "retrieve finished before it could be aborted mid-flight; the already-aborted case passed";
      late.abort();
      const second = await settle(() => pending, ms);
      if (second.kind === "timeout")
        fail(`retrieve did not settle within ${ms} ms of its signal aborting mid-flight: ${advice}`);
      if (second.kind === "resolved")
        fail(
          `retrieve resolved to ${show(second.value)} after its signal aborted; it must reject once aborted: ${advice}`,
        );
      return undefined;
    });
  },

  async "estimate-whole"(value, options) {
    return withInstance(value, options, async (instance) => {
      const bad = estimates(instance, options.sampleValues).filter(
        ({ dynos }) => !(typeof dynos === "number" && Number.isInteger(dynos) && dynos >= 0),
      );
      if (bad.length > 0) {
        const listed = bad.slice(0, 3).map(({ reading, dynos }) => `estimateDynos(${reading}) = ${show(dynos)}`);
        fail(
          `${listed.join(", ")}${bad.length > 3 ? ` and ${bad.length - 3} more` : ""}: dynos must be whole numbers >= 0 (round up with Math.ceil, clamp with Math.max(0, ...))`,
        );
      }
      return undefined;
    });
  },

  async "estimate-monotone"(value, options) {
    return withInstance(value, options, async (instance) => {
      const results = estimates(instance, options.sampleValues);
      if (results.length < 2) fail("sampleValues needs at least two distinct readings");
      for (const [i, higher] of results.entries()) {
        const lower = results[i - 1];
        if (
          lower &&
          typeof higher.dynos === "number" &&
          typeof lower.dynos === "number" &&
          higher.dynos < lower.dynos
        ) {
          fail(
            `estimateDynos(${lower.reading}) = ${lower.dynos} but estimateDynos(${higher.reading}) = ${higher.dynos}: ` +
              "a larger reading must never need fewer dynos",
          );
        }
      }
      return undefined;
    });
  },

  async "close-twice"(value, options) {
    return withInstance(value, options, async (instance) => {
      if (instance.close === undefined) return "no close(): nothing to release";
      for (const which of ["first", "second"]) {
        const outcome = await settle(() => instance.close?.(), options.timeoutMs);
        if (outcome.kind === "timeout") fail(`the ${which} close() did not settle within ${options.timeoutMs} ms`);
        if (outcome.kind === "rejected") {
          fail(
            `the ${which} close() threw: ${describeError(outcome.error)}. Core may close an instance more than once: make close() idempotent`,
          );
        }
      }
      return undefined;
    });
  },
};

function shapeProblems(value: unknown): string[] {
  if (typeof value !== "object" || value === null) {
    return [
      `the default export is ${show(value)}, not an object: export default definePlugin({ type, unit, options, create })`,
    ];
  }
  const p = value as Record<string, unknown>;
  if (!("type" in p) && typeof p.default === "object" && p.default !== null) {
    return ["this is a module namespace, not a plugin: pass the module's default export"];
  }
  const problems: string[] = [];
  if (typeof p.type !== "string" || !TYPE_PATTERN.test(p.type)) {
    problems.push(`type is ${show(p.type)}: it must be lowercase words joined by hyphens, e.g. "google-analytics"`);
  }
  if (p.aliases !== undefined) {
    if (!Array.isArray(p.aliases) || !p.aliases.every((a) => typeof a === "string" && a.length > 0)) {
      problems.push(`aliases is ${show(p.aliases)}: it must be an array of non-empty strings`);
    } else if (p.aliases.includes(p.type)) {
      problems.push(`aliases repeats the type "${String(p.type)}"`);
    }
  }
  if (typeof p.unit !== "string" || p.unit.trim() === "")
    problems.push(`unit is ${show(p.unit)}: it must name what a reading counts, e.g. "active users"`);
  if (p.description !== undefined && typeof p.description !== "string")
    problems.push(`description is ${show(p.description)}: it must be a string`);
  if (!isZodObject(p.options))
    problems.push(`options is ${show(p.options)}: it must be a zod object schema, e.g. z.object({ ... })`);
  if (typeof p.create !== "function")
    problems.push(`create is ${show(p.create)}: it must be a function (options, ctx) => instance`);
  if (problems.length === 0) {
    // Whatever core itself refuses at load time must fail here too (the version has its own check).
    try {
      checkPluginShape({ ...p, apiVersion: PLUGIN_API_VERSION }, "the default export");
    } catch (error) {
      problems.push(describeError(error));
    }
  }
  return problems;
}

function isZodObject(value: unknown): boolean {
  // Structural, so a plugin whose zod is another copy of v4 still passes.
  const def = (value as { _zod?: { def?: { type?: unknown } } } | null)?._zod?.def;
  return def?.type === "object" && typeof (value as { shape?: unknown }).shape === "object";
}

function asPlugin(value: unknown): PluginDefinition {
  const problems = shapeProblems(value);
  if (problems.length > 0) fail(`the default export is not a usable plugin (see the shape check): ${problems[0]}`);
  return value as PluginDefinition;
}

async function withFixture<T>(options: Resolved, run: (fixture: PluginFixture) => Promise<T>): Promise<T> {
  let fixture: PluginFixture;
  try {
    fixture = (await options.setup()) ?? {};
  } catch (error) {
    fail(`setup() failed: ${describeError(error)}`);
  }
  try {
    return await run(fixture);
  } finally {
    await settle(() => fixture.close?.(), options.timeoutMs);
  }
}

/** Creates an instance from the valid options (as core would), runs `use`, then closes it all. */
async function withInstance<T>(
  value: unknown,
  options: Resolved,
  use: (instance: PluginInstance) => Promise<T>,
): Promise<T> {
  const plugin = asPlugin(value);
  return withFixture(options, async (fixture) => {
    let parsed: ReturnType<typeof parsePluginOptions>;
    try {
      parsed = parsePluginOptions(plugin, { type: plugin.type, ...options.validOptions, ...fixture.options }, ENTRY);
    } catch (error) {
      fail(`the valid options were rejected: ${describeError(error)}`);
    }
    const ctx = createTestContext({ name: parsed.name, http: fixture.http });
    try {
      const created = await settle(() => plugin.create(parsed, ctx), options.timeoutMs);
      if (created.kind === "timeout") fail(`create() did not settle within ${options.timeoutMs} ms`);
      if (created.kind === "rejected") fail(`create() threw on the valid options: ${describeError(created.error)}`);
      const instance = created.value as Partial<PluginInstance> | null | undefined;
      const problems = instanceProblems(instance);
      if (problems.length > 0) fail(`create() returned an unusable instance: ${problems.join("; ")}`);
      try {
        return await use(instance as PluginInstance);
      } finally {
        await settle(() => instance?.close?.(), options.timeoutMs);
      }
    } finally {
      await ctx.close();
    }
  });
}

function instanceProblems(instance: Partial<PluginInstance> | null | undefined): string[] {
  if (typeof instance !== "object" || instance === null) return [`it is ${show(instance)}, not an object`];
  const problems: string[] = [];
  if (typeof instance.retrieve !== "function") problems.push("retrieve(signal) is missing");
  if (typeof instance.estimateDynos !== "function") problems.push("estimateDynos(value) is missing");
  if (instance.close !== undefined && typeof instance.close !== "function") problems.push("close is not a function");
  return problems;
}

async function invalidCaseProblem(
  plugin: PluginDefinition,
  entry: Record<string, unknown>,
  c: InvalidOptionsCase,
  fixture: PluginFixture,
  timeoutMs: number,
): Promise<string | undefined> {
  const label = showOptions(c.options);
  let parsed: z.output<PluginDefinition["options"]> & SourceOptions;
  try {
    parsed = parsePluginOptions(plugin, entry, ENTRY);
  } catch (error) {
    return pathProblem(error, c, label);
  }
  // The schema let it through; create() may still refuse what a schema cannot check.
  const ctx = createTestContext({ name: parsed.name, http: fixture.http });
  try {
    const outcome = await settle(() => plugin.create(parsed, ctx), timeoutMs);
    if (outcome.kind === "rejected") return pathProblem(outcome.error, c, label);
    if (outcome.kind === "timeout") return `${label}: create() did not settle within ${timeoutMs} ms`;
    await settle(() => (outcome.value as Partial<PluginInstance> | undefined)?.close?.(), timeoutMs);
    return `${label} was accepted; expected an error at ${fullPath(c.path)}`;
  } finally {
    await ctx.close();
  }
}

function pathProblem(error: unknown, c: InvalidOptionsCase, label: string): string | undefined {
  const full = fullPath(c.path);
  // Structural, like isZodObject: an error class from another copy of core still counts.
  const e = error as { code?: unknown; exitCode?: unknown; path?: unknown; message?: unknown } | null;
  if (typeof e !== "object" || e === null || typeof e.code !== "string" || e.exitCode !== 2) {
    return `${label} was rejected with "${describeError(error)}", which is not a config error: throw inputError("DYNO_CONFIG_INVALID", message, { path: "${c.path}" }) from create()`;
  }
  const message = typeof e.message === "string" ? e.message : "";
  const named =
    e.path === full ||
    (c.path !== "" && e.path === c.path) ||
    message.split("\n").some((line) => line.startsWith(`${full}:`));
  if (!named)
    return `${label} was rejected at ${typeof e.path === "string" && e.path ? e.path : "no path"}, not at ${full}: ${message}`;
  return undefined;
}

function fullPath(path: string): string {
  if (path === "") return ENTRY;
  return path.startsWith("[") ? `${ENTRY}${path}` : `${ENTRY}.${path}`;
}

function estimates(instance: PluginInstance, readings: readonly number[]): { reading: number; dynos: unknown }[] {
  const sorted = [...new Set(readings)].sort((a, b) => a - b);
  return sorted.map((reading) => {
    try {
      // As core calls it (contract v2): with how many dynos run now.
      return { reading, dynos: instance.estimateDynos(reading, { current: 1, process: "web" }) as unknown };
    } catch (error) {
      return fail(`estimateDynos(${reading}) threw: ${describeError(error)}`);
    }
  });
}

type Outcome<T> = { kind: "resolved"; value: T } | { kind: "rejected"; error: unknown } | { kind: "timeout" };

/** Runs `start` (a synchronous throw counts as a rejection) and waits at most `ms` for it to settle. */
async function settle<T>(start: () => T | PromiseLike<T>, ms: number): Promise<Outcome<Awaited<T>>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Outcome<Awaited<T>>>((done) => {
    timer = setTimeout(() => done({ kind: "timeout" }), ms);
  });
  const run = (async () => start())().then(
    (value): Outcome<Awaited<T>> => ({ kind: "resolved", value: value as Awaited<T> }),
    (error): Outcome<Awaited<T>> => ({ kind: "rejected", error }),
  );
  try {
    return await Promise.race([run, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object" && value !== null) return "an object";
  return String(value);
}

function showOptions(options: Record<string, unknown>): string {
  const parts = Object.entries(options).map(([k, v]) => `${k}: ${v === undefined ? "(left out)" : safeJson(v)}`);
  return `{ ${parts.join(", ")} }`;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
