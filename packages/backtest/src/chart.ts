import { must } from "@dynosaur/core";
import { mainRun } from "./format.js";
import type { Backtest, BacktestRun } from "./replay.js";

export interface ChartOptions {
  /**
   * Names of the policies whose running dynos are drawn; the first is drawn boldest and
   * its shortfall shown.
   * @default the main policy only (`configured` when it was replayed)
   */
  policies?: readonly string[];
  /**
   * First period drawn (index into the trace).
   * @default 0
   */
  from?: number;
  /**
   * Period after the last one drawn.
   * @default the trace's length
   */
  to?: number;
  /**
   * Width of the picture in pixels.
   * @default 1400
   */
  width?: number;
  /**
   * Most points per drawn series: a longer stretch is cut into buckets of a round
   * duration, each drawn as its mean and its min..max range, so a one-minute spike stays visible.
   * @default 1000 (fewer when the picture is narrower)
   */
  maxPoints?: number;
  /**
   * Title at the top.
   * @default what was replayed
   */
  title?: string;
}

const COLORS = {
  load: "#4e79a7",
  needed: "#f28e2b",
  shortfall: "#d62728",
  runs: ["#2ca02c", "#9467bd", "#7f7f7f", "#8c564b", "#17becf"],
  grid: "#e6e6e6",
  axis: "#555",
  text: "#222",
};
const MARGIN = { left: 78, right: 24 };
const HEADER = 64;
const LOAD_HEIGHT = 170;
const DYNO_HEIGHT = 250;
const SHORT_HEIGHT = 48;
const SHORT_GAP = 24;
const GAP = 30;
const AXIS = 34;

/**
 * Draws a replay as an SVG: one panel per replayed source (its load), one of dynos
 * (needed and running) and a strip of the shortfall, with time ticks and legends. A long
 * trace is cut into buckets, each drawn as its mean (line) and min..max range (band), so
 * a one-minute spike stays visible.
 */
