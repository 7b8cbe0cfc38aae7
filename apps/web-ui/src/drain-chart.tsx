import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { framePlot } from "./plot-frame.js";

export interface DrainLine {
  label: string;
  values: (number | null)[];
  stroke: string;
  dash?: number[];
}

export interface DrainChartData {
  /** Seconds since the epoch, strictly increasing. */
  x: number[];
  /** Web dynos, on the left axis. */
  dynos: (number | null)[];
  /** The drain's figures, on the right axis (`unit`). */
  lines: DrainLine[];
  unit: string;
  /**
   * The right axis in powers of ten: a timed-out request's 30,000 ms beside a 40 ms answer leaves
   * both readable. Figures of 0 or less are not drawn on it.
   */
  log?: boolean;
  /** Router error bursts (s), shaded with their codes written above. */
  bursts: { from: number; to: number; label: string }[];
  window: { from: number; to: number };
}

const BURST_FILL = "rgba(207, 34, 46, 0.14)";
const BURST_EDGE = "#cf222e";

/**
 * One chart of the drain panel: the web dynos (stepped, left axis) and the drain's lines (right
 * axis), H12/H13/H14 bursts shaded. The same uPlot as the app's chart (chart.tsx): drag to zoom,
 * double-click to zoom out. What is drawn is on the element for the page tests: `data-points`
 * (times with a drain figure), `data-bursts` (bursts drawn in view), `data-from`, `data-to` (s).
 */
export function DrainChart({ data, label }: { data: DrainChartData; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const latest = useRef(data);
  latest.current = data;
  const shape = [...data.lines.map((l) => l.label), data.log ? "log" : ""].join("\u0000");

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: el.clientWidth || 600,
      height: 240,
      cursor: { drag: { x: true, y: false } },
      scales: {
        x: {
          time: true,
          // Zoomed: the chosen range. Else: the page's window (e.g. the last hour), as the app's chart.
          auto: () => !zoomed(el),
          range: (_u, min, max) => (zoomed(el) ? [min, max] : [latest.current.window.from, latest.current.window.to]),
        },
        dynos: { auto: true, range: (_u, _min, max) => [0, Math.max(1, max)] },
        value: data.log ? { distr: 3, log: 10 } : { auto: true, range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] },
      },
      axes: [
        {},
        // Whole dynos only.
        { scale: "dynos", label: "web dynos", incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500] },
        // Wide enough for "100,000" beside its label.
        { scale: "value", side: 1, label: data.unit, grid: { show: false }, size: 70 },
      ],
      series: [
        {},
        {
          label: "web dynos",
          scale: "dynos",
          stroke: "#0550ae",
          width: 2,
          spanGaps: true,
          paths: uPlot.paths.stepped?.({ align: 1 }),
        },
        ...data.lines.map((l) => ({
          label: l.label,
          scale: "value",
          stroke: l.stroke,
          width: 2,
          spanGaps: true,
          ...(l.dash ? { dash: l.dash } : {}),
        })),
      ],
      hooks: {
        setSelect: [
          (u: uPlot) => {
            if (u.select.width > 0) el.dataset.zoomed = "true";
          },
        ],
        draw: [
          (u: uPlot) => {
            const d = latest.current;
            const ctx = u.ctx;
            const { left, top, width, height } = u.bbox;
            let drawn = 0;
            ctx.save();
            ctx.font = `${Math.round(12 * devicePixelRatio)}px system-ui, sans-serif`;
            ctx.textBaseline = "top";
            for (const b of d.bursts) {
              const x0 = Math.max(left, u.valToPos(b.from, "x", true));
              const x1 = Math.min(left + width, u.valToPos(b.to, "x", true));
              if (x1 < left || x0 > left + width) continue;
              drawn++;
              ctx.fillStyle = BURST_FILL;
              ctx.fillRect(x0, top, Math.max(2, x1 - x0), height);
              ctx.fillStyle = BURST_EDGE;
              ctx.fillRect(x0, top, Math.max(1, devicePixelRatio), height);
              ctx.fillText(b.label, x0 + 3 * devicePixelRatio, top + 2 * devicePixelRatio);
            }
            ctx.restore();
            el.dataset.points = String(d.x.filter((_, i) => d.lines.some((l) => l.values[i] !== null)).length);
            el.dataset.bursts = String(drawn);
            el.dataset.from = String(u.scales.x?.min);
            el.dataset.to = String(u.scales.x?.max);
          },
        ],
      },
    };
    plot.current = new uPlot(opts, aligned(data), el);
    return framePlot(el, plot, 240, () => {
      delete el.dataset.zoomed;
    });
  }, [shape]);

  useEffect(() => {
    plot.current?.setData(aligned(data));
  }, [data]);

  return <div ref={box} class="chart drain-chart" role="img" aria-label={label} />;
}

const zoomed = (el: HTMLElement) => el.dataset.zoomed === "true";

function aligned(d: DrainChartData): uPlot.AlignedData {
  const drawable = (v: number | null) => (d.log && v !== null && v <= 0 ? null : v);
  return [d.x, d.dynos, ...d.lines.map((l) => l.values.map(drawable))] as uPlot.AlignedData;
}
