import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { inferUse, type LoadedPlugin, loadPlugins } from "@dynosaur/cli";
import { DynosaurError } from "@dynosaur/core";

const OWN_DIR = dirname(fileURLToPath(import.meta.url));

/** The `use:` entries of a config and the config path each one answers to. */
export function useOf(config: { use?: unknown; plugins?: unknown }): { specs: string[]; paths: string[] } {
  if (Array.isArray(config.use)) return { specs: config.use.map(String), paths: config.use.map((_, i) => `use[${i}]`) };
  // No `use:` (the seed's layout): each plugin type names its package, as in the CLI.
  const types = (Array.isArray(config.plugins) ? config.plugins : []).map((p) =>
    String((p as { type?: unknown })?.type ?? ""),
  );
  const specs = inferUse(types.filter(Boolean));
  return { specs, paths: specs.map((spec) => `plugins[${types.findIndex((t) => inferUse([t])[0] === spec)}].type`) };
}

/**
 * Loads the plugin packages named in configs, the CLI's way (apps/cli's `loadPlugins`):
 * from the server's working directory first, then from where the server is installed.
 * A package is imported once per process; every app naming it shares the definition.
 */
export class PluginLoader {
  readonly #cache = new Map<string, Promise<LoadedPlugin>>();
  readonly #cwd: string;

  constructor(cwd: string) {
    this.#cwd = cwd;
  }

  async load(specs: readonly string[], paths: readonly string[]): Promise<LoadedPlugin[]> {
    return Promise.all(specs.map((spec, i) => this.#one(spec, paths[i] ?? `use[${i}]`)));
  }

  #one(spec: string, path: string): Promise<LoadedPlugin> {
    let found = this.#cache.get(spec);
    if (!found) {
      found = this.#find(spec, path);
      this.#cache.set(spec, found);
      // A failure is not remembered: the package may be installed by the next try.
      found.catch(() => this.#cache.delete(spec));
    }
    return found;
  }

  async #find(spec: string, path: string): Promise<LoadedPlugin> {
    try {
      return one(await loadPlugins([spec], this.#cwd, [path]), spec);
    } catch (e) {
      if (!(e instanceof DynosaurError && e.code === "DYNO_PLUGIN_NOT_FOUND")) throw e;
      try {
        return one(await loadPlugins([spec], OWN_DIR, [path]), spec);
      } catch (again) {
        if (again instanceof DynosaurError && again.code === "DYNO_PLUGIN_NOT_FOUND") {
          throw new DynosaurError(
            "DYNO_PLUGIN_NOT_FOUND",
            `${path}: plugin "${spec}" is not installed next to the server (looked from ${this.#cwd} and from dynosaur-web's install)`,
            {
              exitCode: 2,
              path,
              // The server's own way to add a plugin on Heroku (scripts/heroku-plugins.sh).
              hint: `${again.hint ?? `install ${spec}`}; on Heroku, name its package in the DYNOSAUR_PLUGINS config var and deploy again`,
            },
          );
        }
        throw again;
      }
    }
  }
}

/** The plugin `loadPlugins` loaded for one spec (it gives one per spec, or throws). */
function one(loaded: readonly LoadedPlugin[], spec: string): LoadedPlugin {
  const [plugin] = loaded;
  if (!plugin) throw new Error(`loading plugin "${spec}" gave no plugin`);
  return plugin;
}
