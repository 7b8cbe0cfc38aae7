import { DynosaurError, inputError } from "./errors.js";
import { PLUGIN_API_VERSION, type PluginDefinition, SUPPORTED_PLUGIN_API_VERSIONS } from "./plugin.js";
import { closest } from "./validate.js";

/** The plugins a config may name, by `type` and by alias. */
export class PluginRegistry {
  readonly #byName = new Map<string, PluginDefinition>();

  constructor(plugins: readonly PluginDefinition[]) {
    for (const plugin of plugins) {
      checkPluginShape(plugin, "a plugin");
      for (const name of [plugin.type, ...(plugin.aliases ?? [])]) this.#byName.set(name, plugin);
    }
  }

  /** The plugin for `type`; an unknown type is a config error listing the known ones. */
  get(type: string, path = "type"): PluginDefinition {
    const plugin = this.#byName.get(type);
    if (plugin) return plugin;
    const known = [...new Set([...this.#byName.values()].map((p) => p.type))];
    const near = closest(type, [...this.#byName.keys()]);
    throw inputError(
      "DYNO_PLUGIN_UNKNOWN_TYPE",
      `${path}: unknown plugin type "${type}"${near ? ` (did you mean "${near}"?)` : ""}; known types: ${known.join(", ") || "none"}`,
      {
        path,
        hint: near
          ? `write type: ${near} if you meant it; a type of another package needs that package in the config's \`use:\` list, installed`
          : `add the package that provides "${type}" to the config's \`use:\` list (e.g. use: [${type}]) and install it`,
      },
    );
  }
}

/**
 * Tells a plugin built for another contract version from a broken one, so the user
 * learns whether to upgrade something or report a bug.
 */
export function checkPluginShape(plugin: unknown, from: string): asserts plugin is PluginDefinition {
  const p = plugin as Partial<PluginDefinition> | null;
  if (!p || typeof p !== "object") {
    throw new DynosaurError(
      "DYNO_PLUGIN_INVALID",
      `${from} does not export a plugin (its default export is ${p === null ? "null" : typeof p})`,
      {
        exitCode: 2,
        hint: "a plugin package must `export default definePlugin({...})` from @dynosaur/core",
      },
    );
  }
  if (p.apiVersion !== undefined && !SUPPORTED_PLUGIN_API_VERSIONS.includes(p.apiVersion)) {
    const newer = p.apiVersion > PLUGIN_API_VERSION;
    throw new DynosaurError(
      "DYNO_PLUGIN_INCOMPATIBLE",
      `${from} was built for plugin contract v${p.apiVersion}, but this @dynosaur/core speaks v${SUPPORTED_PLUGIN_API_VERSIONS.join(" and v")}`,
      {
        exitCode: 2,
        hint: newer
          ? "upgrade @dynosaur/cli and @dynosaur/core"
          : `upgrade ${from} to a release built for @dynosaur/core v${PLUGIN_API_VERSION}`,
      },
    );
  }
  const problems: string[] = [];
  if (p.secrets !== undefined && !(Array.isArray(p.secrets) && p.secrets.every((k) => typeof k === "string")))
    problems.push("`secrets` is not a list of option names");
  if (typeof p.type !== "string" || !p.type) problems.push("no `type`");
  if (typeof p.unit !== "string") problems.push("no `unit`");
  if (typeof p.create !== "function") problems.push("no `create` function");
  if (!p.options || typeof (p.options as { safeParse?: unknown }).safeParse !== "function" || !("shape" in p.options))
    problems.push("`options` is not a zod object schema");
  if (problems.length) {
    throw new DynosaurError("DYNO_PLUGIN_INVALID", `${from} is not a valid Dynosaur plugin: ${problems.join("; ")}`, {
      exitCode: 2,
      hint: "report this to the plugin's author",
    });
  }
}
