/*
 * The common task of the config page: each process type's limits (fewest and most dynos,
 * spare capacity, schedule), read from and written into the draft config. A config without
 * `processes:` has one process type, whose limits are `scaler:`'s; with it, each type's own
 * keys win and the left-out ones come from `scaler:` (as core resolves them).
 */

export type Config = Record<string, unknown>;

export const LIMIT_KEYS = ["min_dynos", "max_dynos", "headroom"] as const;
export type LimitKey = (typeof LIMIT_KEYS)[number];

/** Core's defaults, shown when neither the process type nor `scaler:` sets a key. */
const DEFAULTS: Record<LimitKey, number> = { min_dynos: 1, max_dynos: 10, headroom: 0.2 };

export interface ScheduleWindow {
  days?: string[];
  from: string;
  to: string;
  min_dynos?: number;
  max_dynos?: number;
}

export interface ProcessLimits {
  type: string;
  /** Where its keys live: `scaler` or `processes.<type>`. */
  at: string;
  /** What the process type sets itself (undefined: left out). */
  own: Partial<Record<LimitKey, number>>;
  /** What applies when it sets nothing: `scaler:`'s value, else core's default. */
  inherited: Record<LimitKey, number>;
  schedule: ScheduleWindow[];
}

const record = (v: unknown): Record<string, unknown> =>
  v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

function pick(from: Record<string, unknown>): Partial<Record<LimitKey, number>> {
  const out: Partial<Record<LimitKey, number>> = {};
  for (const k of LIMIT_KEYS) {
    const v = num(from[k]);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** Every process type of the config, with its limits. */
export function processLimits(config: Config): ProcessLimits[] {
  const scaler = record(config.scaler);
  const processes = record(config.processes);
  const scalerOwn = pick(scaler);
  const defaults = { ...DEFAULTS, ...scalerOwn };
  const types = Object.keys(processes);
  if (config.processes === undefined || types.length === 0) {
    const type = typeof scaler.process_type === "string" ? scaler.process_type : "web";
    return [{ type, at: "scaler", own: scalerOwn, inherited: DEFAULTS, schedule: [] }];
  }
  return types.map((type) => {
    const p = record(processes[type]);
    return {
      type,
      at: `processes.${type}`,
      own: pick(p),
      inherited: defaults,
      schedule: Array.isArray(p.schedule) ? (p.schedule as ScheduleWindow[]) : [],
    };
  });
}

/** The config with one limit set (a number) or left out (undefined); nothing else changes. */
export function setLimit(config: Config, at: string, key: LimitKey, value: number | undefined): Config {
  const set = (obj: Record<string, unknown>) => {
    const out = { ...obj };
    if (value === undefined) delete out[key];
    else out[key] = value;
    return out;
  };
  if (at === "scaler") return { ...config, scaler: set(record(config.scaler)) };
  const type = at.slice("processes.".length);
  const processes = record(config.processes);
  return { ...config, processes: { ...processes, [type]: set(record(processes[type])) } };
}

/** A limit's value in force: the process type's own, else the inherited one. */
export const effective = (p: ProcessLimits, key: LimitKey): number => p.own[key] ?? p.inherited[key];

/**
 * What the browser can say before the server does: fewest above most, per process type (at
 * the `min_dynos` path the server would blame), and web at 0.
 */
export function limitProblems(config: Config): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  for (const p of processLimits(config)) {
    const min = effective(p, "min_dynos");
    const max = effective(p, "max_dynos");
    if (min > max)
      out.push({
        path: `${p.at}.min_dynos`,
        message: `${p.type}: fewest (${min}) is more than most (${max}): lower min_dynos or raise max_dynos`,
      });
    if (p.at !== "scaler" && p.type === "web" && p.own.min_dynos === 0)
      out.push({ path: `${p.at}.min_dynos`, message: "web needs at least 1 dyno: 0 would take the app offline" });
  }
  return out;
}

const DAY_NAMES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/** A schedule window in words: "mon–fri 08:00–18:00: 4–10 dynos". */
export function windowText(w: ScheduleWindow): string {
  const days = w.days?.length ? (isRun(w.days) ? `${w.days[0]}–${w.days.at(-1)}` : w.days.join(", ")) : "every day";
  const limits =
    w.min_dynos !== undefined && w.max_dynos !== undefined
      ? `${w.min_dynos}–${w.max_dynos} dynos`
      : w.min_dynos !== undefined
        ? `at least ${w.min_dynos}`
        : w.max_dynos !== undefined
          ? `at most ${w.max_dynos}`
          : "the usual limits";
  return `${days} ${w.from}–${w.to}: ${limits}`;
}

/** Consecutive days of the week, in order (mon, tue, wed), written as a range. */
function isRun(days: string[]): boolean {
  if (days.length < 3) return false;
  const idx = days.map((d) => DAY_NAMES.indexOf(d));
  return idx.every((d, i) => d >= 0 && (i === 0 || d === (idx[i - 1] ?? -2) + 1));
}
