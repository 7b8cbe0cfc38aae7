import { z } from "zod";
import { iso8601, type Resource } from "./common.js";

/** The server itself: whether it is alive, and which processes run and scale what. */
export const instanceRoutes: Resource = (api, deps) => {
  api.route(
    {
      method: "get",
      path: "/healthz",
      summary: "Liveness: no details",
      tag: "server",
      access: "public",
      responses: { 200: { description: "alive", schema: z.object({ ok: z.literal(true) }) } },
    },
    ({ c }) => c.json({ ok: true }),
  );

  api.route(
    {
      method: "get",
      path: "/api/instances",
      summary: "Live server processes, the apps each one scales and its fair share",
      tag: "server",
      access: "user",
      responses: {
        200: {
          description: "instances",
          schema: z.object({
            instances: z.array(
              z.object({
                id: z.string(),
                host: z.string(),
                pid: z.number(),
                started_at: z.string(),
                seen_at: z.string(),
                apps: z.array(z.string()),
                owned: z.number().describe("How many apps the instance scales"),
                share: z
                  .number()
                  .nullable()
                  .describe("Its fair share of the apps: ceil(apps / live instances); null from an older version"),
              }),
            ),
          }),
        },
      },
    },
    async ({ c }) => {
      const rows = await deps.supervisor.liveInstances();
      return c.json({
        instances: rows.map((r) => ({
          id: r.id,
          host: r.host,
          pid: r.pid,
          started_at: iso8601(r.startedAt),
          seen_at: iso8601(r.seenAt),
          apps: r.apps,
          owned: r.apps.length,
          share: r.share,
        })),
      });
    },
  );
};
