import { z } from "zod";

/*
 * An app's state in words, for the overview and the app page: what a person at 3 a.m. needs
 * first (a source in outage, a process type stuck at its max, paused, dry run), derived from
 * the figures GET /api/apps already gathers. Problem apps sort first by `attention`.
 */

export const processStateShape = {
  min_dynos: z.number().nullable().describe("the fewest dynos in force now; null when not scaled by this process"),
  max_dynos: z.number().nullable().describe("the most dynos in force now; null when not scaled by this process"),
  state: z.string().describe('this process type in words, e.g. "at max (12 of 12)", "outage: site has no reading"'),
  attention: z.boolean().describe("this process type needs a look: an outage, at max, stale readings"),
};
export const appStateShape = {
  state: z.string().describe('the app in words, e.g. "paused · dry run · web: at max (8 of 8)"'),
  attention: z
    .boolean()
    .describe("something needs a look: a config that cannot run, an outage, at max, stale readings"),
};

type Health = "ok" | "stale" | "outage";

export interface ProcessFigures {
  type: string;
  current: number | null;
  estimate: number | null;
  sources: readonly { name: string; health: Health }[];
  min: number | null;
  max: number | null;
}

/** One process type in words, and whether it needs a look. */
export function processState(p: ProcessFigures): { state: string; attention: boolean } {
  const out = p.sources.filter((s) => s.health === "outage").map((s) => s.name);
  const stale = p.sources.filter((s) => s.health === "stale").map((s) => s.name);
  if (out.length > 0)
    return { state: `outage: ${list(out)} ${out.length === 1 ? "has" : "have"} no reading`, attention: true };
  if (p.current === null) return { state: "no tick yet", attention: false };
  const suffix = stale.length > 0 ? `; ${list(stale)} stale` : "";
  if (p.max !== null && p.current >= p.max)
    return { state: `at max (${p.current} of ${p.max})${suffix}`, attention: true };
  if (p.estimate !== null && p.estimate > p.current)
    return { state: `scaling up to ${p.estimate}${suffix}`, attention: stale.length > 0 };
  if (p.estimate !== null && p.estimate < p.current)
    return { state: `scaling down to ${p.estimate}${suffix}`, attention: stale.length > 0 };
  const at = p.min !== null && p.current <= p.min ? ` (at min ${p.min})` : "";
  return { state: `steady at ${p.current}${at}${suffix}`, attention: stale.length > 0 };
}

/** The app in words: what stops it first, then each process type's state. */
export function appState(a: {
  paused: boolean;
  dryRun: boolean | null;
  problem: string | null;
  processes: readonly { type: string; state: string; attention: boolean }[];
}): { state: string; attention: boolean } {
  const parts: string[] = [];
  if (a.problem) parts.push(`cannot run: ${a.problem}`);
  if (a.paused) parts.push("paused");
  if (a.dryRun) parts.push("dry run");
  for (const p of a.processes) parts.push(a.processes.length === 1 ? p.state : `${p.type}: ${p.state}`);
  if (a.processes.length === 0 && !a.problem) parts.push("no tick yet");
  return {
    state: parts.join(" · "),
    attention: a.problem !== null || a.processes.some((p) => p.attention),
  };
}

const list = (names: string[]) => names.join(", ");

/**
 * Whether an app scaled by this process needs a look now (a process type at its max, a source
 * down or stale), from its engine's status: the app directory lists such apps right after the
 * erroring ones, so the overview's first page shows them.
 */
export function statusNeedsAttention(status: {
  processes: readonly {
    processType: string;
    current: number | null;
    estimate: number | null;
    minDynos: number | null;
    maxDynos: number | null;
  }[];
  sources: readonly { process: string; name: string; health: Health }[];
}): boolean {
  return status.processes.some(
    (p) =>
      processState({
        type: p.processType,
        current: p.current,
        estimate: p.estimate,
        sources: status.sources.filter((s) => s.process === p.processType),
        min: p.minDynos,
        max: p.maxDynos,
      }).attention,
  );
}
