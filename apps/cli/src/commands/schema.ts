import { configInputSchema, type PluginDefinition, pluginOptionsSchema, sourceOptionsSchema } from "@dynosaur/core";
import { z } from "zod";
import type { CliIO, Setup } from "../setup.js";

/**
 * Prints the JSON Schema of a config, for editors and for reference. With a config,
 * `plugins[]` items are the options of the plugins that config loads.
 */
export function schemaCommand(io: CliIO, setup: Setup | null): number {
  io.stdout.write(`${JSON.stringify(configJsonSchema(setup?.plugins.map((p) => p.plugin) ?? []), null, 2)}\n`);
  return 0;
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
