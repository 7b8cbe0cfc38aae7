import type { AppEvent, MinuteReading, Tick } from "./api.js";
import type { ChartData } from "./chart.js";

/*
 * The app page's chart data, from the stored minutes and the live ticks. The API speaks
 * milliseconds (tick `time`) and ISO text (minutes, events); uPlot's time axis speaks seconds:
 * every conversion happens here, once.
 */

/** One process type's figures at one time (seconds since the epoch). */
export interface Point {
  t: number;
  process: string;
  dynos: number | null;
  estimate: number | null;
  sources: Record<string, number | null>;
}

const seconds = (ms: number) => ms / 1000;

export const fromMinute = (r: MinuteReading): Point => ({
  t: seconds(Date.parse(r.minute)),
  process: r.process_type,
  dynos: r.dynos,
  estimate: r.estimate,
  sources: Object.fromEntries(r.sources.map((s) => [s.name, s.value])),
});

export const fromTick = (k: Tick): Point => ({
  t: seconds(k.time),
  process: k.processType,
  dynos: k.after,
  estimate: k.estimate,
  sources: Object.fromEntries(k.sources.map((s) => [s.name, s.value])),
});

const sum = (values: (number | null)[]): number | null =>
  values.some((v) => v !== null) ? values.reduce<number>((a, v) => a + (v ?? 0), 0) : null;

/**
 * The charts of an app: one per process type (their dyno counts are not added together), each
 * with that type's points, its scale events (and the app-wide ones), and its limits in force.
 */
export function chartsByProcess(
  points: readonly Point[],
  log: readonly AppEvent[],
  since: number,
  now: number,
  limits: ReadonlyMap<string, { min: number; max: number }>,
): { type: string; data: Required<Omit<ChartData, "limits">> & Pick<ChartData, "limits"> }[] {
  const types = [...new Set([...points.map((p) => p.process), ...limits.keys()])];
  return types.map((type) => ({
    type,
    data: {
      ...chartData(
        points.filter((p) => p.process === type),
        log.filter((e) => typeof e.data.process !== "string" || e.data.process === type),
        since,
        now,
      ),
      limits: limits.get(type),
    },
  }));
}

/**
 * The chart's series: one x per time (the app's process types at that time added up: dynos
 * and estimates are dyno counts; each source belongs to one process), sorted, as uPlot needs.
 * `since` and `now` are in ms (the page's clock); scale events become marks.
 */
export function chartData(
  points: readonly Point[],
  log: readonly AppEvent[],
  since: number,
  now: number,
): Required<Omit<ChartData, "limits">> {
  const byTime = new Map<number, Map<string, Point>>();
  for (const p of points) {
    const at = byTime.get(p.t) ?? new Map<string, Point>();
    at.set(p.process, p); // a later figure for the same process and time replaces the earlier
    byTime.set(p.t, at);
  }
  const times = [...byTime.keys()].sort((a, b) => a - b);
  const rows = times.map((t) => [...(byTime.get(t)?.values() ?? [])]);
  const names = [...new Set(points.flatMap((p) => Object.keys(p.sources)))];
  const last = times.at(-1);
  const first = times[0];
  return {
    x: times,
    dynos: rows.map((ps) => sum(ps.map((p) => p.dynos))),
    estimate: rows.map((ps) => sum(ps.map((p) => p.estimate))),
    sources: names.map((n) => ({
      name: n,
      values: rows.map((ps) => ps.find((p) => n in p.sources)?.sources[n] ?? null),
    })),
    marks: log.filter((e) => e.kind === "scale-up" || e.kind === "scale-down").map((e) => seconds(Date.parse(e.at))),
    window: {
      from: Math.min(seconds(since), first ?? Number.POSITIVE_INFINITY),
      to: Math.max(seconds(now), last ?? Number.NEGATIVE_INFINITY),
    },
  };
}
