import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface ChartData {
  /** Seconds since the epoch. */
  x: number[];
  dynos: (number | null)[];
  estimate: (number | null)[];
  sources: { name: string; values: (number | null)[] }[];
  /** Times (s) of scale events, drawn as vertical marks. */
  marks: number[];
}

const SOURCE_COLOURS = ["#8250df", "#bf3989", "#1a7f37", "#9a6700", "#0a3069"];

/**
 * Dynos and the estimate on the left axis, each source's value on the right; drag to zoom,
 * double-click to zoom out (uPlot's own). Rebuilt when the set of series changes, else fed.
 */
export function Chart({ data, label }: { data: ChartData; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const marks = useRef<number[]>(data.marks);
  marks.current = data.marks;
  const shape = data.sources.map((s) => s.name).join("\u0000");

  useEffect(() => {
    const el = box.current!;
    const opts: uPlot.Options = {
      width: el.clientWidth || 600,
      height: 280,
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: true }, dynos: { auto: true }, value: { auto: true } },
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
      ],
      hooks: {
        draw: [
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
    const resize = () => plot.current?.setSize({ width: el.clientWidth, height: 280 });
    window.addEventListener("resize", resize);
    return () => {
      window.removeEventListener("resize", resize);
      plot.current?.destroy();
      plot.current = null;
    };
  }, [shape]);

  useEffect(() => {
    plot.current?.setData(toAligned(data));
  }, [data]);

  return <div ref={box} class="chart" role="img" aria-label={label} />;
}

function toAligned(d: ChartData): uPlot.AlignedData {
  return [d.x, d.dynos, d.estimate, ...d.sources.map((s) => s.values)] as uPlot.AlignedData;
}
