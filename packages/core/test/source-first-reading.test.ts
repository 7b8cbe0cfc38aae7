import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ManualClock } from "../src/clock.js";
import type { FormationApi } from "../src/formation/simulated.js";
import { memoryLogger } from "../src/logger.js";
import { definePlugin, parsePluginOptions } from "../src/plugin.js";
import { createScaler, scriptedPlugin } from "./helpers.js";

/** A service that accepts the call and never answers, and ignores being cancelled. */
const hangingPlugin = definePlugin({
  type: "hanging",
  unit: "units",
  options: z.object({}),
  create: () => ({ retrieve: () => new Promise<number>(() => {}), estimateDynos: (v) => v }),
});

const formation: FormationApi = {
  list: async () => [{ type: "web", quantity: 2, updatedAt: null }],
  update: async () => {
    throw new Error("not expected: nothing should be scaled");
  },
};

function config(plugins: Record<string, unknown>[]) {
  return {
    scaler: {
      heroku_app_name: "shop",
      heroku_api_key: "test-key-123456",
      min_dynos: 1,
      max_dynos: 10,
      interval: 5,
      blackout: 60,
    },
    plugins,
  };
}

describe("a source's first reading", () => {
  it("a source that never answers holds the first tick only until its timeout, and the log says there is no reading yet", async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 28));
    const logger = memoryLogger();
    const plugin = scriptedPlugin();
    plugin.script.set("good", [30]);
    // A real timeout (it bounds a real network call), kept tiny; the engine's clock stays manual.
    const scaler = await createScaler(
      config([
        { name: "hung", type: "hanging", timeout: 0.05 },
        { name: "good", type: "scripted" },
      ]),
      {
        plugins: [hangingPlugin, plugin],
        clock,
        logger,
        formation: () => formation,
      },
    );
    const report = await scaler.tick();
    expect(report.sources.find((s) => s.name === "hung")).toMatchObject({
      value: null,
      health: "stale",
      lastError: expect.stringMatching(/gave no reading within 0.05 s/),
    });
    // The other source's reading still decides the tick.
    expect(report).toMatchObject({ estimate: 3, winner: "good" });
    expect(logger.text()).toMatch(
      /source hung: reading failed, no reading yet: source hung gave no reading within 0.05 s/,
    );
    expect(logger.text()).not.toContain("keeping the last good reading");
    await scaler.stop();
  });

  it("after a good reading, a failure says the last good reading is kept", async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 28));
    const logger = memoryLogger();
    const plugin = scriptedPlugin();
    plugin.script.set("a", [new Error("API down"), 20, new Error("API blinked")]);
    const scaler = await createScaler(config([{ name: "a", type: "scripted", interval: 5 }]), {
      plugins: [plugin],
      clock,
      logger,
      formation: () => formation,
    });
    await scaler.tick();
    expect(logger.text()).toContain("source a: reading failed, no reading yet: API down");
    clock.advance(5000);
    await scaler.tick();
    clock.advance(5000);
    await scaler.tick();
    expect(logger.text()).toContain("source a: reading failed, keeping the last good reading: API blinked");
    await scaler.stop();
  });

  it("a reading may take 10 s unless the config says otherwise", () => {
    expect(parsePluginOptions(hangingPlugin, { type: "hanging" }, "plugins[0]").timeout).toBe(10);
    expect(parsePluginOptions(hangingPlugin, { type: "hanging", timeout: 30 }, "plugins[0]").timeout).toBe(30);
  });
});
