import { describe, expect, it } from "vitest";
import { z } from "zod";
import { definePlugin } from "../src/plugin.js";
import { checkPluginShape } from "../src/registry.js";

/** `destinations` (contract v2, optional): which options say where each secret is sent. */
describe("a plugin's destinations", () => {
  const plugin = (destinations: unknown) => ({
    ...definePlugin({
      type: "x",
      unit: "u",
      options: z.object({ api_key: z.string(), endpoint: z.string() }),
      create: () => ({ retrieve: async () => 0, estimateDynos: () => 0 }),
    }),
    destinations,
  });

  it("accepts a map of option names to lists of option names, or none", () => {
    expect(() => checkPluginShape(plugin({ api_key: ["endpoint"] }), "x")).not.toThrow();
    expect(() => checkPluginShape(plugin({ api_key: [] }), "x")).not.toThrow();
    expect(() => checkPluginShape(plugin(undefined), "x")).not.toThrow();
  });

  it("refuses anything else, saying what is wrong", () => {
    for (const bad of [["endpoint"], { api_key: "endpoint" }, { api_key: [1] }, null])
      expect(() => checkPluginShape(plugin(bad), "x")).toThrow(
        /`destinations` is not a map of option names to lists of option names/,
      );
  });
});
