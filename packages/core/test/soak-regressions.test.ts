import { type HerokuFake, startHerokuFake } from "@dynosaur/fakes/heroku";
import { HerokuClient } from "@dynosaur/host";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../src/clock.js";
import { must } from "../src/errors.js";
import { memoryLogger } from "../src/logger.js";
import { createScaler, scriptedPlugin } from "./helpers.js";
import { SoakClock } from "./soak/clock.js";

// Small, fixed reproductions of what the soak found, so each stays fixed without
// depending on a seed.
let fake: HerokuFake;
let clock: ManualClock;

beforeEach(async () => {
  clock = new ManualClock(Date.UTC(2026, 10, 28));
  fake = await startHerokuFake({ apps: { shop: { formation: { web: { quantity: 3 } } } }, now: () => clock.now() });
});
afterEach(() => fake.close());

async function scalerFor(scaler: Record<string, unknown> = {}) {
  const plugin = scriptedPlugin();
  const active = new Set<string>();
  const scalerInstance = await createScaler(
    {
      scaler: {
        heroku_app_name: "shop",
        heroku_api_key: fake.apiKey,
        heroku_api_url: fake.url,
        min_dynos: 1,
        max_dynos: 10,
        blackout: 300,
        heroku_timeout: 0.3,
        ...scaler,
      },
      plugins: [{ name: "a", type: "scripted", interval: 5 }],
    },
    {
      plugins: [plugin],
      clock,
      logger: memoryLogger(),
      alerts: { raise: (p) => active.add(p.key), clear: (k) => active.delete(k) },
      formation: ({ scaler: s }) =>
        new HerokuClient({
          app: must(s.heroku_app_name, "scaler.heroku_app_name"),
          apiKey: must(s.heroku_api_key, "scaler.heroku_api_key"),
          baseUrl: s.heroku_api_url,
          timeoutMs: s.heroku_timeout * 1000,
          clock,
        }),
    },
  );
  return { scaler: scalerInstance, plugin, active };
}

