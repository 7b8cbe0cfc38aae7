import { readFile } from "node:fs/promises";
import { parseDocument } from "yaml";
import { z } from "zod";
import { alertsConfigSchema } from "./alerts/schema.js";
import { substituteEnv } from "./env.js";
import { ERROR_CATALOGUE, inputError } from "./errors.js";
import { notifyConfigSchema } from "./notify/schema.js";
import { DEFAULT_BOOT_SECONDS, DEFAULT_HEADROOM } from "./policy/forecast.js";
import { Redactor } from "./redact.js";
import { isTimeZone, type ScheduleWindow, scheduleWindowSchema } from "./schedule.js";
import { statsConfigSchema } from "./stats/schema.js";
import { parseOrThrow } from "./validate.js";
import { describeYamlError } from "./yaml-error.js";

/** The scaling policies `scaler.policy` may name (see policy/estimators.ts). */
export const SCALING_POLICIES = ["forecast", "seed", "hysteresis", "hpa"] as const;
export type ScalingPolicy = (typeof SCALING_POLICIES)[number];

/** `blackout` and `scale_down_step` when the config does not set them. */
const POLICY_PACE: Record<ScalingPolicy, { blackout: number; scale_down_step: number }> = {
  forecast: { blackout: 0, scale_down_step: 0 },
  seed: { blackout: 300, scale_down_step: 1 },
  hysteresis: { blackout: 0, scale_down_step: 0 },
  hpa: { blackout: 0, scale_down_step: 0 },
};

/**
 * The keys of the `scaler:` section. Descriptions go through `.describe()`, so `dynosaur
 * schema` (and an editor reading it) shows them; defaults reach the JSON Schema as `default`.
 */
const scalerShape = {
  heroku_app_name: z
    .string()
    .min(1)
    .optional()
    .describe("Name of the Heroku app to scale (as `heroku apps` lists it). Required unless `dry_run`."),
  heroku_api_key: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Heroku API key (`heroku authorizations:create`): write `${HEROKU_API_KEY}` and keep the key in the environment. Required unless `dry_run`.",
    ),
  process_type: z.string().min(1).default("web").describe("Process type whose formation is scaled."),
  min_dynos: z.number().int().min(0).default(1).describe("Fewest dynos ever run."),
  max_dynos: z.number().int().min(1).default(10).describe("Most dynos ever run."),
  interval: z
    .number()
    .positive()
    .default(5)
    .describe("Seconds between two ticks of the engine. Sources keep their own, longer, poll interval."),
  policy: z
    .enum(SCALING_POLICIES)
    .default("forecast")
    .describe(
      "How the dyno count is decided. `forecast` (default): follow the load's recent level (up at once, down gently and never within `boot_seconds` of a scale-up), with `headroom` to spare. " +
        "`seed`: follow the largest recent reading, down one dyno at a time after the blackout (Dynosaur's original rule). " +
        "`hysteresis` and `hpa`: reference rules for `dynosaur simulate --compare` (the largest of the last 5 readings; Kubernetes' HPA).",
    ),
  headroom: z
    .number()
    .min(0)
    .default(DEFAULT_HEADROOM)
    .describe(
      "How much spare the `forecast` policy keeps, from cheapest (0) to safest. 0.2 (default): dynos sized for the load's recent level, which rises at once and eases off after a peak; a bursty load steps down slowly between bursts. Below 0.2 dynos may run up to 2 % over their capacity and drop at once after a burst (cheapest at 0). Each 0.1 above keeps a fifth of the load's typical minute-to-minute swing spare and lets the level ease off more slowly after a peak: 0.5 or more for an app that must rarely queue. `dynosaur tune` measures each value on your traffic.",
    ),
  boot_seconds: z
    .number()
    .min(0)
    .default(DEFAULT_BOOT_SECONDS)
    .describe(
      "Seconds from asking Heroku for a dyno to it serving requests. The `forecast` policy never removes a dyno this soon after adding one; `dynosaur simulate` assumes it unless `--boot-seconds`.",
    ),
  blackout: z
    .number()
    .min(0)
    .optional()
    .describe(
      "Seconds after any change of the formation during which no scale-down happens. Default 300 under `policy: seed`, 0 under the other policies (the forecast policy holds for `boot_seconds` after a scale-up and within its band by itself).",
    ),
  scale_down_step: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe(
      "Most dynos removed by one scale-down; 0 goes straight to the estimate. Default 1 under `policy: seed`, 0 under the other policies.",
    ),
  dry_run: z
    .boolean()
    .default(false)
    .describe("Decide but never talk to Heroku: the formation is simulated, starting at `min_dynos`."),
  stats_file: z
    .string()
    .min(1)
    .default("stats.txt")
    .describe("CSV file every tick is appended to in a dry run (relative to the working directory)."),
  heroku_api_url: z
    .url()
    .default("https://api.heroku.com")
    .describe("Base URL of the Heroku Platform API (a proxy, or a fake in tests)."),
  heroku_poll_interval: z
    .number()
    .positive()
    .default(60)
    .describe(
      "Seconds between two reads of the formation when nothing changes (it is always read right before a change too), so a manual `heroku ps:scale` is noticed.",
    ),
  heroku_timeout: z.number().positive().default(10).describe("Seconds one Heroku API call may take."),
  timezone: z
    .string()
    .refine(isTimeZone, "not an IANA time zone this Node.js knows (e.g. Europe/Helsinki, America/New_York, UTC)")
    .default("UTC")
    .describe("IANA time zone the `processes.<type>.schedule` windows are in, e.g. `Europe/Helsinki`."),
  librato_email: z
    .string()
    .optional()
    .describe("Seed-era Librato account email: becomes a `stats: [{type: librato}]` entry (prefer `stats:`)."),
  librato_api_key: z
    .string()
    .optional()
    .describe("Seed-era Librato API token: becomes a `stats: [{type: librato}]` entry (prefer `stats:`)."),
};

