import { DynosaurError } from "@dynosaur/core";
import type { PluginLoader } from "@dynosaur/host";

/** The first-party plugin packages, by their `use:` names; the server offers those installed. */
export const FIRST_PARTY_SPECS = [
  "random",
  "newrelic",
  "google-analytics",
  "redis-queue",
  "postgres-queue",
  "heroku-router",
] as const;

export interface InstalledPlugin {
  /** The `use:` entry that loads it. */
  spec: string;
  /** What `plugins[].type` names. */
  type: string;
  description: string | null;
  unit: string;
}

/**
 * The plugin types a config could use on this server: those of every installed first-party
 * package and of the `extra` specs (e.g. a third-party package a config already uses). A package
 * that is not installed is left out; one that fails to load otherwise is an error worth seeing.
 */
export async function installedPlugins(
  loader: PluginLoader,
  extra: readonly string[] = [],
): Promise<InstalledPlugin[]> {
  const specs = [...new Set([...FIRST_PARTY_SPECS, ...extra])];
  const found = await Promise.all(
    specs.map(async (spec) => {
      try {
        return await loader.load([spec], [`use[${spec}]`]);
      } catch (e) {
        if (e instanceof DynosaurError && e.code === "DYNO_PLUGIN_NOT_FOUND") return [];
        throw e;
      }
    }),
  );
  return found.flat().map((p) => ({
    spec: p.spec,
    type: p.plugin.type,
    description: p.plugin.description ?? null,
    unit: p.plugin.unit,
  }));
}