describe("found by the soak", () => {
  it("a Heroku error alert is cleared once Heroku answers again (so its recovery is announced)", async () => {
    const { scaler, plugin, active } = await scalerFor();
    plugin.script.set("a", [30]);
    fake.queueFault({ kind: "respond", status: 503, body: { id: "unavailable", message: "down" } });
    await scaler.tick();
    expect([...active].some((k) => k.startsWith("heroku-error"))).toBe(true);
    clock.advance(60_000);
    const t = await scaler.tick();
    expect(t.before).toBe(3);
    expect([...active].filter((k) => k.startsWith("heroku-error"))).toEqual([]);
    await scaler.stop();
  });

  const patches = () =>
    fake.requests
      .filter((r) => r.method === "PATCH" && r.fault === undefined)
      .map((r) => (r.body as { updates: { quantity: number }[] }).updates[0]?.quantity);
  const refuse = () =>
    fake.queueFault(
      { kind: "respond", status: 422, body: { id: "invalid_params", message: "Cannot update." } },
      { method: "PATCH" },
    );

  it("a refused scale-down is not a plan limit: no sudden drop past the step, the blackout or stale data", async () => {
    fake.setQuantity("shop", "web", 8);
    clock.advance(600_000);
    const { scaler, plugin } = await scalerFor({ scale_down_step: 1 });
    plugin.script.set("a", [10]); // wants 1
    refuse();
    const first = await scaler.tick();
    expect(first.before).toBe(8);
    expect(fake.formation("shop", "web")?.quantity).toBe(8);
    // The source fails from now on: nothing may shrink the app while it is stale.
    plugin.script.set("a", [new Error("metrics down")]);
    for (let i = 0; i < 12; i++) {
      clock.advance(5000);
      await scaler.tick();
    }
    expect(patches()).toEqual([]);
    expect(fake.formation("shop", "web")?.quantity).toBe(8);
    await scaler.stop();
  });

  it("when Heroku refuses min_dynos itself, an app below it goes up as far as the plan allows, and no further", async () => {
    // A person scaled to 1; the plan allows 2 of this size, min_dynos asks for 3.
    fake.setQuantity("shop", "web", 1);
    const { scaler, plugin } = await scalerFor({ min_dynos: 3 });
    plugin.script.set("a", [10]);
    fake.queueFault(
      {
        kind: "respond",
        status: 422,
        body: { id: "invalid_params", message: "Cannot update to more than 2 Basic size dynos per process type." },
      },
      { method: "PATCH" },
    );
    const refused = await scaler.tick();
    expect(refused.reason).toMatch(/below min_dynos/);
    clock.advance(60_000);
    const upToLimit = await scaler.tick();
    expect(upToLimit.reason).toBe("below min_dynos (3); Heroku refused 3: up to 2 only");
    for (let i = 0; i < 4; i++) {
      clock.advance(60_000);
      await scaler.tick();
    }
    // 3 was refused; 2 is what the plan allows, asked once, and 3 is not asked again within the hour.
    expect(patches()).toEqual([2]);
    expect(fake.formation("shop", "web")?.quantity).toBe(2);
    await scaler.stop();
  });

  it("the blackout counts from when a change happened, not from the start of a tick that waited for the rate budget", async () => {
    // A clock that jumps over the Heroku client's waits, as time would pass in production.
    const soakClock = new SoakClock(Date.UTC(2026, 10, 28));
    const herokuFake = await startHerokuFake({
      apps: { shop: { formation: { web: { quantity: 4 } } } },
      now: () => soakClock.now(),
    });
    try {
      const plugin = scriptedPlugin();
      const scaler = await createScaler(
        {
          scaler: {
            heroku_app_name: "shop",
            heroku_api_key: herokuFake.apiKey,
            heroku_api_url: herokuFake.url,
            min_dynos: 1,
            max_dynos: 10,
            interval: 60,
            heroku_poll_interval: 60,
            blackout: 120,
            scale_down_step: 1,
          },
          plugins: [{ name: "a", type: "scripted", interval: 60 }],
        },
        {
          plugins: [plugin],
          clock: soakClock,
          logger: memoryLogger(),
          formation: ({ scaler: s }) =>
            new HerokuClient({
              app: must(s.heroku_app_name, "scaler.heroku_app_name"),
              apiKey: must(s.heroku_api_key, "scaler.heroku_api_key"),
              baseUrl: s.heroku_api_url,
              timeoutMs: 2000,
              clock: soakClock,
            }),
        },
      );
      // An account almost out of budget: the client spaces its calls a minute apart.
      const lowBudget = () =>
        herokuFake.queueFault({ kind: "headers", headers: { "RateLimit-Remaining": "1" } }, { method: "GET" });
      const tickAt = async (t: number) => {
        soakClock.set(t);
        return scaler.tick();
      };
      const start = soakClock.now() + 600_000;
      plugin.script.set("a", [40, 15]); // wants 4, then 2 from the next reading on
      lowBudget();
      await tickAt(start);
      lowBudget();
      await tickAt(start + 60_000); // decides 4 → 3 at once, but the PATCH waits for its slot
      for (let t = start + 120_000; t <= start + 600_000; t += 60_000) await tickAt(Math.max(t, soakClock.now()));
      const patches = herokuFake.requests
        .filter((r) => r.method === "PATCH")
        .map((r) => ({ at: r.at, quantity: (r.body as { updates: { quantity: number }[] }).updates[0]?.quantity }));
      expect(patches.map((p) => p.quantity)).toEqual([3, 2]);
      expect(patches[1]?.at).toBeGreaterThanOrEqual((patches[0]?.at ?? Number.POSITIVE_INFINITY) + 120_000);
      await scaler.stop();
    } finally {
      await herokuFake.close();
    }
  });

  it("a quantity Heroku refused once is not held against a person who scaled to it by hand", async () => {
    const { scaler, plugin } = await scalerFor({ blackout: 600, max_dynos: 20 });
    plugin.script.set("a", [95]); // wants 10
    refuse(); // the plan refused 10 (at the time)
    await scaler.tick();
    expect(fake.formation("shop", "web")?.quantity).toBe(3);
    clock.advance(5000);
    await scaler.tick(); // asks for 9 instead
    expect(fake.formation("shop", "web")?.quantity).toBe(9);
    // The plan was upgraded and someone scaled to 12 by hand: the blackout protects that choice.
    clock.advance(5000);
    fake.setQuantity("shop", "web", 12);
    for (let i = 0; i < 30; i++) {
      clock.advance(5000);
      await scaler.tick();
    }
    expect(patches()).toEqual([9]);
    expect(fake.formation("shop", "web")?.quantity).toBe(12);
    await scaler.stop();
  });

  const heroku = () => [...fake.requests].map((r) => r.method);
  const limit = (n: number) => ({
    kind: "respond" as const,
    status: 422,
    body: { id: "invalid_params", message: `Cannot update to more than ${n} Standard-1X size dynos per process type.` },
  });

  it("seed 1793402757: a refused scale-down's Heroku alert ends when Heroku answers again, though no scale follows", async () => {
    fake.setQuantity("shop", "web", 8);
    clock.advance(600_000);
    const { scaler, plugin, active } = await scalerFor({ scale_down_step: 1 });
    plugin.script.set("a", [10]); // wants 1: a step down to 7, refused
    fake.queueFault(limit(4), { method: "PATCH" });
    await scaler.tick();
    expect([...active]).toContain("heroku-error");
    plugin.script.set("a", [80]); // wants 8 again: nothing more to change
    for (let i = 0; i < 3; i++) {
      clock.advance(60_000);
      await scaler.tick();
    }
    expect(heroku().filter((m) => m === "PATCH")).toHaveLength(1);
    expect([...active].filter((k) => k.startsWith("heroku-error"))).toEqual([]);
    await scaler.stop();
  });

  it("seed 491419864: one PATCH per tick: the limit Heroku names is asked for at the next tick, not at once", async () => {
    const { scaler, plugin } = await scalerFor();
    plugin.script.set("a", [90]); // wants 9
    fake.queueFault(limit(6), { method: "PATCH" });
    fake.clearRequests();
    const first = await scaler.tick();
    expect(heroku().filter((m) => m === "PATCH")).toHaveLength(1);
    expect(first.after).toBe(3);
    clock.advance(5000);
    fake.clearRequests();
    const next = await scaler.tick();
    expect(heroku().filter((m) => m === "PATCH")).toHaveLength(1);
    expect(next.after).toBe(6);
    await scaler.stop();
  });

  it("seed 1940335113: a change held back by the rate-limit back-off sends nothing, and its alert ends at the next answer", async () => {
    const { scaler, plugin, active } = await scalerFor({ heroku_poll_interval: 60 });
    plugin.script.set("a", [50]); // wants 5
    fake.queueFault({ kind: "headers", headers: { "RateLimit-Remaining": "0" } }, { method: "GET" });
    fake.clearRequests();
    await scaler.tick();
    expect(heroku()).toEqual(["GET"]); // the PATCH waits for the back-off: never sent
    expect([...active]).toContain("heroku-error");
    plugin.script.set("a", [30]); // wants 3: nothing to change any more
    for (let i = 0; i < 3; i++) {
      clock.advance(60_000);
      await scaler.tick();
    }
    expect(heroku().filter((m) => m === "PATCH")).toEqual([]);
    expect([...active].filter((k) => k.startsWith("heroku-error"))).toEqual([]);
    await scaler.stop();
  });
});
