import { DynosaurError } from "@dynosaur/core";
import { z } from "zod";
import { installedPlugins } from "../../installed-plugins.js";
import { errorsSchema, invalid } from "../answers.js";
import { type Resource, useEntries, useQuery } from "./common.js";

const pluginType = z.object({
  spec: z.string().describe("the `use:` entry that loads it"),
  type: z.string().describe("what `plugins[].type` names"),
  description: z.string().nullable(),
  unit: z.string(),
});

/** A plugin type installed next to the server, and the `use:` entry that loads it. */
export type PluginType = z.infer<typeof pluginType>;

/**
 * GET /api/plugins: the plugin types a config can use on this server, each with the `use:`
 * entry that loads it, so the config form offers every one (not only those the config
 * already names) and can add the `use:` entry a new source needs.
 */
export const pluginRoutes: Resource = (api, deps) => {
  api.route(
    {
      method: "get",
      path: "/api/plugins",
      summary: "The plugin types installed next to the server (first-party ones and those in `use`)",
      tag: "config",
      access: "user",
      query: z.strictObject({
        use: useQuery("a third-party one"),
      }),
      responses: {
        200: { description: "the plugin types", schema: z.object({ plugins: z.array(pluginType) }) },
        422: { description: "a plugin could not be loaded", schema: errorsSchema },
      },
    },
    async ({ c, query }) => {
      const extra = useEntries(query.use);
      try {
        const plugins: PluginType[] = await installedPlugins(deps.loader, extra);
        return c.json({ plugins });
      } catch (e) {
        const code = e instanceof DynosaurError ? e.code : "DYNO_PLUGIN_INVALID";
        return invalid(c, [{ path: "use", message: (e as Error).message, code }]);
      }
    },
  );
};
