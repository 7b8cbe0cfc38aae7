import {
  createDispatcher,
  createRuntime,
  type DynosaurConfig,
  DynosaurError,
  describeError,
  ERROR_CATALOGUE,
  type FormationState,
  HerokuClient,
  isParsed,
  memoryLogger,
  parseConfig,
  Redactor,
  type RuntimeOptions,
} from "@dynosaur/core";
import { oneShotHint } from "./one-shot-hint.js";

type Dispatcher = NonNullable<RuntimeOptions["http"]>;

/** Seconds each check may take unless told otherwise. */
export const DOCTOR_TIMEOUT_S = 10;

export interface DoctorOptions extends Pick<RuntimeOptions, "plugins" | "env" | "redactor" | "userAgent"> {
  /** Seconds a source or Heroku may take to answer; a source's own shorter `timeout` stands. @default 10 */
  timeout?: number;
  /** Every HTTP call goes through it. @default a dispatcher made (and closed) for the checks */
  http?: Dispatcher;
}

/** What went wrong in one check, and what to do about it. Secret-free. */
export interface DoctorFailure {
  code: string;
  message: string;
  hint: string | null;
}

/** One check: a source, or the Heroku app. */
export type DoctorCheck = {
  /** A source's name, or the Heroku app's. */
  name: string;
  /** What the check is about, e.g. `newrelic → web`, `Heroku formation`. */
  what: string;
} & (
  | { kind: "source"; ok: true; value: number; unit: string; estimate: number }
  | { kind: "heroku"; ok: true; quantities: Record<string, number> }
  | { kind: "heroku"; ok: true; skipped: string }
  | { kind: "source" | "heroku"; ok: false; failure: DoctorFailure }
);

export interface DoctorReport {
  /** Every check passed (a skipped one counts as passed). */
  ok: boolean;
  app: string | null;
  timeout: number;
  checks: DoctorCheck[];
}

type ListOutcome = { ok: true; formations: FormationState[] } | { ok: false; error: unknown };

/**
 * Checks the connections a config needs, without scaling anything: builds the engine as
 * a run would (so plugin options are checked the same way, bad input throwing exit-2
 * errors), reads every source once and Heroku's formation once — in parallel, each
 * within `timeout` — and says per check what was read, or what failed and how to fix it.
 * Heroku is only read (GET), never scaled; a dry run's config skips it.
 */
export async function runDoctor(config: unknown, options: DoctorOptions): Promise<DoctorReport> {
  const env = options.env ?? process.env;
  const parsed = isParsed(config)
    ? { config, redactor: options.redactor ?? new Redactor() }
    : parseConfig(config, env, { redactor: options.redactor });
  const { redactor } = parsed;
  const timeout = options.timeout ?? DOCTOR_TIMEOUT_S;
  const checked = withTimeouts(parsed.config, timeout);
  const settings = checked.scaler;
  const http = options.http ?? createDispatcher(env);
  // The sources' failures, with their code and hint, as the engine logs them.
  const logger = memoryLogger("warn");
  let heroku: Promise<ListOutcome> | null = null;
  const readOnce = () => (heroku ??= readFormation(checked, http, timeout, options.userAgent));
  try {
    const runtime = await createRuntime(checked, {
      plugins: options.plugins,
      env,
      http,
      logger,
      redactor,
      userAgent: options.userAgent,
      // Checking sends no stats or alerts, takes no lock and never scales.
      stats: { report() {} },
      alerts: { raise() {}, clear() {} },
      leader: { isLeader: () => false, describe: () => "dynosaur doctor never scales" },
      formation: () => ({
        // The engine's read is the doctor's one read: Heroku sees a single GET.
        list: () => readOnce().then((o) => (o.ok ? o.formations : Promise.reject(o.error))),
        update: () => Promise.reject(new DynosaurError("DYNO_USAGE", "dynosaur doctor never scales")),
      }),
    });
    try {
      // Heroku is asked at once, not after the sources: the checks run side by side.
      const formation = settings.dry_run ? null : readOnce();
      await runtime.tick();
      const checks: DoctorCheck[] = runtime.status().sources.map((s): DoctorCheck => {
        const what = `${s.type} → ${s.process}`;
        if (s.value !== null && s.estimate !== null)
          return { kind: "source", name: s.name, what, ok: true, value: s.value, unit: s.unit, estimate: s.estimate };
        const logged = logger.records.findLast((r) => r.fields.source === s.name && typeof r.fields.code === "string");
        const failure: DoctorFailure = logged
          ? {
              code: String(logged.fields.code),
              message: String(logged.fields.error ?? s.lastError),
              hint: typeof logged.fields.hint === "string" ? logged.fields.hint : null,
            }
          : {
              code: "DYNO_PLUGIN_TIMEOUT",
              message: s.lastError ?? `source ${s.name} gave no reading within ${timeout} s`,
              hint: null,
            };
        // The doctor's own bound may be what ran out: say how to wait longer.
        if (failure.code === "DYNO_PLUGIN_TIMEOUT")
          failure.hint = `${failure.hint ? `${failure.hint}; ` : ""}\`dynosaur doctor --timeout <s>\` waits longer`;
        return { kind: "source", name: s.name, what, ok: false, failure };
      });
      checks.push(
        formation
          ? herokuCheck(checked, await formation)
          : { kind: "heroku", name: "Heroku", what: "formation", ok: true, skipped: "dry run: Heroku is not called" },
      );
      const scrubbed = checks.map((c) => scrub(c, redactor));
      return { ok: scrubbed.every((c) => c.ok), app: settings.heroku_app_name ?? null, timeout, checks: scrubbed };
    } finally {
      await runtime.stop({ graceMs: 0 });
    }
  } finally {
    if (options.http === undefined) await http.close().catch(() => {});
  }
}

