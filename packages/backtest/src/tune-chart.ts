import type { Tune, TunePoint } from "./tune.js";

const WIDTH = 760;
const HEIGHT = 480;
const M = { left: 70, right: 150, top: 56, bottom: 56 };

/**
 * The cost/shortfall frontier as an SVG: x = cost (dyno-minutes ÷ the oracle's), y = shortfall
 * (% of the oracle's). The swept settings are joined by a line in headroom order, the anchors
 * drawn as squares, the recommended setting ringed: down and to the left is better.
 */
export function renderTuneSvg(tune: Tune): string {
  const settings = tune.points.filter((p) => p.kind === "setting");
  const anchors = tune.points.filter((p) => p.kind === "anchor");
  const all = tune.points;
  const xMin = Math.min(...all.map((p) => p.cost_ratio));
  const xMax = Math.max(...all.map((p) => p.cost_ratio));
  const yMax = Math.max(...all.map((p) => p.shortfall_percent), tune.target.max_shortfall_percent);
  const xAxis = niceAxis(Math.max(0, xMin - 0.02 * (xMax - xMin || 1)), xMax + 0.02 * (xMax - xMin || 1));
  const yAxis = niceAxis(0, yMax * 1.05 || 1);
  const plotW = WIDTH - M.left - M.right;
  const plotH = HEIGHT - M.top - M.bottom;
  const x = (v: number) => M.left + ((v - xAxis.min) / (xAxis.max - xAxis.min)) * plotW;
  const y = (v: number) => M.top + plotH - ((v - yAxis.min) / (yAxis.max - yAxis.min)) * plotH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="system-ui, sans-serif">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
    text(M.left, 24, `Cost and shortfall per headroom: ${esc(basename(tune.backtest.trace.file))}`, {
      size: 15,
      weight: "600",
    }),
    text(M.left, 42, `boot ${tune.backtest.model.bootMs / 1000} s; down and to the left is better`, {
      size: 12,
      color: "#555",
    }),
  ];
  for (const t of xAxis.ticks) {
    out.push(
      `<line x1="${x(t)}" y1="${M.top}" x2="${x(t)}" y2="${M.top + plotH}" stroke="#eee"/>`,
      text(x(t), M.top + plotH + 16, t.toFixed(2), { size: 11, anchor: "middle", color: "#555" }),
    );
  }
  for (const t of yAxis.ticks) {
    out.push(
      `<line x1="${M.left}" y1="${y(t)}" x2="${M.left + plotW}" y2="${y(t)}" stroke="#eee"/>`,
      text(M.left - 6, y(t) + 4, `${fmt(t)}%`, { size: 11, anchor: "end", color: "#555" }),
    );
  }
  out.push(
    `<rect x="${M.left}" y="${M.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`,
    text(M.left + plotW / 2, HEIGHT - 14, "cost (dyno-minutes ÷ oracle's)", { size: 12, anchor: "middle" }),
    text(16, M.top + plotH / 2, "shortfall (% of oracle)", { size: 12, anchor: "middle", rotate: true }),
  );
  const ty = y(tune.target.max_shortfall_percent);
  out.push(
    `<line x1="${M.left}" y1="${ty}" x2="${M.left + plotW}" y2="${ty}" stroke="#c62828" stroke-dasharray="5 4"/>`,
    text(M.left + plotW + 6, ty + 4, "target", { size: 11, color: "#c62828" }),
  );
  out.push(
    `<polyline fill="none" stroke="#1565c0" stroke-width="2" points="${settings.map((p) => `${x(p.cost_ratio).toFixed(1)},${y(p.shortfall_percent).toFixed(1)}`).join(" ")}"/>`,
  );
  for (const p of settings) {
    out.push(
      `<circle cx="${x(p.cost_ratio).toFixed(1)}" cy="${y(p.shortfall_percent).toFixed(1)}" r="4" fill="${p.frontier ? "#1565c0" : "#fff"}" stroke="#1565c0" stroke-width="1.5"><title>${esc(label(p))}</title></circle>`,
    );
    out.push(text(x(p.cost_ratio) + 6, y(p.shortfall_percent) - 6, String(p.headroom), { size: 10, color: "#1565c0" }));
  }
  const r = tune.recommended;
  out.push(
    `<circle cx="${x(r.cost_ratio).toFixed(1)}" cy="${y(r.shortfall_percent).toFixed(1)}" r="9" fill="none" stroke="#2e7d32" stroke-width="2.5"/>`,
  );
  for (const a of anchors) {
    const cx = x(a.cost_ratio);
    const cy = y(a.shortfall_percent);
    out.push(
      `<rect x="${(cx - 4).toFixed(1)}" y="${(cy - 4).toFixed(1)}" width="8" height="8" fill="#ef6c00"><title>${esc(label(a))}</title></rect>`,
    );
    out.push(text(cx + 7, cy + 14, a.name, { size: 11, color: "#ef6c00" }));
  }
  const lx = M.left + plotW + 12;
  out.push(
    `<circle cx="${lx + 4}" cy="${M.top + 8}" r="4" fill="#1565c0"/>`,
    text(lx + 14, M.top + 12, "headroom (filled: frontier)", { size: 11 }),
    `<rect x="${lx}" y="${M.top + 22}" width="8" height="8" fill="#ef6c00"/>`,
    text(lx + 14, M.top + 30, "anchor", { size: 11 }),
    `<circle cx="${lx + 4}" cy="${M.top + 44}" r="6" fill="none" stroke="#2e7d32" stroke-width="2"/>`,
    text(lx + 14, M.top + 48, `recommended: ${r.headroom}`, { size: 11 }),
    "</svg>",
  );
  return `${out.join("\n")}\n`;
}

function label(p: TunePoint): string {
  return `${p.name}: cost ${p.cost_ratio.toFixed(3)}, shortfall ${p.shortfall_percent.toFixed(2)}%`;
}

function niceAxis(min: number, max: number): { min: number; max: number; ticks: number[] } {
  const span = max - min || 1;
  const raw = span / 6;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const lo = Math.floor(min / step) * step;
  const hi = Math.ceil(max / step) * step;
  const ticks: number[] = [];
  for (let t = lo; t <= hi + step / 2; t += step) ticks.push(Number(t.toFixed(10)));
  return { min: lo, max: hi, ticks };
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

function text(
  x: number,
  y: number,
  content: string,
  o: { size?: number; weight?: string; anchor?: string; color?: string; rotate?: boolean } = {},
): string {
  const rotate = o.rotate ? ` transform="rotate(-90 ${x} ${y})"` : "";
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" font-size="${o.size ?? 12}"${o.weight ? ` font-weight="${o.weight}"` : ""}${o.anchor ? ` text-anchor="${o.anchor}"` : ""} fill="${o.color ?? "#222"}"${rotate}>${content}</text>`;
}

function esc(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
}

function basename(file: string): string {
  return file.split(/[\\/]/).pop() ?? file;
}
