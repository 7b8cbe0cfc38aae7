import type { ReplayScore } from "./api.js";

/** A ratio in words: "half as often", "3 times as often", "as often". */
function often(before: number, after: number): string {
  if (before === after) return "as often";
  if (before === 0) return "where the running version never does";
  const r = after / before;
  if (Math.abs(r - 0.5) < 0.05) return "half as often";
  if (r < 1) return `${Math.round((1 - r) * 100)} % less often`;
  if (Math.abs(r - 2) < 0.1) return "twice as often";
  return r >= 2 ? `${Number(r.toFixed(1))} times as often` : `${Math.round((r - 1) * 100)} % more often`;
}

/**
 * Try-it-first's answer in one line, against the running version:
 * "The draft costs 12 % more and falls short half as often."
 */
export function verdict(running: ReplayScore, draft: ReplayScore): string {
  const a = running.cost_dyno_hours;
  const b = draft.cost_dyno_hours;
  const change = a === 0 ? (b === 0 ? 0 : 100) : Math.round(((b - a) / a) * 100);
  const cost = change === 0 ? "costs the same" : change > 0 ? `costs ${change} % more` : `costs ${-change} % less`;
  const short = running.shortfall_dyno_minutes;
  const shortDraft = draft.shortfall_dyno_minutes;
  const falls =
    shortDraft > 0
      ? `falls short ${often(short, shortDraft)}`
      : short === 0
        ? "never falls short (nor does the running version)"
        : "never falls short";
  return `The draft ${cost} and ${falls}.`;
}