/** Seed-era and short names accepted for scaler keys, and the key each stands for. */
export const SCALER_ALIASES: Readonly<Record<string, keyof typeof scalerShape>> = {
  min_web_dynos: "min_dynos",
  max_web_dynos: "max_dynos",
  min: "min_dynos",
  max: "max_dynos",
  app: "heroku_app_name",
  api_key: "heroku_api_key",
};

/** The `scaler:` section, as the engine gets it: canonical keys only (`parseConfig` renames aliases first). */
export const scalerConfigSchema = z
  .object(scalerShape)
  .strict()
  .superRefine((s, ctx) => {
    if (s.min_dynos > s.max_dynos) {
      ctx.addIssue({
        code: "custom",
        path: ["min_dynos"],
        message: `min_dynos (${s.min_dynos}) is greater than max_dynos (${s.max_dynos}): lower min_dynos or raise max_dynos`,
      });
    }
    if (!s.dry_run) {
      for (const key of ["heroku_app_name", "heroku_api_key"] as const) {
        if (!s[key])
          ctx.addIssue({
            code: "custom",
            path: [key],
            message: `required unless dry_run is true (${key === "heroku_api_key" ? "e.g. heroku_api_key: ${HEROKU_API_KEY}" : "the name shown by `heroku apps`"})`,
          });
      }
    }
  })
  // The pace of scale-downs depends on the policy: the seed's defaults would only add cost to a forecast.
  .transform((s) => ({
    ...s,
    blackout: s.blackout ?? POLICY_PACE[s.policy].blackout,
    scale_down_step: s.scale_down_step ?? POLICY_PACE[s.policy].scale_down_step,
  }));

export type ScalerConfig = z.output<typeof scalerConfigSchema>;

/** One process type's limits (`processes.<type>`); left-out keys come from `scaler:`. */
export const processConfigSchema = z
  .object({
    min_dynos: z.number().int().min(0).optional().describe("Fewest dynos; 0 lets a non-web process type scale to zero"),
    max_dynos: z.number().int().min(1).optional().describe("Most dynos"),
    blackout: z.number().min(0).optional().describe("Seconds after a change during which no scale-down happens"),
    scale_down_step: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("Most dynos removed at once; 0 goes straight to the estimate"),
    headroom: z
      .number()
      .min(0)
      .optional()
      .describe(
        "Spare the `forecast` policy keeps for this process type, from cheapest (0) to safest (0.2 sizes for the load's level; e.g. 0.5 for more); scaler.headroom when left out",
      ),
    hold_while_busy: z
      .boolean()
      .default(false)
      .describe("Never scale down while a source reports running jobs: a scale-down would kill them"),
    schedule: z
      .array(scheduleWindowSchema)
      .default([])
      .describe("Windows (in scaler.timezone) with their own min_dynos/max_dynos; the first matching wins"),
  })
  .strict();

