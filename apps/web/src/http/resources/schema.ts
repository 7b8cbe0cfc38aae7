import { DynosaurError } from "@dynosaur/core";
import { configJsonSchema } from "@dynosaur/host";
import { z } from "zod";
import { isSecretKey } from "../../secrets.js";
import { errorsSchema, invalid } from "../answers.js";
import { type Resource, useEntries, useQuery } from "./common.js";

/** The JSON Schema of a config with given plugins: what the config form is generated from. */
export const schemaRoutes: Resource = (api, deps) => {
  api.route(
    {
      method: "get",
      path: "/api/schema",
      summary:
        "The JSON Schema of a config using these plugins (the config form is generated from it); secret fields are writeOnly",
      tag: "config",
      access: "user",
      query: z.strictObject({
        use: useQuery("random,dynosaur-plugin-example"),
      }),
      responses: {
        200: { description: "JSON Schema", schema: z.record(z.string(), z.unknown()) },
        422: { description: "a plugin could not be loaded", schema: errorsSchema },
      },
    },
    async ({ c, query }) => {
      const specs = useEntries(query.use);
      try {
        const loaded = await deps.loader.load(
          specs,
          specs.map((_, i) => `use[${i}]`),
        );
        return c.json(
          markSecrets(
            configJsonSchema(loaded.map((p) => p.plugin)),
            loaded.map((p) => p.plugin.secrets ?? []),
          ),
        );
      } catch (e) {
        const code = e instanceof DynosaurError ? e.code : "DYNO_PLUGIN_INVALID";
        return invalid(c, [{ path: "use", message: (e as Error).message, code }]);
      }
    },
  );
};

/** Marks the secret options of the plugins' entries `writeOnly`, so a form never shows them. */
function markSecrets(schema: unknown, pluginSecrets: readonly (readonly string[])[]): unknown {
  const names = new Set(pluginSecrets.flat());
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (!node || typeof node !== "object") return node;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      if (k === "properties" && v && typeof v === "object") {
        out[k] = Object.fromEntries(
          Object.entries(v).map(([prop, s]) => [
            prop,
            (isSecretKey(prop) || names.has(prop)) && s && typeof s === "object"
              ? { ...(walk(s) as object), writeOnly: true }
              : walk(s),
          ]),
        );
      } else out[k] = walk(v);
    }
    return out;
  };
  return walk(schema);
}