export function renderBacktestSvg(backtest: Backtest, options: ChartOptions = {}): string {
  const n = backtest.trace.length;
  const from = clampInt(options.from ?? 0, 0, n - 1);
  const to = clampInt(options.to ?? n, from + 1, n);
  const width = options.width ?? 1400;
  const runs = pickRuns(backtest, options.policies);
  const main = runs[0];
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const { spans, size } = bucketSpans(
    from,
    to,
    Math.max(1, options.maxPoints ?? Math.min(1000, Math.floor(plotWidth))),
    backtest.trace.stepMs,
  );
  const buckets = spans.length;
  const x = (period: number) => MARGIN.left + ((period - from) / (to - from)) * plotWidth;
  const time = timeAxis(backtest, from, to);
  const stepMs = backtest.trace.stepMs;
  // The first bucket is the whole range when that is shorter than one round duration.
  const bucketMs = Math.min(size, to - from) * stepMs;

  const height = HEADER + backtest.feeds.length * (LOAD_HEIGHT + GAP) + DYNO_HEIGHT + SHORT_GAP + SHORT_HEIGHT + AXIS;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
  ];
  const title =
    options.title ??
    `Dynosaur simulation: ${basename(backtest.trace.file)}, ${formatDuration((to - from) * stepMs)}${to - from < n ? ` of ${formatDuration(n * stepMs)}` : ""}`;
  out.push(text(MARGIN.left, 24, title, { size: 16, weight: "bold" }));
  if (main) {
    const m = main.metrics;
    const summary = `${main.policy.name} policy over the whole trace: cost ratio ${m.cost_ratio.toFixed(2)}, shortfall ${m.shortfall_percent.toFixed(1)}% of the oracle, ${int(m.under_provisioned_minutes)} min under-provisioned, ${int(m.scale_events)} scale events; boot ${backtest.model.bootMs / 1000} s`;
    const resolution =
      buckets < to - from ? `; each point is ${formatDuration(bucketMs)} (line: mean, band: min..max)` : "";
    out.push(text(MARGIN.left, 46, summary + resolution, { color: COLORS.axis }));
  }

  let top = HEADER;
  for (const feed of backtest.feeds) {
    const load = bucketStats(feed.values, spans);
    const ax = axis(Math.max(...load.map((b) => b.max), 0), false);
    const y = scale(top, LOAD_HEIGHT, ax.max);
    out.push(grid(top, LOAD_HEIGHT, ax, width, time, x, false), yLabel(top, LOAD_HEIGHT, feed.unit));
    out.push(series(load, x, y, COLORS.load, { band: 0.25, line: 1.1 }));
    out.push(
      legend(width, top, [{ color: COLORS.load, label: `load read by ${feed.source} (column "${feed.column}")` }]),
    );
    top += LOAD_HEIGHT + GAP;
  }

  const needed = bucketStats(backtest.needed, spans);
  const running = runs.map((r) => bucketStats(r.series.running, spans));
  const ax = axis(Math.max(...needed.map((b) => b.max), ...running.flatMap((r) => r.map((b) => b.max)), 1), true);
  const y = scale(top, DYNO_HEIGHT, ax.max);
  out.push(grid(top, DYNO_HEIGHT, ax, width, time, x, false), yLabel(top, DYNO_HEIGHT, "dynos"));
  out.push(series(needed, x, y, COLORS.needed, { band: 0.35, line: 1.2, area: 0.18 }));
  // The main run last, so it is drawn on top.
  out.push(
    ...running
      .map((stats, k) =>
        series(stats, x, y, runColor(k), k === 0 ? { band: 0.15, line: 1.7 } : { line: 1.1, dash: "5 3" }),
      )
      .reverse(),
  );
  out.push(
    legend(width, top, [
      { color: COLORS.needed, label: "dynos needed (oracle)" },
      ...runs.map((r, k) => ({
        color: runColor(k),
        label: `dynos running: ${r.policy.name}`,
        dash: k > 0,
      })),
    ]),
  );
  top += DYNO_HEIGHT + SHORT_GAP;

  if (main) {
    const running = main.series.running;
    const short = Float64Array.from(backtest.needed, (need, i) => {
      if (i < from || i >= to) return 0;
      return Math.max(0, need - must(running[i], "a period's running dynos")) * (stepMs / 60_000);
    });
    const sums = bucketSums(short, spans);
    const most = Math.max(...sums.map((b) => b.sum), 0);
    out.push(
      grid(top, SHORT_HEIGHT, { max: 1, ticks: [] }, width, time, x, true),
      yLabel(top, SHORT_HEIGHT, "shortfall"),
    );
    if (most > 0) {
      const yS = scale(top, SHORT_HEIGHT, most);
      let d = "";
      for (const { from: start, to: end, sum: v } of sums) {
        if (v <= 1e-9) continue;
        const x0 = x(start);
        const w = Math.max(1, x(end) - x0);
        d += `M${x0.toFixed(1)},${(top + SHORT_HEIGHT).toFixed(1)}h${w.toFixed(1)}V${yS(v).toFixed(1)}h${(-w).toFixed(1)}Z`;
      }
      out.push(`<path d="${d}" fill="${COLORS.shortfall}" fill-opacity="0.85"/>`);
    }
    const label =
      most > 0
        ? `dyno-minutes needed but not running (${main.policy.name}), per ${formatDuration(bucketMs)}; tallest bar ${formatNumber(Number(most.toPrecision(3)))}`
        : `no shortfall (${main.policy.name})`;
    out.push(text(MARGIN.left, top - 6, label, { color: COLORS.shortfall }));
  }
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}

/**
 * An HTML page with the whole replay and, for a trace longer than a day, one chart per
 * day at full resolution below it: a long trace stays readable without any script.
 */
