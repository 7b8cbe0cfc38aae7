/*
 * What the app page's drain panel shows: `GET /api/apps/{name}/drain/chart`, the app's drain
 * minute by minute (requests, service and queue time p95), its bursts of router timeouts and
 * refusals (H12, H13, H14), and whether the drain has gone silent. Active only when the server
 * has drains (`deps.drains`). The dynos beside them are the app's readings (GET .../readings).
 */
import { z } from "zod";
import type { Drains } from "../../drains.js";
import { messageSchema } from "../answers.js";
import { type ApiDeps, appOr404, appParams, iso, iso8601, type Resource } from "./common.js";
import { mergeInstances } from "./drains.js";

/** No line from a drain for this long, and the page says it has gone silent. */
export const SILENT_AFTER_MS = 5 * 60_000;
/** The router's codes the chart marks: a request timed out (H12), a dyno closed the connection (H13), no web dyno (H14). */
export const MARKED_CODES = ["H12", "H13", "H14"] as const;

const chartMinute = z.object({
  minute: z.string().describe("the minute's start"),
  requests: z.number().describe("web requests (router lines) in the minute"),
  service_p95_ms: z.number().nullable(),
  queue_p95_ms: z.number().nullable().describe("from the app's queue-time lines; null without them"),
  errors: z.record(z.string(), z.number()).describe("router error codes (H12...) and their counts"),
});

const burst = z.object({
  from: z.string().describe("the start of its first minute"),
  to: z.string().describe("the end of its last minute"),
  codes: z.record(z.string(), z.number()).describe("H12, H13 and H14 counts over the burst"),
});

const chartAnswer = z.object({
  drain: z.boolean().describe("the app has a drain URL; false: nothing else to show"),
  now: z.string().describe("the server's time"),
  last_line_at: z.string().nullable().describe("when the drain last sent a line; null: never"),
  silent: z.boolean().describe(`the app has a drain and it sent no line for ${SILENT_AFTER_MS / 60_000} minutes`),
  silent_after_seconds: z.number(),
  minutes: z.array(chartMinute).describe("oldest first, every server process's deliveries together"),
  bursts: z.array(burst).describe("runs of minutes with H12, H13 or H14 (at most a minute apart), oldest first"),
});

export type DrainChart = z.infer<typeof chartAnswer>;

export const drainChartRoutes: Resource = (api, deps) => {
  const { drains } = deps;
  if (!drains) return;
  drainChart(api, { ...deps, drains });
};

function drainChart(api: Parameters<Resource>[0], deps: ApiDeps & { drains: Drains }): void {
  api.route(
    {
      method: "get",
      path: "/api/apps/{name}/drain/chart",
      summary:
        "The app page's drain panel: requests/min, service and queue time p95 per minute, H12/H13/H14 bursts, and whether the drain went silent",
      tag: "apps",
      access: "user",
      params: appParams,
      query: z.strictObject({
        since: iso.optional().describe("only minutes from this time (default: the last hour)"),
      }),
      responses: {
        200: { description: "the drain's chart", schema: chartAnswer },
        404: { description: "no such app", schema: messageSchema },
      },
    },
    async ({ c, params, query }) => {
      const app = await appOr404(deps, c, params.name);
      if (app instanceof Response) return app;
      const now = deps.drains.now();
      const base = { now: iso8601(now), silent_after_seconds: SILENT_AFTER_MS / 1000 };
      if (!(await deps.drains.hasDrain(app.id)))
        return c.json({ ...base, drain: false, last_line_at: null, silent: false, minutes: [], bursts: [] });
      const since = query.since ? Date.parse(query.since) : now - 3_600_000;
      // A week of minutes at most: the page's longest range.
      const rows = mergeInstances(await deps.drains.minutes(app.id, since, 7 * 1440 * 4));
      const last = await deps.drains.lastLineAt(app);
      const minutes = rows.map((r) => ({
        minute: r.minute,
        requests: r.requests,
        service_p95_ms: r.service_p95_ms,
        queue_p95_ms: r.queue_p95_ms,
        errors: r.errors,
      }));
      return c.json({
        ...base,
        drain: true,
        last_line_at: last === null ? null : iso8601(last),
        silent: last === null || now - last > SILENT_AFTER_MS,
        minutes,
        bursts: routerErrorBursts(minutes),
      } satisfies DrainChart);
    },
  );
}

/**
 * The runs of minutes with an H12, H13 or H14 (a minute without one between two with one still
 * joins them: a burst of timeouts rarely fills every minute), with each code's count.
 */
export function routerErrorBursts(minutes: readonly { minute: string; errors: Record<string, number> }[]) {
  const out: DrainChart["bursts"] = [];
  let lastEnd = Number.NEGATIVE_INFINITY;
  for (const m of minutes) {
    const codes = Object.fromEntries(MARKED_CODES.flatMap((k) => (m.errors[k] ? [[k, m.errors[k]]] : [])));
    if (Object.keys(codes).length === 0) continue;
    const start = Date.parse(m.minute);
    const current = out.at(-1);
    if (current && start - lastEnd <= 60_000) {
      for (const [k, v] of Object.entries(codes)) current.codes[k] = (current.codes[k] ?? 0) + v;
      current.to = iso8601(start + 60_000);
    } else out.push({ from: m.minute, to: iso8601(start + 60_000), codes });
    lastEnd = start + 60_000;
  }
  return out;
}
