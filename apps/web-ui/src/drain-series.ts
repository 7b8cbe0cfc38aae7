import type { DrainChart } from "./api.js";
import type { Point } from "./series.js";

/*
 * The drain panel's chart data: the drain's minutes (ISO text, ms) beside the web dynos of the
 * app's readings, on one time axis in seconds, as uPlot needs (sorted, one x per time, null
 * where a series has no figure then).
 */

export interface DrainSeries {
  /** Seconds since the epoch, strictly increasing. */
  x: number[];
  /** Web dynos running (the app's readings, not the drain). */
  dynos: (number | null)[];
  requests: (number | null)[];
  serviceP95: (number | null)[];
  queueP95: (number | null)[];
  /** H12/H13/H14 bursts, in seconds, with what to write on the mark. */
  bursts: { from: number; to: number; label: string }[];
  window: { from: number; to: number };
}

const seconds = (iso: string) => Date.parse(iso) / 1000;

/** "H12 ×3, H13 ×1": a burst's codes in words, busiest first. */
export function burstLabel(codes: Record<string, number>): string {
  return Object.entries(codes)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([code, n]) => `${code} ×${n}`)
    .join(", ");
}

/**
 * `chart`'s minutes and the web process's `points` (dynos) together. `since` and `now` are ms
 * (the page's clock); the window widens to the data's own range when that is wider.
 */
export function drainSeries(chart: DrainChart, points: readonly Point[], since: number, now: number): DrainSeries {
  const minutes = new Map(chart.minutes.map((m) => [seconds(m.minute), m]));
  const dynos = new Map<number, number | null>();
  for (const p of points) if (p.process === "web") dynos.set(p.t, p.dynos);
  const x = [...new Set([...minutes.keys(), ...dynos.keys()])].sort((a, b) => a - b);
  const first = x[0];
  const last = x.at(-1);
  return {
    x,
    dynos: x.map((t) => dynos.get(t) ?? null),
    requests: x.map((t) => minutes.get(t)?.requests ?? null),
    serviceP95: x.map((t) => minutes.get(t)?.service_p95_ms ?? null),
    queueP95: x.map((t) => minutes.get(t)?.queue_p95_ms ?? null),
    bursts: chart.bursts.map((b) => ({ from: seconds(b.from), to: seconds(b.to), label: burstLabel(b.codes) })),
    window: {
      from: Math.min(since / 1000, first ?? Number.POSITIVE_INFINITY),
      to: Math.max(now / 1000, last ?? Number.NEGATIVE_INFINITY),
    },
  };
}

/** "12 minutes", "3 hours", "2 days": how long the drain has been silent, in words. */
export function silentFor(ms: number): string {
  const minutes = Math.max(1, Math.floor(ms / 60_000));
  if (minutes < 120) return `${minutes} ${minutes === 1 ? "minute" : "minutes"}`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} hours`;
  return `${Math.floor(hours / 24)} days`;
}
