/**
 * `dynosaur tune`: replays one trace through the engine once per `headroom` of the
 * `forecast` policy and once per anchor (seed, hysteresis, hpa), then finds the
 * cost/shortfall frontier and the cheapest headroom within a shortfall target.
 */
import { DEFAULT_HEADROOM, inputError, must, z } from "@dynosaur/core";
import {
  BACKTEST_POLICIES,
  type Backtest,
  type BacktestOptions,
  type BacktestPolicy,
  type BacktestRun,
  parseForReplay,
  runBacktest,
} from "./replay.js";

/**
 * The headrooms swept unless the caller lists its own: from the cheapest to a cautious app's,
 * finer just above the default (0.2), where a little spare buys the most.
 */
export const TUNE_HEADROOMS: readonly number[] = [
  0, 0.05, 0.1, 0.15, 0.2, 0.225, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.75, 1,
];
/** The reference rules every sweep is measured against. */
export const TUNE_ANCHORS = ["seed", "hysteresis", "hpa"] as const;

export interface TuneOptions extends Omit<BacktestOptions, "policies"> {
  /** @default TUNE_HEADROOMS */
  headrooms?: readonly number[];
  /**
   * Most shortfall accepted, in % of the oracle's dyno-minutes.
   * @default the seed rule's shortfall on this trace: the cheapest setting at least as safe as the seed
   */
  maxShortfall?: number;
}

/** One replayed setting or anchor. */
export interface TunePoint {
  /** `headroom 0.2`, or the anchor's name. */
  name: string;
  kind: "setting" | "anchor";
  /** `scaler.policy` it ran. */
  policy: string;
  /** Its headroom: a setting's swept value; null for an anchor. */
  headroom: number | null;
  cost_ratio: number;
  shortfall_percent: number;
  dyno_minutes: number;
  shortfall_dyno_minutes: number;
  scale_events: number;
  /** Scale events per 24 hours of trace: the churn (each one boots or stops dynos). */
  scale_events_per_day: number;
  /** A setting no other setting beats on both cost and shortfall. */
  frontier: boolean;
  /** For an anchor: the settings that cost no more and fall short no more. */
  dominated_by: string[];
}

export interface Tune {
  backtest: Backtest;
  points: TunePoint[];
  target: { max_shortfall_percent: number; from: "option" | "seed" };
  /** The cheapest setting within the target, or (none is) the one that falls short least. */
  recommended: TunePoint;
  /** Whether the recommended setting meets the target. */
  met: boolean;
}

/** Replays every headroom and anchor, then picks the cheapest setting within the shortfall target. */
export async function runTune(options: TuneOptions): Promise<Tune> {
  const headrooms = options.headrooms ?? TUNE_HEADROOMS;
  if (headrooms.length === 0 || headrooms.some((h) => !Number.isFinite(h) || h < 0)) {
    throw inputError("DYNO_USAGE", `headrooms must be numbers >= 0, not ${headrooms.join(", ") || "none"}`);
  }
  if (options.maxShortfall !== undefined && !(Number.isFinite(options.maxShortfall) && options.maxShortfall >= 0)) {
    throw inputError("DYNO_USAGE", `the shortfall target must be a percentage >= 0, not ${options.maxShortfall}`);
  }
  const config = parseForReplay(options.config, options.env ?? process.env);
  // A forecast config keeps its own pace (blackout, step) through the sweep; any other gets the forecast's.
  const pace = config.scaler.policy === "forecast" ? {} : { blackout: 0, scale_down_step: 0 };
  const settings = headrooms.map(
    (headroom): BacktestPolicy => ({
      name: `headroom ${headroom}`,
      description: `the forecast policy keeping ${headroom} spare`,
      scaler: { policy: "forecast", headroom, ...pace },
    }),
  );
  const anchors = TUNE_ANCHORS.map((name) => BACKTEST_POLICIES[name]);
  const backtest = await runBacktest({ ...options, config, policies: [...anchors, ...settings] });

  const point = (run: BacktestRun, kind: TunePoint["kind"]): TunePoint => ({
    name: run.policy.name,
    kind,
    policy: run.engine.policy,
    headroom: kind === "setting" ? run.engine.headroom : null,
    cost_ratio: run.metrics.cost_ratio,
    shortfall_percent: run.metrics.shortfall_percent,
    dyno_minutes: run.metrics.dyno_minutes,
    shortfall_dyno_minutes: run.metrics.shortfall_dyno_minutes,
    scale_events: run.metrics.scale_events,
    scale_events_per_day: run.metrics.scale_events_per_day,
    frontier: false,
    dominated_by: [],
  });
  const anchorPoints = backtest.runs.slice(0, anchors.length).map((r) => point(r, "anchor"));
  const settingPoints = backtest.runs.slice(anchors.length).map((r) => point(r, "setting"));
  for (const p of settingPoints) p.frontier = !settingPoints.some((q) => q !== p && beats(q, p));
  for (const a of anchorPoints) a.dominated_by = settingPoints.filter((p) => dominates(p, a)).map((p) => p.name);

  const seed = must(
    anchorPoints.find((a) => a.name === "seed"),
    "the seed anchor's run",
  );
  const target =
    options.maxShortfall === undefined
      ? { max_shortfall_percent: seed.shortfall_percent, from: "seed" as const }
      : { max_shortfall_percent: options.maxShortfall, from: "option" as const };
  const within = settingPoints.filter((p) => p.shortfall_percent <= target.max_shortfall_percent + EPSILON);
  const recommended = within.length > 0 ? cheapest(within) : safest(settingPoints);
  return { backtest, points: [...settingPoints, ...anchorPoints], target, recommended, met: within.length > 0 };
}