export function renderBacktestHtml(backtest: Backtest, options: Omit<ChartOptions, "from" | "to"> = {}): string {
  const parts = [renderBacktestSvg(backtest, options)];
  const perDay = Math.round(86_400_000 / backtest.trace.stepMs);
  // Days show every policy: at full resolution their lines stay apart.
  const policies =
    options.policies ??
    pickRuns(backtest, undefined)
      .concat(backtest.runs.filter((r) => r !== mainRun(backtest)))
      .map((r) => r.policy.name);
  if (backtest.trace.length > perDay && perDay >= 1) {
    parts.push(`<p>Below: one chart per day at full resolution.</p>`);
    for (let from = 0; from < backtest.trace.length; from += perDay) {
      const to = Math.min(backtest.trace.length, from + perDay);
      const title = `${basename(backtest.trace.file)}: ${periodLabel(backtest, from)} to ${periodLabel(backtest, to)}`;
      parts.push(
        renderBacktestSvg(backtest, { ...options, policies, from, to, title, maxPoints: options.maxPoints ?? perDay }),
      );
    }
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(`Dynosaur simulation: ${basename(backtest.trace.file)}`)}</title>
<style>body{font-family:Helvetica,Arial,sans-serif;margin:16px;color:#222}svg{max-width:100%;height:auto;display:block;margin-bottom:16px}</style>
</head><body>
${parts.join("\n")}
</body></html>
`;
}

function pickRuns(backtest: Backtest, names: readonly string[] | undefined): BacktestRun[] {
  if (names)
    return names
      .map((name) => backtest.runs.find((r) => r.policy.name === name))
      .filter((r): r is BacktestRun => r !== undefined);
  const main = mainRun(backtest);
  return main ? [main] : [];
}

/** Periods `[from, to)` of one bucket of the chart. */
interface Span {
  from: number;
  to: number;
}

/**
 * Buckets of a round duration (1, 2, 5, 10, 15, 30 min, 1 h, ...) of `size` periods each, so
 * that at most `most` buckets fill [from, to); the last one may be shorter.
 */
function bucketSpans(from: number, to: number, most: number, stepMs: number): { spans: Span[]; size: number } {
  const need = Math.ceil((to - from) / most);
  const round = [1, 2, 5, 10, 15, 20, 30, 60, 120, 180, 240, 360, 720, 1440, 2880, 10080]
    .map((m) => (m * 60_000) / stepMs)
    .filter((p) => Number.isInteger(p));
  const size = round.find((p) => p >= need) ?? need;
  const spans: Span[] = [];
  for (let start = from; start < to; start += size) spans.push({ from: start, to: Math.min(to, start + size) });
  return { spans, size };
}

/** One bucket of a series: the mean of its periods' values and their range. */
interface Bucket extends Span {
  min: number;
  max: number;
  mean: number;
}

function bucketStats(values: Float64Array | Int32Array, spans: readonly Span[]): Bucket[] {
  return spans.map(({ from, to }) => {
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    let sum = 0;
    for (const v of values.subarray(from, to)) {
      if (v < min) min = v;
      if (v > max) max = v;
      sum += v;
    }
    return { from, to, min, max, mean: sum / (to - from) };
  });
}

function bucketSums(values: Float64Array, spans: readonly Span[]): (Span & { sum: number })[] {
  return spans.map(({ from, to }) => ({ from, to, sum: values.subarray(from, to).reduce((a, v) => a + v, 0) }));
}

/** A step of a step path: `value` held from period `start` to period `end` (which may be to its left). */
interface Step {
  start: number;
  end: number;
  value: number;
}

/**
 * One series: its min..max band and an area under it (when their opacity is given) and
 * its mean as a line. Buckets of one period are drawn as steps, wider ones through their centres.
 */
function series(
  buckets: readonly Bucket[],
  x: (p: number) => number,
  y: (v: number) => number,
  color: string,
  style: { band?: number; area?: number; line: number; dash?: string },
): string {
  const parts: string[] = [];
  const fine = buckets.every((b) => b.to - b.from === 1);
  const f = (v: number) => v.toFixed(1);
  const centre = (b: Bucket) => (b.from + b.to) / 2;
  const mean = fine
    ? stepPath(
        buckets.map((b) => ({ start: b.from, end: b.to, value: b.mean })),
        x,
        y,
      )
    : `M${buckets.map((b) => `${f(x(centre(b)))},${f(y(b.mean))}`).join("L")}`;
  const first = buckets[0];
  const last = buckets.at(-1);
  if (style.area && first && last) {
    const base = f(y(0));
    const left = fine ? f(x(first.from)) : f(x(centre(first)));
    const right = fine ? f(x(last.to)) : f(x(centre(last)));
    parts.push(`<path d="${mean}L${right},${base}L${left},${base}Z" fill="${color}" fill-opacity="${style.area}"/>`);
  }
  if (style.band && !fine) {
    const upper = stepPath(
      buckets.map((b) => ({ start: b.from, end: b.to, value: b.max })),
      x,
      y,
    );
    const lower = stepPath(buckets.map((b) => ({ start: b.to, end: b.from, value: b.min })).reverse(), x, y);
    parts.push(`<path d="${upper}${lower.replace(/^M/, "L")}Z" fill="${color}" fill-opacity="${style.band}"/>`);
  }
  parts.push(
    `<path d="${mean}" fill="none" stroke="${color}" stroke-width="${style.line}" stroke-linejoin="round"${style.dash ? ` stroke-dasharray="${style.dash}"` : ""}/>`,
  );
  return parts.join("\n");
}

/** `M ... H ... V ...` through each step's value, from its start to its end (steps may run right to left). */
function stepPath(steps: readonly Step[], x: (p: number) => number, y: (v: number) => number): string {
  const f = (v: number) => v.toFixed(1);
  let d = "";
  let previous: Step | undefined;
  for (const step of steps) {
    if (!previous) d = `M${f(x(step.start))},${f(y(step.value))}`;
    else if (step.value !== previous.value) d += `H${f(x(step.start))}V${f(y(step.value))}`;
    previous = step;
  }
  return previous ? `${d}H${f(x(previous.end))}` : d;
}

function runColor(k: number): string {
  return must(COLORS.runs[k % COLORS.runs.length], "a run's colour");
}

function yLabel(top: number, height: number, label: string): string {
  const cx = MARGIN.left - 58;
  const cy = top + height / 2;
  return `<text x="${cx}" y="${cy}" transform="rotate(-90 ${cx} ${cy})" text-anchor="middle" fill="${COLORS.text}">${esc(label)}</text>`;
}

interface TimeAxis {
  ticks: { period: number; label: string }[];
}

function grid(
  top: number,
  height: number,
  ax: { max: number; ticks: number[] },
  width: number,
  time: TimeAxis,
  x: (p: number) => number,
  labels: boolean,
): string {
  const out: string[] = [];
  const y = scale(top, height, ax.max);
  const right = width - MARGIN.right;
  for (const v of ax.ticks) {
    out.push(
      `<line x1="${MARGIN.left}" x2="${right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="${COLORS.grid}"/>`,
    );
    out.push(text(MARGIN.left - 6, y(v) + 4, formatNumber(v), { anchor: "end", color: COLORS.axis }));
  }
  for (const t of time.ticks) {
    const px = x(t.period).toFixed(1);
    out.push(`<line x1="${px}" x2="${px}" y1="${top}" y2="${top + height}" stroke="${COLORS.grid}"/>`);
    if (labels) out.push(text(Number(px), top + height + 16, t.label, { anchor: "middle", color: COLORS.axis }));
  }
  out.push(
    `<rect x="${MARGIN.left}" y="${top}" width="${right - MARGIN.left}" height="${height}" fill="none" stroke="${COLORS.axis}" stroke-width="0.8"/>`,
  );
  return out.join("\n");
}

