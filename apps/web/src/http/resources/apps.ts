import type { SourceHealth, TickReport } from "@dynosaur/core";
import { z } from "zod";
import { appState, appStateShape, processState, processStateShape } from "../../app-state.js";
import { errorsSchema, invalid, messageSchema } from "../answers.js";
import { appPage, appPageQuery, pageFields } from "../app-page.js";
import { appOr404, appParams, iso8601, type Resource } from "./common.js";

const health = z.enum(["ok", "stale", "outage"]);
const processSchema = z.object({
  type: z.string(),
  current: z.number().nullable(),
  estimate: z.number().nullable(),
  health: health.nullable(),
  winner: z.string().nullable(),
  sources: z.array(z.object({ name: z.string(), health })).describe("each source of this process type and its health"),
  ...processStateShape,
});
const appSummary = z.object({
  name: z.string(),
  version: z.number(),
  paused: z.boolean(),
  dry_run: z.boolean().nullable(),
  scaled_here: z.boolean(),
  last_tick: z.string().nullable(),
  reason: z.string().nullable(),
  problem: z.string().nullable(),
  processes: z.array(processSchema),
  ...appStateShape,
});
const appRecent = z.object({
  dynos: z
    .array(z.number().nullable())
    .describe("the most dynos (process types added up) in each bucket, oldest first; null: no data"),
  last_event: z.object({ at: z.string(), kind: z.string(), message: z.string() }).nullable(),
});

const apiBudget = z.object({
  account: z.string().describe("a hash of the Heroku API key (never the key)"),
  apps: z.number().describe("apps on the key, every server process"),
  wanted_per_hour: z.number().describe("formation reads an hour the apps' own `heroku_poll_interval` asks for"),
  allowed_per_hour: z.number().describe("formation reads an hour the key's budget allows now"),
  reserved_for_changes: z.number().describe("requests an hour kept for scaling"),
  read_every_seconds: z.number().describe("seconds between two formation reads of one app now"),
  rate_limit_remaining: z.number().nullable().describe("the last `RateLimit-Remaining` Heroku sent"),
  spaced: z.boolean().describe("reads are spaced beyond the apps' poll interval to fit the budget"),
  notice: z.string().nullable().describe("what the overview says when reads are spaced"),
});

/** One Heroku key's Platform API budget in GET /api/overview. */
export type ApiBudgetSummary = z.infer<typeof apiBudget>;
/** One process type's line in GET /api/apps. */
export type ProcessSummary = z.infer<typeof processSchema>;
/** One app in GET /api/apps. */
export type AppSummary = z.infer<typeof appSummary>;
/** One app in GET /api/overview: its last 24 h of dynos and its last event. */
export type AppRecent = z.infer<typeof appRecent>;

const SPARK_STEP_MS = 30 * 60_000;
const SPARK_BUCKETS = 48;

