import { type HerokuFake, startHerokuFake } from "@dynosaur/fakes/heroku";
import { HerokuClient } from "@dynosaur/host";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../src/clock.js";
import { must } from "../src/errors.js";
import { memoryLogger } from "../src/logger.js";
import type { Problem } from "../src/report.js";
import { createScaler, scriptedPlugin } from "./helpers.js";

// The loop against a loopback Heroku that checks what the real one checks: every failure
// Heroku can answer with is survived, held through, and never shrinks the app.
let fake: HerokuFake;
let clock: ManualClock;

beforeEach(async () => {
  clock = new ManualClock(Date.UTC(2026, 10, 28));
  fake = await startHerokuFake({
    apps: { shop: { formation: { web: { quantity: 2 } } } },
    now: () => clock.now(),
    maxQuantity: 8,
  });
});
afterEach(() => fake.close());

async function scalerFor(options: { apiKey?: string; app?: string; processType?: string } = {}) {
  const plugin = scriptedPlugin();
  const logger = memoryLogger();
  const problems: Problem[] = [];
  const scaler = await createScaler(
    {
      scaler: {
        heroku_app_name: options.app ?? "shop",
        heroku_api_key: options.apiKey ?? fake.apiKey,
        process_type: options.processType ?? "web",
        heroku_api_url: fake.url,
        min_dynos: 1,
        max_dynos: 10,
        blackout: 0,
        heroku_timeout: 0.3,
      },
      plugins: [{ name: "a", type: "scripted", interval: 5 }],
    },
    {
      plugins: [plugin],
      clock,
      logger,
      alerts: { raise: (p) => problems.push(p), clear: () => {} },
      formation: ({ scaler: s }) =>
        new HerokuClient({
          app: must(s.heroku_app_name, "scaler.heroku_app_name"),
          apiKey: must(s.heroku_api_key, "scaler.heroku_api_key"),
          processType: s.process_type,
          baseUrl: s.heroku_api_url,
          timeoutMs: s.heroku_timeout * 1000,
          clock,
        }),
    },
  );
  return { scaler, plugin, logger, problems };
}

describe("scaler against the Heroku fake", () => {
  it("reads the formation and PATCHes the new quantity", async () => {
    const { scaler, plugin } = await scalerFor();
    plugin.script.set("a", [55]);
    const t = await scaler.tick();
    expect(t).toMatchObject({ before: 2, after: 6 });
    expect(fake.formation("shop", "web")?.quantity).toBe(6);
    const patch = fake.requests.find((r) => r.method === "PATCH");
    // One batch PATCH of /apps/{app}/formation, as for several process types.
    expect(patch?.body).toEqual({ updates: [{ type: "web", quantity: 6 }] });
    await scaler.stop();
  });

  it("401: says the API key was refused, keeps running, never leaks the key", async () => {
    const { scaler, plugin, logger, problems } = await scalerFor({ apiKey: "not-the-right-key-0000" });
    plugin.script.set("a", [55]);
    const t = await scaler.tick();
    expect(t.before).toBeNull();
    expect(logger.text()).toMatch(/HEROKU_UNAUTHORIZED|API key/);
    expect(logger.text()).not.toContain("not-the-right-key-0000");
    expect(problems.some((p) => p.kind === "heroku-error")).toBe(true);
    clock.advance(60_000);
    await expect(scaler.tick()).resolves.toBeDefined();
    await scaler.stop();
  });

  it("404: names the app and process type that do not exist", async () => {
    const { scaler, plugin, logger } = await scalerFor({ processType: "wrker" });
    plugin.script.set("a", [55]);
    await scaler.tick();
    expect(logger.text()).toContain("wrker");
    expect(logger.text()).toContain("HEROKU_NOT_FOUND");
    await scaler.stop();
  });

  it("422 over the plan's limit: goes to the limit Heroku names, stops asking for more, reports it", async () => {
    const { scaler, plugin, problems } = await scalerFor();
    plugin.script.set("a", [95]); // wants 10, the plan allows 8
    await scaler.tick();
    expect(fake.formation("shop", "web")?.quantity).toBe(8);
    for (let i = 0; i < 3; i++) {
      clock.advance(5000);
      await scaler.tick();
    }
    const patches = fake.requests
      .filter((r) => r.method === "PATCH")
      .map((r) => (r.body as { updates: { quantity: number }[] }).updates[0]?.quantity);
    expect(patches).toEqual([10, 8]);
    expect(problems.some((p) => p.kind === "heroku-refused")).toBe(true);
    await scaler.stop();
  });

  it("422 without a stated limit: walks down one dyno per tick, never asking twice", async () => {
    const { scaler, plugin } = await scalerFor();
    plugin.script.set("a", [95]);
    fake.queueFault(
      { kind: "respond", status: 422, body: { id: "invalid_params", message: "Cannot update." } },
      { method: "PATCH", times: 2 },
    );
    for (let i = 0; i < 4; i++) {
      await scaler.tick();
      clock.advance(5000);
    }
    const patches = fake.requests
      .filter((r) => r.method === "PATCH")
      .map((r) => (r.body as { updates: { quantity: number }[] }).updates[0]?.quantity);
    expect(patches).toEqual([10, 9, 8]);
    expect(fake.formation("shop", "web")?.quantity).toBe(8);
    await scaler.stop();
  });

  it("429: backs off and sends nothing until the back-off ends", async () => {
    const { scaler, plugin } = await scalerFor();
    plugin.script.set("a", [55]);
    fake.queueFault({
      kind: "respond",
      status: 429,
      body: { id: "rate_limit", message: "Your account reached the API rate limit" },
      headers: { "RateLimit-Remaining": "0" },
    });
    await scaler.tick();
    const sent = fake.count();
    for (let i = 0; i < 5; i++) {
      clock.advance(5000);
      await scaler.tick();
    }
    expect(fake.count()).toBe(sent);
    clock.advance(120_000);
    const t = await scaler.tick();
    expect(t.after).toBe(6);
    await scaler.stop();
  });

  it("500, a reset and a timeout: hold, then retry on a later tick", async () => {
    const { scaler, plugin } = await scalerFor();
    plugin.script.set("a", [55]);
    for (const fault of [
      { kind: "respond", status: 503, body: { id: "unavailable", message: "down" } },
      { kind: "reset" },
      { kind: "hang" },
    ] as const) {
      fake.queueFault(fault);
      const t = await scaler.tick();
      expect(t.before).toBeNull();
      expect(fake.formation("shop", "web")?.quantity).toBe(2);
      clock.advance(60_000);
    }
    const t = await scaler.tick();
    expect(t.after).toBe(6);
    await scaler.stop();
  });

  it("a failing source never shrinks the app, even when Heroku is fine", async () => {
    const { scaler, plugin } = await scalerFor();
    fake.setQuantity("shop", "web", 7);
    plugin.script.set("a", [new Error("analytics down")]);
    for (let i = 0; i < 100; i++) {
      await scaler.tick();
      clock.advance(5000);
    }
    expect(fake.count("PATCH")).toBe(0);
    expect(fake.formation("shop", "web")?.quantity).toBe(7);
    await scaler.stop();
  });
});
