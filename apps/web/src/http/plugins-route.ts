import { z } from "zod";
import { installedPlugins } from "../installed-plugins.js";
import type { PluginLoader } from "../plugins.js";
import { type Api, errorsSchema } from "./routes.js";

/**
 * GET /api/plugins: the plugin types a config can use on this server, each with the `use:`
 * entry that loads it, so the config form offers every one (not only those the config
 * already names) and can add the `use:` entry a new source needs.
 */
export function registerPluginRoutes(api: Api, loader: PluginLoader): void {
  api.route(
    {
      method: "get",
      path: "/api/plugins",
      summary: "The plugin types installed next to the server (first-party ones and those in `use`)",
      tag: "config",
      access: "user",
      query: z.strictObject({
        use: z
          .string()
          .max(1000)
          .optional()
          .describe("comma-separated `use:` entries to include, e.g. a third-party one"),
      }),
      responses: {
        200: {
          description: "the plugin types",
          schema: z.object({
            plugins: z.array(
              z.object({ spec: z.string(), type: z.string(), description: z.string().nullable(), unit: z.string() }),
            ),
          }),
        },
        422: { description: "a plugin could not be loaded", schema: errorsSchema },
      },
    },
    async ({ c, query }) => {
      const extra = (query.use ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      try {
        return c.json({ plugins: await installedPlugins(loader, extra) });
      } catch (e) {
        return c.json({ errors: [{ path: "use", message: (e as Error).message }] }, 422);
      }
    },
  );
}