/** A process type as the engine runs it: every limit known. */
export interface ProcessConfig {
  min_dynos: number;
  max_dynos: number;
  blackout: number;
  scale_down_step: number;
  /** Spare capacity under the `forecast` policy (scaler.headroom unless the process type sets its own). */
  headroom: number;
  hold_while_busy: boolean;
  schedule: ScheduleWindow[];
}

/** Longest source name, plugin type and process type. */
export const NAME_MAX = 100;

/** One `plugins[]` entry before its plugin is known: the plugin validates the rest. */
const pluginEntrySchema = z.looseObject({
  // Names go into every log line, stat and event of the source: kept to a sane length.
  name: z.string().min(1).max(NAME_MAX, `at most ${NAME_MAX} characters`).optional(),
  type: z.string().min(1).max(NAME_MAX, `at most ${NAME_MAX} characters`),
  process: z.string().min(1).max(NAME_MAX, `at most ${NAME_MAX} characters`).optional(),
});

const topLevelShape = {
  use: z
    .array(z.string().min(1))
    .optional()
    .describe(
      "Plugin packages to load: short names (`random`), scoped names (`@acme/foo`), full package names or relative paths (`./plugins/mine.js`).",
    ),
  plugins: z
    .array(pluginEntrySchema)
    .min(1, "list at least one plugin")
    .describe("The metric sources; the largest estimate wins."),
  stats: statsConfigSchema.describe(
    "Stats reporters every tick's figures go to (`librato`, `otlp`, `console`, `file`).",
  ),
  alerts: alertsConfigSchema.optional().describe("Error alerts by email (SendGrid) and heartbeat pings."),
  notify: notifyConfigSchema.optional(),
  processes: z
    .record(
      z
        .string()
        .max(NAME_MAX, `at most ${NAME_MAX} characters`)
        .regex(/^[a-z0-9_-]+$/i, "a process type as in the Procfile, e.g. worker"),
      processConfigSchema,
    )
    .optional()
    .describe(
      "Process types and their limits, e.g. `web` and `worker`; without it, `scaler:` describes the one process type.",
    ),
};

export const configSchema = z
  .object({
    ...topLevelShape,
    scaler: scalerConfigSchema.describe("How the Heroku formation is scaled: the app, the bounds, the pace."),
  })
  .strict();

/** A validated config: `processes` always lists every process type the engine scales. */
export type DynosaurConfig = Omit<z.output<typeof configSchema>, "processes"> & {
  processes: Record<string, ProcessConfig>;
};
export type PluginEntry = z.output<typeof pluginEntrySchema>;

/**
 * The config as a file may write it, for its JSON Schema (`dynosaur schema`): the scaler
 * section also lists the seed-era and short names `parseConfig` accepts, each marked
 * deprecated with the key to write instead. Checks JSON Schema cannot express (min <= max,
 * Heroku keys unless dry run, an alias next to its key) stay with `parseConfig`.
 */
export const configInputSchema = z
  .object({
    ...topLevelShape,
    scaler: z
      .object({
        ...scalerShape,
        ...Object.fromEntries(
          Object.entries(SCALER_ALIASES).map(([alias, key]) => [
            alias,
            withoutDefault(scalerShape[key]).meta({
              deprecated: true,
              description: `Deprecated: an older name of \`${key}\`; write \`${key}\` instead.`,
            }),
          ]),
        ),
      })
      .strict()
      .describe("How the Heroku formation is scaled: the app, the bounds, the pace."),
  })
  .strict();

