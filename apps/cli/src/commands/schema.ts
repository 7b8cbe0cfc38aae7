import { configSchema, type PluginDefinition, pluginOptionsSchema } from "@dynosaur/core";
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

export function configJsonSchema(plugins: readonly PluginDefinition[]): unknown {
  let schema: z.ZodType = configSchema;
  if (plugins.length > 0) {
    const items = plugins.map((p) => pluginOptionsSchema(p).extend({ type: z.enum([p.type, ...(p.aliases ?? [])]) }).describe(p.description ?? p.type));
    schema = configSchema.extend({ plugins: z.array(items.length === 1 ? items[0]! : z.union(items as unknown as [z.ZodType, z.ZodType])).min(1) });
  }
  const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  return { title: "Dynosaur config", ...json };
}
