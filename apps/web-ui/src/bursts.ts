import type { AppEvent } from "./api.js";

/** Scale events this close together (and of one process type) are one burst. */
export const BURST_MS = 10 * 60_000;

export interface EventGroup {
  /** The newest event of the group: the line shown. */
  head: AppEvent;
  /** The older ones of its burst, newest first (empty for most events). */
  rest: AppEvent[];
}

const isScale = (e: AppEvent) => e.kind === "scale-up" || e.kind === "scale-down";

/**
 * The event log newest first, a burst of scale events of one process type (each within
 * BURST_MS of the next) folded under its newest, so a flapping hour does not bury the rest.
 */
export function groupBursts(newestFirst: readonly AppEvent[]): EventGroup[] {
  const out: EventGroup[] = [];
  for (const e of newestFirst) {
    const last = out.at(-1);
    const prev = last ? (last.rest.at(-1) ?? last.head) : undefined;
    if (
      last &&
      prev &&
      isScale(e) &&
      isScale(last.head) &&
      e.data.process === last.head.data.process &&
      Date.parse(prev.at) - Date.parse(e.at) <= BURST_MS
    )
      last.rest.push(e);
    else out.push({ head: e, rest: [] });
  }
  return out;
}
