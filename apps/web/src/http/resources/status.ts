import type { TickReport } from "@dynosaur/core";
import { streamSSE } from "hono/streaming";
import { z } from "zod";
import type { MinuteRow } from "../../store/readings.js";
import type { Supervisor } from "../../supervisor.js";
import { appOr404, appParams, iso, iso8601, type Resource } from "./common.js";
import { bootAnswer } from "./heroku-webhooks.js";

const sinceQuery = z.strictObject({
  since: iso.optional().describe("only rows after this time (default: the last hour)"),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000).describe("at most this many rows"),
});
const eventSchema = z.object({
  at: z.string(),
  kind: z.string(),
  message: z.string(),
  data: z.record(z.string(), z.unknown()),
});

/** GET /api/apps/{name}/status: what the engine sees now, when it runs here. */
export type LiveStatus = {
  name: string;
  scaled_here: true;
  problem: null;
  /** Boot time per process type as the app's Heroku webhook measured it (none without webhooks). */
  measured_boot: ReturnType<typeof bootAnswer>;
} & NonNullable<ReturnType<Supervisor["status"]>>;
/** GET /api/apps/{name}/status when another process scales the app: the last stored ticks. */
export interface StoredStatus {
  name: string;
  scaled_here: false;
  version: number;
  paused: boolean;
  problem: string | null;
  last_ticks: TickReport[];
}
export type AppStatus = LiveStatus | StoredStatus;
/** A tick as GET /api/apps/{name}/ticks and the event stream give it: the report, its time as ISO text. */
export type Tick = TickReport & { at: string };
/** One minute of GET /api/apps/{name}/readings. */
export interface MinuteReading {
  minute: string;
  process_type: string;
  dynos: number | null;
  estimate: number | null;
  sources: MinuteRow["sources"];
}
/** One entry of GET /api/apps/{name}/events. */
export type AppEvent = z.infer<typeof eventSchema>;