function legend(width: number, top: number, items: { color: string; label: string; dash?: boolean }[]): string {
  const out: string[] = [];
  let x = width - MARGIN.right - 8;
  const itemWidth = (item: { label: string }) => 36 + item.label.length * 6.6;
  const total = items.reduce((sum, item) => sum + itemWidth(item), 0);
  x -= total;
  out.push(
    `<rect x="${(x - 6).toFixed(1)}" y="${top + 6}" width="${(total + 8).toFixed(1)}" height="20" fill="#fff" fill-opacity="0.85" stroke="${COLORS.grid}"/>`,
  );
  for (const item of items) {
    const swatch = `<line x1="${x.toFixed(1)}" x2="${(x + 18).toFixed(1)}" y1="${top + 16}" y2="${top + 16}" stroke="${item.color}" stroke-width="2.5"${item.dash ? ' stroke-dasharray="4 2"' : ""}/>`;
    out.push(swatch, text(x + 23, top + 20, item.label, { color: COLORS.text }));
    x += itemWidth(item);
  }
  return out.join("\n");
}

function scale(top: number, height: number, yMax: number): (v: number) => number {
  return (v) => top + height - (v / yMax) * (height - 8);
}

/** Time ticks at whole days (or hours for short spans), at most ~16 of them. */
function timeAxis(backtest: Backtest, from: number, to: number): TimeAxis {
  const step = backtest.trace.stepMs;
  const spanMs = (to - from) * step;
  const choices = [10, 30, 60, 180, 360, 720, 1440, 2880].map((m) => m * 60_000);
  const every = choices.find((c) => spanMs / c <= 16) ?? 10080 * 60_000;
  const origin = backtest.trace.start ?? 0;
  const ticks: { period: number; label: string }[] = [];
  const first = Math.ceil((origin + from * step) / every) * every;
  for (let t = first; t <= origin + to * step; t += every) {
    const period = (t - origin) / step;
    ticks.push({ period, label: labelAt(backtest, t, every >= 86_400_000) });
  }
  return { ticks };
}