/** The apps: listed with what each scales, summed up for the overview, paused and resumed, deleted. */
export const appRoutes: Resource = (api, deps) => {
  api.route(
    {
      method: "get",
      path: "/api/apps",
      summary:
        "A page of the apps, erroring ones first, with their processes (dynos now, estimate, health), paused and dry run",
      tag: "apps",
      access: "user",
      query: appPageQuery,
      responses: {
        200: { description: "the apps", schema: z.object({ apps: z.array(appSummary), ...pageFields }) },
        422: { description: "a bad query", schema: errorsSchema },
      },
    },
    async ({ c, query }) => {
      const page = await appPage(deps.directory, deps.apps, query);
      if ("errors" in page) return invalid(c, page.errors);
      const ids = page.apps.map((a) => a.id);
      const [latest, dryRuns] = await Promise.all([deps.readings.latest(ids), deps.apps.dryRuns(ids)]);
      return c.json({
        next_cursor: page.next_cursor,
        total: page.total,
        apps: page.apps.map((a): AppSummary => {
          const local = deps.supervisor.status(a.name);
          const reports = (latest.get(a.id) ?? []) as TickReport[];
          const time = local?.time ?? reports[0]?.time ?? null;
          const problem = deps.supervisor.problem(a.name);
          const dryRun = local?.dryRun ?? dryRuns.get(a.id) ?? null;
          // Scaled here: what the runtime sees now. Elsewhere: the newest stored tick.
          const processes = local
            ? local.processes.map((p) =>
                summary(
                  p.processType,
                  p.current,
                  p.estimate,
                  p.winner,
                  local.sources.filter((s) => s.process === p.processType),
                  { min: p.minDynos, max: p.maxDynos },
                ),
              )
            : reports.map((r) => summary(r.processType, r.after, r.estimate, r.winner, r.sources));
          return {
            ...appState({ paused: a.paused, dryRun, problem, processes }),
            name: a.name,
            version: a.version,
            paused: a.paused,
            dry_run: dryRun,
            scaled_here: local !== null,
            last_tick: reports[0] ? iso8601(reports[0].time) : time === null ? null : iso8601(time),
            reason: local?.reason ?? reports[0]?.reason ?? null,
            problem,
            processes,
          };
        }),
      });
    },
  );

  api.route(
    {
      method: "get",
      path: "/api/overview",
      summary:
        "What the overview adds to GET /api/apps for a page of apps (same query): its dynos over the last 24 h, its last event",
      tag: "apps",
      access: "user",
      query: appPageQuery,
      responses: {
        422: { description: "a bad query", schema: errorsSchema },
        200: {
          description: "per app name",
          schema: z.object({
            ...pageFields,
            from: z.string().describe("start of the first bucket"),
            step_seconds: z.number(),
            apps: z.record(z.string(), appRecent),
            api_budgets: z
              .array(apiBudget)
              .describe(
                "the Platform API budget of each Heroku key the apps scaled by this process use (4500 requests an hour per account, shared): the most stretched first",
              ),
          }),
        },
      },
    },
    async ({ c, query }) => {
      await deps.recorder.flush();
      // The buckets end with the current minute, so the newest stored minute is in the last one.
      const from = Math.floor(deps.clock.now() / 60_000) * 60_000 + 60_000 - SPARK_STEP_MS * SPARK_BUCKETS;
      const page = await appPage(deps.directory, deps.apps, query);
      if ("errors" in page) return invalid(c, page.errors);
      const ids = page.apps.map((a) => a.id);
      const [series, last] = await Promise.all([
        deps.readings.dynosSeries(ids, from, SPARK_STEP_MS, SPARK_BUCKETS),
        deps.readings.lastEvents(ids),
      ]);
      return c.json({
        next_cursor: page.next_cursor,
        total: page.total,
        from: iso8601(from),
        step_seconds: SPARK_STEP_MS / 1000,
        api_budgets: deps.supervisor.apiBudgets().map(
          (b): ApiBudgetSummary => ({
            account: b.account,
            apps: b.apps,
            wanted_per_hour: b.wantedPerHour,
            allowed_per_hour: b.allowedPerHour,
            reserved_for_changes: b.reservedForChanges,
            read_every_seconds: b.readEverySeconds,
            rate_limit_remaining: b.rateLimitRemaining,
            spaced: b.spaced,
            notice: b.message,
          }),
        ),
        apps: Object.fromEntries(
          page.apps.map((a) => {
            const e = last.get(a.id);
            const recent: AppRecent = {
              dynos: series.get(a.id) ?? Array.from({ length: SPARK_BUCKETS }, () => null),
              last_event: e ? { at: iso8601(e.time), kind: e.kind, message: e.message } : null,
            };
            return [a.name, recent];
          }),
        ),
      });
    },
  );

  for (const [action, paused] of [
    ["pause", true],
    ["resume", false],
  ] as const) {
    api.route(
      {
        method: "post",
        path: `/api/apps/{name}/${action}`,
        summary: paused
          ? "Pause scaling (the engine keeps reading and reporting, never changes the formation)"
          : "Resume scaling",
        tag: "apps",
        access: "user",
        params: appParams,
        responses: { 200: { description: "done", schema: z.object({ name: z.string(), paused: z.boolean() }) } },
      },
      async ({ c, params, principal }) => {
        const a = await appOr404(deps, c, params.name);
        if (a instanceof Response) return a;
        const now = deps.clock.now();
        await deps.apps.setPaused(a.id, paused, now);
        await deps.readings.write({
          ticks: [],
          minutes: [],
          events: [
            {
              appId: a.id,
              time: now,
              kind: paused ? "paused" : "resumed",
              message: `${paused ? "paused" : "resumed"} by ${principal.name}`,
              data: { author: principal.name },
            },
          ],
        });
        await deps.supervisor.sync();
        return c.json({ name: a.name, paused });
      },
    );
  }

  api.route(
    {
      method: "delete",
      path: "/api/apps/{name}",
      summary: "Stop scaling the app and delete it with its versions and history",
      tag: "apps",
      access: "user",
      params: appParams,
      responses: {
        200: { description: "deleted", schema: z.object({ deleted: z.string() }) },
        404: { description: "no such app", schema: messageSchema },
      },
    },
    async ({ c, params }) => {
      const a = await appOr404(deps, c, params.name);
      if (a instanceof Response) return a;
      await deps.apps.delete(a.id);
      await deps.supervisor.sync();
      deps.recorder.forget(a.id);
      return c.json({ deleted: a.name });
    },
  );
};

/** One process type's line in GET /api/apps: its figures, and each of its sources' health. */
function summary(
  type: string,
  current: number | null,
  estimate: number | null,
  winner: string | null,
  sources: readonly { name: string; health: SourceHealth }[],
  limits: { min: number | null; max: number | null } = { min: null, max: null },
): ProcessSummary {
  return {
    type,
    current,
    estimate,
    health: worst(sources.map((s) => s.health)),
    winner,
    sources: sources.map((s) => ({ name: s.name, health: s.health })),
    min_dynos: limits.min,
    max_dynos: limits.max,
    ...processState({ type, current, estimate, sources, ...limits }),
  };
}

const worst = (healths: SourceHealth[]): SourceHealth | null =>
  healths.length === 0 ? null : healths.includes("outage") ? "outage" : healths.includes("stale") ? "stale" : "ok";
