import { configJsonSchema, type LoadedPlugin, withEnvReferences } from "@dynosaur/host";
import type { CliIO } from "../setup.js";

/**
 * Prints the JSON Schema of a config, for editors and for reference. With a config,
 * `plugins[]` items are the options of the plugins that config loads.
 */
export function schemaCommand(io: CliIO, plugins: readonly LoadedPlugin[]): number {
  const schema = withEnvReferences(configJsonSchema(plugins.map((p) => p.plugin)));
  io.stdout.write(`${JSON.stringify(schema, null, 2)}\n`);
  return 0;
}