/** `schema` without its default, optional: an alias must not advertise the default of its key. */
function withoutDefault(schema: z.ZodType): z.ZodOptional<z.ZodType> {
  const def = schema._zod.def as { type: string; innerType?: z.ZodType };
  const inner = def.type === "default" || def.type === "optional" ? def.innerType : undefined;
  return (inner ?? schema).optional();
}

export interface ParsedConfig {
  config: DynosaurConfig;
  /** Secret values found in the config, for redacting logs, errors, emails and stats. */
  redactor: Redactor;
}

export interface ParseConfigOptions {
  /**
   * A dry run whatever the file says (`--dry-run`): `scaler.dry_run` is forced on. In a dry
   * run, by either means, an unset variable in a Heroku setting drops that setting instead
   * of failing: a dry run never talks to Heroku.
   */
  dryRun?: boolean;
  /** Secrets already known; those of this config are added to it. @default a new Redactor */
  redactor?: Redactor;
  /**
   * Paths whose value came from a whole `${VAR}` before (see `envReferencesFor`): for a config
   * made from a parsed one, whose plugin options still hold the variables' text.
   */
  envReferences?: Iterable<string>;
}

/**
 * Validates a raw config object (already parsed from YAML/JSON): substitutes `${VAR}`,
 * maps seed-era key names, checks the shape. Plugin options are checked later, once the
 * plugins are loaded (`parsePluginOptions`).
 */
export function parseConfig(
  raw: unknown,
  env: Record<string, string | undefined> = process.env,
  options: ParseConfigOptions = {},
): ParsedConfig {
  if (raw === null || raw === undefined) {
    throw inputError("DYNO_CONFIG_EMPTY", "the config is empty");
  }
  if (typeof raw !== "object" || Array.isArray(raw)) {
    throw inputError("DYNO_CONFIG_INVALID", "the config must be a mapping with `scaler:` and `plugins:` sections", {
      hint: ERROR_CATALOGUE.DYNO_CONFIG_EMPTY,
    });
  }
  const scaler = (raw as { scaler?: unknown }).scaler;
  const dryRun = options.dryRun === true || (isRecord(scaler) && scaler.dry_run === true);
  const redactor = options.redactor ?? new Redactor();
  const secrets = new Set<string>();
  const fromEnv = new Set<string>(options.envReferences);
  const substituted = substituteEnv(raw, env, secrets, {
    mayBeUnset: (path) => dryRun && isHerokuSetting(path),
    wholeReferences: fromEnv,
  }) as Record<string, unknown>;
  for (const s of secrets) redactor.add(s);
  const normalized = normalize(substituted);
  // Only into a scaler section that is there: a misspelt one must be reported as it is.
  if (options.dryRun && isRecord(normalized.scaler)) normalized.scaler = { ...normalized.scaler, dry_run: true };
  redactor.collect(normalized);
  const parsed = redactor.guard(() => parseOrThrow(configSchema, normalized, "", undefined, fromEnv));
  const config: DynosaurConfig = { ...parsed, processes: resolveProcesses(parsed) };
  const names = new Map<string, number>();
  config.plugins.forEach((p, i) => {
    const name = p.name ?? p.type;
    const first = names.get(name);
    if (first !== undefined) {
      throw inputError(
        "DYNO_CONFIG_INVALID",
        `plugins[${i}].name: "${name}" is already the name of plugins[${first}]`,
        {
          path: `plugins[${i}].name`,
          hint: "give each plugin a unique `name` (two plugins of the same type need names)",
        },
      );
    }
    names.set(name, i);
    const process = p.process ?? defaultProcess(config);
    if (!(process in config.processes)) {
      throw inputError(
        "DYNO_CONFIG_INVALID",
        `plugins[${i}].process: no process type "${process}" in processes (${Object.keys(config.processes).join(", ")})`,
        {
          path: `plugins[${i}].process`,
          hint: `add processes.${process} or set process: to one of them`,
        },
      );
    }
  });
  Object.defineProperty(config, PARSED, { value: true, enumerable: false });
  Object.defineProperty(config, FROM_ENV, { value: fromEnv, enumerable: false });
  return { config, redactor };
}

const PARSED = Symbol.for("dynosaur.parsedConfig");
const FROM_ENV = Symbol.for("dynosaur.wholeEnvReferences");

