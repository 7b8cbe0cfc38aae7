import { definePlugin, inputError, z } from "@dynosaur/core";
import { describe, expect, it } from "vitest";
import { checkConfig } from "../src/config-check.js";
import type { PluginLoader } from "../src/plugins.js";

/** A plugin whose own start-up check (in `create`) finds two problems in its options. */
const picky = definePlugin({
  type: "picky",
  unit: "things",
  description: "refuses its options at start",
  options: z.object({ url: z.string().optional(), pointer: z.string().optional() }),
  async create(options) {
    const problems = [
      { path: "url", message: `"${options.url}" is not a URL` },
      { path: "pointer", message: "a JSON pointer starts with /" },
    ];
    throw inputError("DYNO_CONFIG_INVALID", problems.map((p) => `${p.path}: ${p.message}`).join("\n"), {
      path: "url",
      problems,
    });
  },
});

/** A package that fails on import: the loader's error names no path. */
const failingLoader = {
  load: async () => {
    throw inputError("DYNO_PLUGIN_INVALID", "use[0]: plugin package picky failed to load: boom");
  },
} as unknown as PluginLoader;
const loader = {
  load: async (specs: readonly string[]) =>
    specs.map((spec) => ({ spec, packageName: spec, version: null, dir: "", plugin: picky })),
} as unknown as PluginLoader;

const config = (entry: Record<string, unknown>) => ({
  use: ["picky"],
  scaler: { dry_run: true, min_dynos: 1, max_dynos: 3 },
  plugins: [{ type: "picky", ...entry }],
});

describe("checkConfig's problems: each at its path, with its code, none read back from a message", () => {
  it("a plugin's start-up check listing two problems gives two, each under the plugin's entry", async () => {
    const r = await checkConfig(config({ url: "not a url", pointer: "x" }), { loader, env: {} });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => [e.path, e.code])).toEqual([
      ["plugins[0].url", "DYNO_CONFIG_INVALID"],
      ["plugins[0].pointer", "DYNO_CONFIG_INVALID"],
    ]);
    for (const e of r.errors) expect(e.message).not.toMatch(/^(plugins\[0\]\.)?(url|pointer):/);
  });

  it("a package that fails on import is a problem of its use: entry", async () => {
    const r = await checkConfig(config({}), { loader: failingLoader, env: {} });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual([
      { path: "use[0]", message: "plugin package picky failed to load: boom", code: "DYNO_PLUGIN_INVALID" },
    ]);
  });
});