/** What an app's engine sees now, and what it saw: ticks, minutes, events, and ticks as they happen. */
export const statusRoutes: Resource = (api, deps) => {
  const tick = (report: TickReport): Tick => ({ at: iso8601(report.time), ...report });

  api.route(
    {
      method: "get",
      path: "/api/apps/{name}/status",
      summary:
        "What the engine sees now: formation, estimate, winner, each source's value, unit, health, last reading and error",
      tag: "apps",
      access: "user",
      params: appParams,
      responses: {
        200: {
          description: "status (from the last stored tick when another process scales the app)",
          schema: z.record(z.string(), z.unknown()),
        },
      },
    },
    async ({ c, params }) => {
      const a = await appOr404(deps, c, params.name);
      if (a instanceof Response) return a;
      const local = deps.supervisor.status(a.name);
      if (local) {
        const measured = deps.webhooks ? bootAnswer(deps.webhooks, a.id) : {};
        return c.json({
          name: a.name,
          scaled_here: true,
          problem: null,
          measured_boot: measured,
          ...local,
        } satisfies LiveStatus);
      }
      const reports = ((await deps.readings.latest([a.id])).get(a.id) ?? []) as TickReport[];
      return c.json({
        name: a.name,
        scaled_here: false,
        version: a.version,
        paused: a.paused,
        problem: deps.supervisor.problem(a.name),
        last_ticks: reports,
      } satisfies StoredStatus);
    },
  );

  api.route(
    {
      method: "get",
      path: "/api/apps/{name}/ticks",
      summary: "Tick reports at full resolution: every one for the last hour, those where something happened for 48 h",
      tag: "history",
      access: "user",
      params: appParams,
      query: sinceQuery,
      responses: {
        200: {
          description: "ticks, oldest first",
          schema: z.object({ ticks: z.array(z.record(z.string(), z.unknown())) }),
        },
      },
    },
    async ({ c, params, query }) => {
      const a = await appOr404(deps, c, params.name);
      if (a instanceof Response) return a;
      await deps.recorder.flush();
      const since = query.since ? Date.parse(query.since) : deps.clock.now() - 3_600_000;
      const rows = await deps.readings.ticks(a.id, since, query.limit);
      return c.json({ ticks: rows.map((r) => ({ at: iso8601(r.time), ...(r.report as object) })) });
    },
  );

  api.route(
    {
      method: "get",
      path: "/api/apps/{name}/readings",
      summary:
        "One row per minute (each source's value and estimate, the estimate, the dynos), kept retention_days: what charts and replays read",
      tag: "history",
      access: "user",
      params: appParams,
      query: z.strictObject({
        since: iso.optional().describe("from this time (default: 24 h ago)"),
        until: iso.optional().describe("up to this time (default: now)"),
        limit: z.coerce.number().int().min(1).max(50_000).default(20_160),
      }),
      responses: {
        200: {
          description: "minutes, oldest first",
          schema: z.object({ readings: z.array(z.record(z.string(), z.unknown())) }),
        },
      },
    },
    async ({ c, params, query }) => {
      const a = await appOr404(deps, c, params.name);
      if (a instanceof Response) return a;
      await deps.recorder.flush();
      const now = deps.clock.now();
      const rows = await deps.readings.minutes(
        a.id,
        query.since ? Date.parse(query.since) : now - 86_400_000,
        query.until ? Date.parse(query.until) : now + 60_000,
        query.limit,
      );
      return c.json({
        readings: rows.map(
          (r): MinuteReading => ({
            minute: iso8601(r.minute),
            process_type: r.processType,
            dynos: r.dynos,
            estimate: r.estimate,
            sources: r.sources,
          }),
        ),
      });
    },
  );

  api.route(
    {
      method: "get",
      path: "/api/apps/{name}/events",
      summary:
        "Scale ups and downs (reason, winner), manual changes, refusals, outages and recoveries, config changes (kept 90 days)",
      tag: "history",
      access: "user",
      params: appParams,
      query: sinceQuery,
      responses: {
        200: { description: "events, oldest first", schema: z.object({ events: z.array(eventSchema) }) },
      },
    },
    async ({ c, params, query }) => {
      const a = await appOr404(deps, c, params.name);
      if (a instanceof Response) return a;
      await deps.recorder.flush();
      const rows = await deps.readings.events(a.id, query.since ? Date.parse(query.since) : 0, query.limit);
      return c.json({
        events: rows.map((e): AppEvent => ({ at: iso8601(e.time), kind: e.kind, message: e.message, data: e.data })),
      });
    },
  );

  api.route(
    {
      method: "get",
      path: "/api/apps/{name}/stream",
      summary: "Live ticks as Server-Sent Events (`event: tick`, data: the tick report)",
      tag: "history",
      access: "user",
      params: appParams,
      responses: {
        200: { description: "an event stream", contentType: "text/event-stream", schema: z.string() },
      },
    },
    async ({ c, params }) => {
      const a = await appOr404(deps, c, params.name);
      if (a instanceof Response) return a;
      return streamSSE(c, async (stream) => {
        let last = deps.clock.now();
        let wake: () => void = () => {};
        const queue: TickReport[] = [];
        const off = deps.supervisor.onTick((name, report) => {
          if (name !== a.name) return;
          queue.push(report);
          wake();
        });
        stream.onAbort(() => {
          off();
          wake();
        });
        while (!stream.aborted) {
          // Scaled here: ticks arrive as they happen. Elsewhere: read what the scaling process stored.
          if (deps.supervisor.status(a.name) === null) {
            for (const r of await deps.readings.ticks(a.id, last, 100)) queue.push(r.report as TickReport);
          }
          for (const report of queue.splice(0)) {
            last = Math.max(last, report.time);
            await stream.writeSSE({ event: "tick", data: JSON.stringify(tick(report)) });
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, 1000).unref();
          });
        }
      });
    },
  );
};
