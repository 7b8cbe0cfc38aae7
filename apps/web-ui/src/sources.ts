import type { RJSFSchema } from "@rjsf/utils";
import type { PluginType } from "./api.js";

/*
 * The `plugins[]` entries of the config form: one kind per installed plugin type, named by its
 * type ("sidekiq", not "Option 2"); choosing a kind writes its `type`, so what is typed next
 * stays with that kind; and a new source's package is added to `use:` on its own.
 */

interface Branch {
  title?: string;
  description?: string;
  properties?: { type?: { enum?: unknown[]; const?: unknown; default?: unknown } };
}

/** The type a `plugins[]` branch of the schema stands for (its first `type` name), if any. */
const typeOf = (branch: Branch): string | undefined => {
  const t = branch.properties?.type;
  const name = t?.const ?? t?.enum?.[0];
  return typeof name === "string" ? name : undefined;
};

/**
 * Names each kind of source after its type, has choosing it write that type, and lets the
 * form pick an entry's kind by its `type` (rather than by whichever branch validates first).
 */
export function labelSources(schema: RJSFSchema): RJSFSchema {
  const plugins = (schema.properties as Record<string, RJSFSchema> | undefined)?.plugins;
  const items = plugins?.items as ({ anyOf?: Branch[] } & Record<string, unknown>) | undefined;
  if (!plugins || !items?.anyOf) return schema;
  const anyOf = items.anyOf.map((branch) => {
    const type = typeOf(branch);
    if (!type || !branch.properties?.type) return branch;
    return {
      ...branch,
      title: type,
      properties: { ...branch.properties, type: { ...branch.properties.type, default: type } },
    };
  });
  return {
    ...schema,
    properties: {
      ...schema.properties,
      plugins: { ...plugins, items: { ...items, anyOf, discriminator: { propertyName: "type" } } },
    },
  } as RJSFSchema;
}

/**
 * The config with each source's package in `use:` (when the config lists `use:` at all; without
 * it the server infers first-party packages from the types). Nothing else changes.
 */
export function withUse<T extends Record<string, unknown>>(config: T, installed: readonly PluginType[]): T {
  if (!Array.isArray(config.use) || !Array.isArray(config.plugins)) return config;
  const use = config.use as unknown[];
  const needed = new Set<string>();
  for (const entry of config.plugins as unknown[]) {
    const type = (entry as { type?: unknown } | null)?.type;
    const spec = installed.find((p) => p.type === type)?.spec;
    if (spec && !use.includes(spec)) needed.add(spec);
  }
  return needed.size === 0 ? config : { ...config, use: [...use, ...needed] };
}
