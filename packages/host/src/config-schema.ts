import {
  configInputSchema,
  type PluginDefinition,
  pluginOptionsSchema,
  sourceOptionsSchema,
  WHOLE_REFERENCE,
} from "@dynosaur/core";
import { z } from "zod";

/** What a number or boolean key may also hold in a file: a whole `${VAR}` (check reads the variable's text as one). */
const ENV_REFERENCE = {
  type: "string",
  pattern: WHOLE_REFERENCE.source,
  description: "an environment variable holding the value, e.g. ${MAX_DYNOS} or ${MAX_DYNOS:-10}",
};
const ANNOTATIONS = ["title", "description", "default", "deprecated", "examples"];

/**
 * For editors: every number and boolean also accepts a whole `${VAR}` reference, as check does.
 * (Not for the web's forms, which would show a choice of two types at every number.)
 */
export function withEnvReferences(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withEnvReferences);
  if (!node || typeof node !== "object") return node;
  const out = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, withEnvReferences(v)]));
  if (!["number", "integer", "boolean"].includes(String(out.type))) return out;
  const annotations = Object.fromEntries(Object.entries(out).filter(([k]) => ANNOTATIONS.includes(k)));
  const value = Object.fromEntries(Object.entries(out).filter(([k]) => !ANNOTATIONS.includes(k)));
  return { ...annotations, anyOf: [value, ENV_REFERENCE] };
}

/**
 * The JSON Schema of a config file: what `check` accepts, aliases included (marked
 * deprecated). Without plugins, a `plugins[]` entry lists the options every source has
 * and allows the plugin's own.
 */
export function configJsonSchema(plugins: readonly PluginDefinition[]): unknown {
  // Without plugins, any source options.
  const [first = sourceOptionsSchema.loose(), ...others] = plugins.map((p) =>
    pluginOptionsSchema(p)
      .extend({
        type: z
          .enum([p.type, ...(p.aliases ?? [])])
          .describe(`\`${p.type}\`${p.aliases?.length ? ` (older names: ${p.aliases.join(", ")})` : ""}`),
      })
      .describe(p.description ?? p.type),
  );
  const plugin = others.length === 0 ? first : z.union([first, ...others]);
  const schema = configInputSchema.extend({
    plugins: z
      .array(plugin)
      .min(1)
      .describe(configInputSchema.shape.plugins.description ?? ""),
  });
  const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  return { title: "Dynosaur config", ...json };
}
