import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { framePlot } from "./plot-frame.js";

export interface ChartData {
  /** Seconds since the epoch, strictly increasing. */
  x: number[];
  dynos: (number | null)[];
  estimate: (number | null)[];
  sources: { name: string; values: (number | null)[] }[];
  /** Times (s) of scale events, drawn as vertical marks. */
  marks: number[];
  /** The time range (s) shown when not zoomed; the data's own range when absent. */
  window?: { from: number; to: number };
  /** The process type's limits in force, drawn as level lines. */
  limits?: { min: number; max: number };
}

const SOURCE_COLOURS = ["#8250df", "#bf3989", "#1a7f37", "#9a6700", "#0a3069"];

/**
 * Dynos and the estimate on the left axis, each source's value on the right; drag to zoom,
 * double-click to zoom out (uPlot's own). Rebuilt when the set of series changes, else fed.
 *
 * The time axis shows `data.window` (e.g. the last hour), not the data's extent: uPlot widens
 * a single point's time range to 86400 / `ms` seconds (about three years). A zoom is kept while
 * live points arrive. What is drawn is on the element (`data-points`, `data-from`, `data-to`,
 * seconds) for the page tests.
 */
export function Chart({ data, label }: { data: ChartData; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const marks = useRef<number[]>(data.marks);
  marks.current = data.marks;
  const window_ = useRef(data.window);
  window_.current = data.window;
  const zoomed = useRef(false);
  const shape = [...data.sources.map((s) => s.name), data.limits ? "limits" : ""].join("\u0000");

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: el.clientWidth || 600,
      height: 280,
      cursor: { drag: { x: true, y: false } },
      scales: {
        x: {
          time: true,
          // Zoomed: keep the chosen range as points arrive. Else: the window.
          auto: () => !zoomed.current,
          range: (u, min, max) => {
            if (zoomed.current) return [min, max];
            const w = window_.current ?? extent(u.data[0]);
            return w ? [w.from, w.to] : [min, max];
          },
        },
        dynos: { auto: true },
        value: { auto: true },
      },
      axes: [{}, { scale: "dynos", label: "dynos" }, { scale: "value", side: 1, grid: { show: false } }],
      series: [
        {},
        { label: "dynos", scale: "dynos", stroke: "#0550ae", width: 2, paths: uPlot.paths.stepped?.({ align: 1 }) },
        { label: "estimate", scale: "dynos", stroke: "#cf222e", dash: [6, 4] },
        ...data.sources.map((s, i) => ({
          label: s.name,
          scale: "value",
          stroke: SOURCE_COLOURS[i % SOURCE_COLOURS.length],
        })),
        ...(data.limits
          ? [
              { label: "min", scale: "dynos", stroke: "#1a7f37", dash: [2, 4], width: 1 },
              { label: "max", scale: "dynos", stroke: "#9a6700", dash: [2, 4], width: 1 },
            ]
          : []),
      ],
      hooks: {
        setSelect: [
          (u: uPlot) => {
            if (u.select.width > 0) zoomed.current = true;
          },
        ],
        draw: [
          (u: uPlot) => {
            el.dataset.points = String(u.data[0].length);
            el.dataset.from = String(u.scales.x?.min);
            el.dataset.to = String(u.scales.x?.max);
          },
          (u: uPlot) => {
            const ctx = u.ctx;
            ctx.save();
            ctx.strokeStyle = "#57606a";
            ctx.setLineDash([2, 3]);
            for (const t of marks.current) {
              const x = Math.round(u.valToPos(t, "x", true));
              if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
              ctx.beginPath();
              ctx.moveTo(x, u.bbox.top);
              ctx.lineTo(x, u.bbox.top + u.bbox.height);
              ctx.stroke();
            }
            ctx.restore();
          },
        ],
      },
    };
    plot.current = new uPlot(opts, toAligned(data), el);
    return framePlot(el, plot, 280, () => {
      zoomed.current = false;
    });
  }, [shape]);

  useEffect(() => {
    plot.current?.setData(toAligned(data));
  }, [data]);

  return <div ref={box} class="chart" role="img" aria-label={label} />;
}

/** The data's own time range, a single point's padded by a minute each side. */
function extent(xs: ArrayLike<number>): { from: number; to: number } | null {
  const first = xs[0];
  const last = xs[xs.length - 1];
  if (first === undefined || last === undefined) return null;
  return first === last ? { from: first - 60, to: last + 60 } : { from: first, to: last };
}

function toAligned(d: ChartData): uPlot.AlignedData {
  const level = (v: number) => d.x.map(() => v);
  const limits = d.limits ? [level(d.limits.min), level(d.limits.max)] : [];
  return [d.x, d.dynos, d.estimate, ...d.sources.map((s) => s.values), ...limits] as uPlot.AlignedData;
}
