import type { TickReport } from "@dynosaur/core";
import { startHerokuFake } from "@dynosaur/fakes/heroku";
import { describe, expect, it } from "vitest";
import { gauge, must, nextTick, onCleanup, startTestServer, type TestServer } from "./helpers.js";

const HEROKU_KEY = "heroku-fake-0123456789abcdef";

/** Ticks until `done(report)` holds (at most `max` ticks). */
async function tickUntil(t: TestServer, app: string, done: (r: TickReport) => boolean, max = 200): Promise<TickReport> {
  for (let i = 0; i < max; i++) {
    const r = await nextTick(t, app);
    if (done(r)) return r;
  }
  throw new Error(`${app}: condition not reached in ${max} ticks`);
}

describe("engines run by the server", () => {
  it("a config change applies live: readings (hysteresis window) and the blackout survive, new limits are obeyed", async () => {
    const heroku = await startHerokuFake({
      apiKey: HEROKU_KEY,
      apps: { example: { formation: { web: { quantity: 1 } } } },
    });
    onCleanup(() => heroku.close());
    const load = await gauge();
    const t = await startTestServer();
    const config = (min: number) => ({
      use: ["dynosaur-plugin-example"],
      // The seed policy: its hysteresis window is what this test watches survive a change.
      scaler: {
        policy: "seed",
        heroku_app_name: "example",
        heroku_api_key: HEROKU_KEY,
        heroku_api_url: heroku.url,
        min_dynos: min,
        max_dynos: 10,
        interval: 5,
        blackout: 300,
        scale_down_step: 0,
        heroku_poll_interval: 5,
      },
      plugins: [
        {
          type: "example",
          name: "load",
          url: load.url,
          json_pointer: "/n",
          per_dyno: 4,
          interval: 5,
          hysteresis_period: 30,
        },
      ],
    });

    load.state.value = 20;
    expect((await t.call("PUT", "/api/apps/shop/config", { body: config(1) })).status).toBe(200);
    const up = await nextTick(t, "shop");
    expect([up.before, up.after, up.estimate]).toEqual([1, 5, 5]);
    const scaledAt = up.time;

    load.state.value = 4;
    const low = await tickUntil(t, "shop", (r) => (r.sources[0]?.lastRetrieval ?? 0) > scaledAt);
    expect(low.estimate).toBe(5); // the hysteresis window still holds the 20
    const retrievedBefore = t.server.supervisor.status("shop")?.sources[0]?.lastRetrieval;
    expect(retrievedBefore).toBeTypeOf("number");

    expect(
      (
        await t.call("PUT", "/api/apps/shop/config?comment=min%202", {
          body: config(2),
          headers: { "if-match": '"1"' },
        })
      ).status,
    ).toBe(200);
    const status = must(t.server.supervisor.status("shop"), "shop scaled here");
    expect(status.version).toBe(2);
    // Same source instance: its last reading (and window) are still there.
    expect(status.sources[0]?.lastRetrieval).toBe(retrievedBefore);
    const after = await nextTick(t, "shop");
    expect(after.estimate).toBe(5);

    // Past the window the estimate is 1 → min 2, but the blackout since the scale-up holds.
    const held = await tickUntil(t, "shop", (r) => r.estimate === 2);
    expect(held.time - scaledAt).toBeLessThan(300_000);
    expect(held.after).toBe(5);
    expect(held.reason).toMatch(/blackout/);

    const down = await tickUntil(t, "shop", (r) => r.after !== 5);
    expect(down.time - scaledAt).toBeGreaterThanOrEqual(300_000);
    expect(down.after).toBe(2); // the new min_dynos
    expect(heroku.formation("example", "web")?.quantity).toBe(2);

    const events = (await t.call("GET", "/api/apps/shop/events")).json.events as {
      kind: string;
      data: Record<string, unknown>;
    }[];
    const kinds = events.map((e) => e.kind);
    expect(kinds).toEqual(["config-changed", "scale-up", "config-changed", "scale-down"]);
    expect(events[1]?.data).toMatchObject({
      from: 1,
      to: 5,
      process: "web",
      winner: "load",
      estimate: 5,
      reason: expect.stringMatching(/up/),
    });
    expect(events[3]?.data).toMatchObject({ from: 5, to: 2, winner: "load" });
  });

  it("records a manual change and a refusal by Heroku as events", async () => {
    const heroku = await startHerokuFake({
      apiKey: HEROKU_KEY,
      maxQuantity: 3,
      apps: { example: { formation: { web: { quantity: 1 } } } },
    });
    onCleanup(() => heroku.close());
    const load = await gauge();
    const t = await startTestServer();
    load.state.value = 4;
    const body = {
      use: ["dynosaur-plugin-example"],
      scaler: {
        heroku_app_name: "example",
        heroku_api_key: HEROKU_KEY,
        heroku_api_url: heroku.url,
        min_dynos: 1,
        max_dynos: 10,
        interval: 5,
        heroku_poll_interval: 5,
      },
      plugins: [{ type: "example", name: "load", url: load.url, json_pointer: "/n", per_dyno: 4, interval: 5 }],
    };
    expect((await t.call("PUT", "/api/apps/shop/config", { body })).status).toBe(200);
    await nextTick(t, "shop");
    heroku.setQuantity("example", "web", 2);
    await tickUntil(t, "shop", (r) => r.before === 2);
    load.state.value = 40;
    await tickUntil(t, "shop", (r) => /not applied|refused/.test(r.reason));
    const kinds = ((await t.call("GET", "/api/apps/shop/events")).json.events as { kind: string }[]).map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(["manual-change", "heroku-refused"]));
  });

  it("a new plugin package in `use:` joins the running engine, whose other sources keep their readings", async () => {
    const t = await startTestServer();
    const base = { scaler: { dry_run: true, interval: 5 }, plugins: [{ type: "random", seed: 1 }] };
    expect((await t.call("PUT", "/api/apps/shop/config", { body: { use: ["random"], ...base } })).status).toBe(200);
    await nextTick(t, "shop");
    const load = await gauge();
    load.state.value = 8;
    const next = {
      use: ["random", "dynosaur-plugin-example"],
      ...base,
      plugins: [...base.plugins, { type: "example", url: load.url, json_pointer: "/n", per_dyno: 1, interval: 5 }],
    };
    expect((await t.call("PUT", "/api/apps/shop/config", { body: next })).status).toBe(200);
    const r = await nextTick(t, "shop");
    expect(r.sources.map((s) => s.name)).toEqual(["random", "example"]);
    expect(t.lines.join("\n")).toMatch(/config version 2 applied \(live\)/);
  });
});