/**
 * The config with every source's `timeout` (and Heroku's) cut to `seconds`. The copy keeps
 * every own property of the parsed config, its parsed mark included, so it is not parsed again.
 */
function withTimeouts(config: DynosaurConfig, seconds: number): DynosaurConfig {
  const copy = Object.defineProperties({}, Object.getOwnPropertyDescriptors(config)) as DynosaurConfig;
  copy.plugins = config.plugins.map((entry) => {
    const own = (entry as { timeout?: unknown }).timeout;
    // A bad `timeout` is left for the plugin's validation to report with its path.
    if (own !== undefined && (typeof own !== "number" || !(own > 0))) return entry;
    return { ...entry, timeout: Math.min(own ?? seconds, seconds) };
  });
  copy.scaler = { ...config.scaler, heroku_timeout: Math.min(config.scaler.heroku_timeout, seconds) };
  return copy;
}

/** One GET of the app's formation; the key is never sent anywhere else. */
async function readFormation(
  config: DynosaurConfig,
  http: Dispatcher,
  seconds: number,
  userAgent: string | undefined,
): Promise<ListOutcome> {
  const settings = config.scaler;
  try {
    const client = new HerokuClient({
      app: settings.heroku_app_name ?? "",
      apiKey: settings.heroku_api_key ?? "",
      baseUrl: settings.heroku_api_url,
      dispatcher: http,
      timeoutMs: Math.min(settings.heroku_timeout, seconds) * 1000,
      userAgent,
    });
    return { ok: true, formations: await client.list() };
  } catch (error) {
    return { ok: false, error };
  }
}

function herokuCheck(config: DynosaurConfig, outcome: ListOutcome): DoctorCheck {
  const app = config.scaler.heroku_app_name ?? "";
  const base = { kind: "heroku" as const, name: app, what: "formation" };
  if (!outcome.ok) return { ...base, ok: false, failure: failureOf(outcome.error) };
  const found = new Map(outcome.formations.map((f) => [f.type, f.quantity]));
  const missing = Object.keys(config.processes).filter((type) => !found.has(type));
  if (missing.length > 0) {
    const has = [...found.keys()].join(", ") || "none";
    return {
      ...base,
      ok: false,
      failure: {
        code: "HEROKU_NOT_FOUND",
        message: `app ${app} has no process type ${missing.map((t) => `"${t}"`).join(", ")} in its formation (it has: ${has})`,
        hint: `each process type the config scales must be in the app's released Procfile (\`heroku ps -a ${app}\`); fix the name in the config or deploy a Procfile that declares it`,
      },
    };
  }
  return {
    ...base,
    ok: true,
    quantities: Object.fromEntries(Object.keys(config.processes).map((type) => [type, found.get(type) ?? 0])),
  };
}

function failureOf(e: unknown): DoctorFailure {
  if (e instanceof DynosaurError) return { code: e.code, message: e.message, hint: e.hint ?? null };
  return { code: "HEROKU_UNAVAILABLE", message: describeError(e), hint: null };
}

function scrub(check: DoctorCheck, redactor: Redactor): DoctorCheck {
  if (check.ok) return check;
  const { code, message, hint } = check.failure;
  // The catalogue's fix when the failure came without one: every failed check says what to do.
  const fix = hint ?? (ERROR_CATALOGUE as Record<string, string | undefined>)[code];
  return {
    ...check,
    failure: {
      code,
      message: redactor.scrub(message),
      hint: fix === undefined ? null : redactor.scrub(oneShotHint(fix)),
    },
  };
}

/** The report for a terminal: one line per check, a failure's fix under it, a summary. */
export function formatDoctorReport(report: DoctorReport): string {
  const lines = report.checks.map((c) => {
    const head = `${c.kind === "source" ? "source" : "heroku"} ${c.name} (${c.what})`;
    if (!c.ok)
      return `FAIL  ${head}: ${c.failure.code}: ${c.failure.message}${c.failure.hint ? `\n        fix: ${c.failure.hint}` : ""}`;
    if ("skipped" in c) return `skip  ${head}: ${c.skipped}`;
    if (c.kind === "source")
      return `ok    ${head}: ${c.value} ${c.unit} → ${c.estimate} dyno${c.estimate === 1 ? "" : "s"}`;
    const quantities = Object.entries(c.quantities).map(([type, n]) => `${type}=${n}`);
    return `ok    ${head}: ${quantities.join(" ")} (read only; nothing was scaled)`;
  });
  const failed = report.checks.filter((c) => !c.ok).length;
  lines.push(
    failed === 0
      ? `all ${report.checks.length} checks passed`
      : `${failed} of ${report.checks.length} checks failed (each within ${report.timeout} s)`,
  );
  return lines.join("\n");
}