/** The paths of a parsed config whose value was one whole `${VAR}` reference (for the plugins' options). */
export function envReferences(config: DynosaurConfig): ReadonlySet<string> | undefined {
  return (config as { [FROM_ENV]?: ReadonlySet<string> })[FROM_ENV];
}

/**
 * `config`'s whole-`${VAR}` paths for a config made from it that keeps the plugins at indexes
 * `kept`, in that order (a replay's copy): for `ParseConfigOptions.envReferences`.
 */
export function envReferencesFor(config: DynosaurConfig, kept: readonly number[]): string[] {
  return [...(envReferences(config) ?? [])].flatMap((path) => {
    const plugin = /^plugins\[(\d+)\](.*)$/.exec(path);
    if (!plugin) return [path];
    const at = kept.indexOf(Number(plugin[1]));
    return at === -1 ? [] : [`plugins[${at}]${plugin[2]}`];
  });
}

/** Whether `value` is a config returned by `parseConfig` (so it need not be parsed again). */
export function isParsed(value: unknown): value is DynosaurConfig {
  return typeof value === "object" && value !== null && (value as { [PARSED]?: boolean })[PARSED] === true;
}

/** Every process type with its limits: `processes:` over the `scaler:` defaults, or the one of `scaler:`. */
function resolveProcesses(c: z.output<typeof configSchema>): Record<string, ProcessConfig> {
  const s = c.scaler;
  const base = {
    min_dynos: s.min_dynos,
    max_dynos: s.max_dynos,
    blackout: s.blackout,
    scale_down_step: s.scale_down_step,
    headroom: s.headroom,
    hold_while_busy: false,
    schedule: [],
  };
  if (!c.processes) return { [s.process_type]: base };
  const out: Record<string, ProcessConfig> = {};
  for (const [type, p] of Object.entries(c.processes)) {
    const resolved = {
      ...base,
      ...Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)),
    } as ProcessConfig;
    const where = `processes.${type}`;
    if (resolved.min_dynos > resolved.max_dynos) {
      throw inputError(
        "DYNO_CONFIG_INVALID",
        `${where}.min_dynos: ${resolved.min_dynos} is greater than max_dynos (${resolved.max_dynos})`,
        { path: `${where}.min_dynos`, hint: "lower min_dynos or raise max_dynos" },
      );
    }
    if (type === "web" && resolved.min_dynos === 0) {
      throw inputError("DYNO_CONFIG_INVALID", `${where}.min_dynos: 0 would take the app offline`, {
        path: `${where}.min_dynos`,
        hint: "web needs at least 1 dyno; scale-to-zero is for worker process types",
      });
    }
    resolved.schedule.forEach((w, i) => {
      checkWindow(w, `${where}.schedule[${i}]`, resolved, {
        min: p.min_dynos === undefined ? "scaler.min_dynos" : `${where}.min_dynos`,
        max: p.max_dynos === undefined ? "scaler.max_dynos" : `${where}.max_dynos`,
      });
      if (type === "web" && w.min_dynos === 0) {
        throw inputError(
          "DYNO_CONFIG_INVALID",
          `${where}.schedule[${i}].min_dynos: 0 would take the app offline during the window`,
          {
            path: `${where}.schedule[${i}].min_dynos`,
            hint: "web needs at least 1 dyno; scale-to-zero is for worker process types",
          },
        );
      }
    });
    out[type] = resolved;
  }
  return out;
}

/**
 * Refuses a schedule window whose limits contradict each other once the process type's own
 * fill in what the window leaves out: the engine would otherwise scale below the minimum in
 * force (or above the maximum) for as long as the window lasts. `from` names where the
 * process type's own limits were set.
 */