function periodLabel(backtest: Backtest, period: number): string {
  const t = (backtest.trace.start ?? 0) + period * backtest.trace.stepMs;
  if (backtest.trace.start !== null) return `${new Date(t).toISOString().slice(0, 16).replace("T", " ")} UTC`;
  const days = Math.floor(t / 86_400_000);
  const rest = t - days * 86_400_000;
  return `day ${days + 1} ${pad(Math.floor(rest / 3_600_000))}:${pad(Math.floor((rest % 3_600_000) / 60_000))}`;
}

function labelAt(backtest: Backtest, t: number, dayOnly: boolean): string {
  if (backtest.trace.start === null) {
    const days = Math.floor(t / 86_400_000);
    const rest = t - days * 86_400_000;
    const clock = `${pad(Math.floor(rest / 3_600_000))}:${pad(Math.floor((rest % 3_600_000) / 60_000))}`;
    if (dayOnly) return `day ${days + 1}`;
    return rest === 0 ? `day ${days + 1}` : `${days > 0 ? `d${days + 1} ` : ""}${clock}`;
  }
  const d = new Date(t);
  const day = `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}`;
  if (dayOnly) return day;
  const clock = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  return clock === "00:00" ? day : clock;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** A y axis from 0 to at least `v`, in about 5 round steps (whole ones for dynos). */
function axis(v: number, whole: boolean): { max: number; ticks: number[] } {
  const top = v > 0 ? v : 1;
  const raw = top / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((x) => x >= raw) ?? raw;
  if (whole) step = Math.max(1, Math.round(step));
  const max = Math.ceil(top / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let k = 0; k * step <= max * (1 + 1e-9); k++) ticks.push(Number((k * step).toPrecision(12)));
  return { max, ticks };
}

function int(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

function formatNumber(v: number): string {
  return Number.isInteger(v) ? v.toLocaleString("en-US") : String(Number(v.toPrecision(3)));
}

function formatDuration(ms: number): string {
  const minutes = ms / 60_000;
  if (minutes < 120) return `${formatNumber(Math.round(minutes * 10) / 10)} min`;
  if (minutes < 2 * 1440) return `${formatNumber(Math.round(minutes / 6) / 10)} h`;
  return `${formatNumber(Math.round(minutes / 144) / 10)} days`;
}

function text(
  x: number,
  y: number,
  content: string,
  o: { size?: number; weight?: string; anchor?: string; color?: string } = {},
): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}"${o.size ? ` font-size="${o.size}"` : ""}${o.weight ? ` font-weight="${o.weight}"` : ""}${o.anchor ? ` text-anchor="${o.anchor}"` : ""} fill="${o.color ?? COLORS.text}">${esc(content)}</text>`;
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function basename(file: string): string {
  return file.split(/[\\/]/).pop() ?? file;
}

function clampInt(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, Math.floor(v)));
}