/** Metrics are sums of whole dyno-minutes over the same oracle: a difference below this is rounding. */
const EPSILON = 1e-9;

function dominates(a: TunePoint, b: TunePoint): boolean {
  return a.cost_ratio <= b.cost_ratio + EPSILON && a.shortfall_percent <= b.shortfall_percent + EPSILON;
}

/** Dominates and differs: no worse on both, better on one. */
function beats(a: TunePoint, b: TunePoint): boolean {
  return (
    dominates(a, b) && (a.cost_ratio < b.cost_ratio - EPSILON || a.shortfall_percent < b.shortfall_percent - EPSILON)
  );
}

function cheapest(points: TunePoint[]): TunePoint {
  return points.reduce((best, p) =>
    p.cost_ratio < best.cost_ratio - EPSILON ||
    (p.cost_ratio <= best.cost_ratio + EPSILON && p.shortfall_percent < best.shortfall_percent)
      ? p
      : best,
  );
}

function safest(points: TunePoint[]): TunePoint {
  return points.reduce((best, p) =>
    p.shortfall_percent < best.shortfall_percent - EPSILON ||
    (p.shortfall_percent <= best.shortfall_percent + EPSILON && p.cost_ratio < best.cost_ratio)
      ? p
      : best,
  );
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

const tunePointJson = z
  .object({
    name: z.string().describe("`headroom 0.2`, or the anchor's name"),
    kind: z.enum(["setting", "anchor"]),
    policy: z.string().describe("the scaler.policy it ran"),
    headroom: z.number().min(0).nullable().describe("the swept headroom; null for an anchor"),
    cost_ratio: z.number().min(0).describe("dyno-minutes ÷ the oracle's"),
    shortfall_percent: z.number().min(0).describe("needed dyno-minutes not served, in % of the oracle's"),
    dyno_minutes: z.number().min(0),
    shortfall_dyno_minutes: z.number().min(0),
    scale_events: z.number().int().min(0),
    scale_events_per_day: z.number().min(0).describe("scale events per 24 hours of trace"),
    frontier: z.boolean().describe("a setting no other setting beats on both cost and shortfall"),
    dominated_by: z.array(z.string()).describe("for an anchor: the settings that cost no more and fall short no more"),
  })
  .strict();

/** What `dynosaur tune --json` prints: one object. */
export const tuneJsonSchema = z
  .object({
    trace: z.string(),
    config: z.string().optional(),
    boot_seconds: z.number().min(0),
    min_dynos: z.number().int().min(0),
    max_dynos: z.number().int().min(1),
    minutes: z.number().min(0),
    default_headroom: z.number().min(0),
    target: z.object({ max_shortfall_percent: z.number().min(0), from: z.enum(["option", "seed"]) }).strict(),
    recommended: z
      .object({
        name: z.string(),
        headroom: z.number().min(0),
        cost_ratio: z.number().min(0),
        shortfall_percent: z.number().min(0),
        scale_events: z.number().int().min(0),
        scale_events_per_day: z.number().min(0),
        met: z.boolean(),
      })
      .strict()
      .describe("the cheapest setting within the target; when none is (met: false), the one that falls short least"),
    settings: z.array(tunePointJson).min(1),
    anchors: z.array(tunePointJson).length(TUNE_ANCHORS.length),
    replay_ms: z.number().min(0),
    chart: z.string().nullable(),
  })
  .strict();

export type TuneJson = z.output<typeof tuneJsonSchema>;

export function tuneJson(tune: Tune, context: { config?: string; chart?: string } = {}): TuneJson {
  const { backtest } = tune;
  const json = (p: TunePoint): TunePoint => ({
    ...p,
    cost_ratio: round(p.cost_ratio, 4),
    shortfall_percent: round(p.shortfall_percent, 2),
    dyno_minutes: round(p.dyno_minutes, 2),
    shortfall_dyno_minutes: round(p.shortfall_dyno_minutes, 2),
    scale_events_per_day: round(p.scale_events_per_day, 1),
  });
  const r = tune.recommended;
  return {
    trace: backtest.trace.file,
    ...(context.config ? { config: context.config } : {}),
    boot_seconds: backtest.model.bootMs / 1000,
    min_dynos: backtest.model.minDynos,
    max_dynos: backtest.model.maxDynos,
    minutes: (backtest.trace.length * backtest.trace.stepMs) / 60_000,
    default_headroom: DEFAULT_HEADROOM,
    target: { max_shortfall_percent: round(tune.target.max_shortfall_percent, 2), from: tune.target.from },
    recommended: {
      name: r.name,
      headroom: r.headroom ?? 0,
      cost_ratio: round(r.cost_ratio, 4),
      shortfall_percent: round(r.shortfall_percent, 2),
      scale_events: r.scale_events,
      scale_events_per_day: round(r.scale_events_per_day, 1),
      met: tune.met,
    },
    settings: tune.points.filter((p) => p.kind === "setting").map(json),
    anchors: tune.points.filter((p) => p.kind === "anchor").map(json),
    replay_ms: round(
      backtest.runs.reduce((sum, run) => sum + run.replayMs, 0),
      1,
    ),
    chart: context.chart ?? null,
  };
}

/** The frontier for a terminal: one line per setting, then the anchors, then the advice. */
export function formatTune(tune: Tune, context: { config?: string; chart?: string } = {}): string {
  const { backtest, recommended, target } = tune;
  const minutes = (backtest.trace.length * backtest.trace.stepMs) / 60_000;
  const lines = [
    `Tuned headroom on ${minutes.toLocaleString("en-US")} minutes of ${backtest.trace.file}${context.config ? ` through ${context.config}` : ""}`,
    `  each setting replayed through the engine; boot ${backtest.model.bootMs / 1000} s, dynos within [${backtest.model.minDynos}, ${backtest.model.maxDynos}]`,
    "  cost = dyno-minutes ÷ the oracle's; shortfall = needed dyno-minutes not served, % of the oracle's;",
    "  events = changes of the formation (each boots or stops dynos); ranked on cost and shortfall",
    "",
    `  ${"setting".padEnd(16)}${"cost".padStart(8)}${"shortfall".padStart(12)}${"events".padStart(10)}${"/day".padStart(8)}   `,
  ];
  const row = (p: TunePoint, note: string) =>
    `  ${p.name.padEnd(16)}${p.cost_ratio.toFixed(3).padStart(8)}${`${p.shortfall_percent.toFixed(2)}%`.padStart(12)}${p.scale_events.toLocaleString("en-US").padStart(10)}${p.scale_events_per_day.toFixed(0).padStart(8)}   ${note}`.trimEnd();
  for (const p of tune.points.filter((q) => q.kind === "setting")) {
    const notes = [
      p.frontier ? "frontier" : "",
      p.headroom === DEFAULT_HEADROOM ? "default" : "",
      p === recommended ? "<- recommended" : "",
    ].filter(Boolean);
    lines.push(row(p, notes.join(", ")));
  }
  lines.push(
    "",
    `  ${"anchor".padEnd(16)}${"cost".padStart(8)}${"shortfall".padStart(12)}${"events".padStart(10)}${"/day".padStart(8)}   dominated by`,
  );
  for (const a of tune.points.filter((q) => q.kind === "anchor")) {
    const by = a.dominated_by.map((n) => n.replace("headroom ", ""));
    lines.push(row(a, by.length ? `headroom ${by.join(", ")}` : "no setting"));
  }
  const figures = (p: TunePoint) =>
    `cost ${p.cost_ratio.toFixed(3)}, shortfall ${p.shortfall_percent.toFixed(2)}%, ${p.scale_events.toLocaleString("en-US")} scale events (${p.scale_events_per_day.toFixed(0)}/day)`;
  const goal = `shortfall <= ${target.max_shortfall_percent.toFixed(2)}%${target.from === "seed" ? " (the seed rule's; --max-shortfall sets another)" : ""}`;
  lines.push(
    "",
    tune.met
      ? `Recommended: headroom ${recommended.headroom} (${figures(recommended)}), the cheapest setting with ${goal}.`
      : `No setting reaches ${goal}; the safest is headroom ${recommended.headroom} (${figures(recommended)}).`,
    `  write it as scaler.headroom: ${recommended.headroom}`,
  );
  if (context.chart) lines.push("", `chart: ${context.chart}`);
  return `${lines.join("\n")}\n`;
}