function checkWindow(
  w: ScheduleWindow,
  where: string,
  own: { min_dynos: number; max_dynos: number },
  from: { min: string; max: string },
): void {
  const min = w.min_dynos ?? own.min_dynos;
  const max = w.max_dynos ?? own.max_dynos;
  if (min <= max) return;
  if (w.min_dynos !== undefined && w.max_dynos !== undefined) {
    throw inputError(
      "DYNO_CONFIG_INVALID",
      `${where}.min_dynos: ${min} is greater than the window's max_dynos (${max})`,
      {
        path: `${where}.min_dynos`,
        hint: "lower the window's min_dynos or raise its max_dynos",
      },
    );
  }
  if (w.max_dynos !== undefined) {
    throw inputError(
      "DYNO_CONFIG_INVALID",
      `${where}.max_dynos: ${max} is below min_dynos (${min}, from ${from.min}), which stays in force during the window`,
      {
        path: `${where}.max_dynos`,
        hint: `raise the window's max_dynos to at least ${min}, or give the window its own min_dynos (at most ${max})`,
      },
    );
  }
  throw inputError(
    "DYNO_CONFIG_INVALID",
    `${where}.min_dynos: ${min} is greater than max_dynos (${max}, from ${from.max}), which stays in force during the window`,
    {
      path: `${where}.min_dynos`,
      hint: `lower the window's min_dynos to at most ${max}, or give the window its own max_dynos (at least ${min})`,
    },
  );
}

/** The process type a source drives when its entry does not say: web, or the only one. */
export function defaultProcess(config: Pick<DynosaurConfig, "processes">): string {
  const types = Object.keys(config.processes);
  return types.length === 1 ? (types[0] as string) : "web";
}

function normalize(raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...raw };
  if (isRecord(raw.scaler)) out.scaler = renameKeys(raw.scaler, SCALER_ALIASES, "scaler");
  // The seed configured Librato inside `scaler:`; today it is one of the `stats:` reporters.
  if (isRecord(out.scaler) && (out.scaler.librato_email || out.scaler.librato_api_key)) {
    const stats = Array.isArray(out.stats) ? [...out.stats] : [];
    if (!stats.some((s) => isRecord(s) && s.type === "librato")) {
      stats.push({ type: "librato", email: out.scaler.librato_email, api_key: out.scaler.librato_api_key });
    }
    out.stats = stats;
  }
  return out;
}

function renameKeys(
  obj: Record<string, unknown>,
  aliases: Record<string, string>,
  path: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj)) {
    const target = aliases[key] ?? key;
    if (target in out || (target !== key && target in obj)) {
      const problem = `both "${key}" and "${target}" are set`;
      throw inputError("DYNO_CONFIG_INVALID", `${path}: ${problem}`, {
        path: `${path}.${key}`,
        problems: [{ path, message: problem }],
        hint: `keep only "${target}" ("${key}" is its older name)`,
      });
    }
    out[target] = value;
  }
  return out;
}

/** `scaler.heroku_*`, under its own name or an alias (`scaler.api_key`). */
function isHerokuSetting(path: string): boolean {
  const key = /^scaler\.([^.[]+)$/.exec(path)?.[1];
  return key !== undefined && (SCALER_ALIASES[key] ?? key).startsWith("heroku_");
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Parses YAML or JSON text; syntax errors name the line and column. */
export function parseConfigText(text: string, file = "config"): unknown {
  if (text.trim() === "") {
    throw inputError("DYNO_CONFIG_EMPTY", `${file} is empty`, {});
  }
  const doc = parseDocument(text, { uniqueKeys: true });
  const error = doc.errors[0];
  if (error) {
    const { line, column, reason } = describeYamlError(text, error);
    const where = line === null ? "an unknown position" : `line ${line}, column ${column}`;
    throw inputError("DYNO_CONFIG_SYNTAX", `${file}: YAML syntax error at ${where}: ${reason}`, {
      hint: "check the indentation and quoting on that line (YAML indents with spaces, not tabs)",
    });
  }
  const value = doc.toJS();
  if (value === null || value === undefined) {
    throw inputError("DYNO_CONFIG_EMPTY", `${file} has no settings (only comments or blank lines)`, {});
  }
  return value;
}

/** Reads and parses a config file (YAML or JSON). */
export async function readConfigFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw inputError(
      "DYNO_CONFIG_NOT_FOUND",
      code === "ENOENT" ? `config file ${path} does not exist` : `cannot read config file ${path} (${code ?? e})`,
      {
        hint: ERROR_CATALOGUE.DYNO_CONFIG_NOT_FOUND,
      },
    );
  }
  return parseConfigText(text, path);
}
