import type { TickReport } from "./report.js";

/**
 * The one human line per tick, in the spirit of the seed's `current: 5; 4=>5 - ga: 312, 4`:
 * `web 4→5 estimate 5 (scale up) winner ga | ga: 312 active users → 5 ok | nr: 1200 rpm → 3 ok`.
 */
export function formatTick(t: TickReport): string {
  const q = (n: number | null) => (n === null ? "?" : String(n));
  const head = `${t.dryRun ? "[dry run] " : ""}${t.processType} ${q(t.before)}→${q(t.after)} estimate ${q(t.estimate)} (${t.reason})${t.winner ? ` winner ${t.winner}` : ""}`;
  const sources = t.sources.map((s) => {
    const value = s.value === null ? "no reading" : `${round(s.value)} ${s.unit}`;
    return `${s.name}: ${value} → ${s.estimate ?? "?"} ${s.health}${s.lastError && s.health !== "ok" ? ` (${s.lastError})` : ""}`;
  });
  return [head, ...sources].join(" | ");
}

function round(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}
