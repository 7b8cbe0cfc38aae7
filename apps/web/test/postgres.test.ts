import { startHerokuFake } from "@dynosaur/fakes/heroku";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  dropDatabase,
  dryRunConfig,
  emptyTables,
  freshDatabase,
  nextTick,
  onCleanup,
  startTestServer,
} from "./helpers.js";

/*
 * The same server on a real PostgreSQL (scripts/postgres.sh starts one; without it these
 * tests fail). One fresh database for this file, emptied between tests.
 */
let databaseUrl: string;
beforeAll(async () => {
  databaseUrl = await freshDatabase("api");
}, 320_000);
afterAll(() => dropDatabase(databaseUrl));

const SECRET_KEY = "0123456789abcdef".repeat(4);
const HEROKU_KEY = "heroku-fake-0123456789abcdef";

async function server(options: Parameters<typeof startTestServer>[0] = {}) {
  const t = await startTestServer({
    ...options,
    env: { DATABASE_URL: databaseUrl, DYNOSAUR_SECRET_KEY: SECRET_KEY, ...options.env },
  });
  // Each test starts from empty tables.
  onCleanup(() => emptyTables(databaseUrl));
  return t;
}

describe("on PostgreSQL", () => {
  it("concurrent saves without If-Match all win, each as its own version (none answers 409)", async () => {
    const t = await server();
    expect((await t.call("PUT", "/api/apps/shop/config", { body: dryRunConfig() })).status).toBe(200);
    const saves = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        t.call("PUT", "/api/apps/shop/config", { body: dryRunConfig({ scaler: { min_dynos: 1 + (i % 3) } }) }),
      ),
    );
    expect(saves.map((s) => s.status)).toEqual(Array(8).fill(200));
    expect(saves.map((s) => s.json.version).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    // Each version has its event.
    const events = (await t.call("GET", "/api/apps/shop/events?limit=100")).text;
    for (let v = 1; v <= 9; v++) expect(events).toContain(`(version ${v})`);
  });

  it("saves versions, applies them, stores ticks and events, and a restart keeps them", async () => {
    const t = await server();
    expect(t.server.stores.store.dialect).toBe("postgres");
    expect((await t.call("PUT", "/api/apps/shop/config", { body: dryRunConfig() })).json).toEqual({
      name: "shop",
      version: 1,
      created: true,
    });
    const tick = await nextTick(t, "shop");
    expect(
      (
        await t.call("PUT", "/api/apps/shop/config", {
          body: dryRunConfig({ scaler: { min_dynos: 3 } }),
          headers: { "if-match": '"1"' },
        })
      ).status,
    ).toBe(200);
    const after = await nextTick(t, "shop");
    expect(after.after).toBeGreaterThanOrEqual(3);
    const bad = await t.call("PUT", "/api/apps/shop/config", { body: dryRunConfig({ scaler: { min_dynos: -1 } }) });
    expect(bad.status).toBe(422);
    expect(bad.json.errors[0].path).toBe("scaler.min_dynos");
    expect((await t.call("POST", "/api/apps/shop/config/rollback", { body: { version: 1 } })).json.version).toBe(3);
    await t.close();

    const again = await server({ clock: t.clock });
    await again.server.supervisor.sync();
    expect(again.server.supervisor.status("shop")?.version).toBe(3);
    const versions = (await again.call("GET", "/api/apps/shop/config/versions")).json.versions;
    expect(versions.map((v: { version: number }) => v.version)).toEqual([3, 2, 1]);
    const ticks = (
      await again.call("GET", `/api/apps/shop/ticks?since=${encodeURIComponent(new Date(tick.time - 1).toISOString())}`)
    ).json.ticks;
    expect(ticks.length).toBeGreaterThanOrEqual(2);
    expect(typeof ticks[0].time).toBe("number");
    const events = (await again.call("GET", "/api/apps/shop/events")).json.events as {
      kind: string;
      message: string;
    }[];
    expect(events.map((e) => e.kind).filter((k) => !k.startsWith("scale-"))).toEqual([
      "config-changed",
      "config-changed",
      "rollback",
    ]);
    // The dry run's simulated scaling is history too, and says so.
    expect(events.filter((e) => e.kind.startsWith("scale-")).every((e) => e.message.includes("[dry run]"))).toBe(true);
    expect((await again.call("DELETE", "/api/apps/shop")).status).toBe(200);
    expect((await again.call("GET", "/api/apps")).json.apps).toEqual([]);
  });

  it("two saves racing on the same If-Match: exactly one wins, the other gets 409", async () => {
    const t = await server();
    await t.call("PUT", "/api/apps/shop/config", { body: dryRunConfig() });
    const answers = await Promise.all(
      [6, 7, 8, 9].map((max) =>
        t.call("PUT", "/api/apps/shop/config", {
          body: dryRunConfig({ scaler: { max_dynos: max } }),
          headers: { "if-match": '"1"' },
        }),
      ),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409, 409, 409]);
    expect((await t.call("GET", "/api/apps/shop/config/versions")).json.versions).toHaveLength(2);
  });

  it("stores literal secrets encrypted with DYNOSAUR_SECRET_KEY, and refuses them without a key", async () => {
    const heroku = await startHerokuFake({ apiKey: HEROKU_KEY });
    onCleanup(() => heroku.close());
    const t = await server();
    const body = {
      use: ["random"],
      scaler: { heroku_app_name: "example", heroku_api_key: HEROKU_KEY, heroku_api_url: heroku.url, interval: 5 },
      plugins: [{ type: "random", seed: 2 }],
    };
    expect((await t.call("PUT", "/api/apps/shop/config", { body })).status).toBe(200);
    await nextTick(t, "shop");
    expect(heroku.count()).toBeGreaterThan(0);
    const c = new pg.Client({ connectionString: databaseUrl });
    await c.connect();
    onCleanup(() => c.end());
    const dump =
      JSON.stringify((await c.query("SELECT * FROM config_versions")).rows) +
      JSON.stringify((await c.query("SELECT * FROM ticks")).rows);
    expect(dump).toContain("dynosaur-sealed:v1:");
    expect(dump).not.toContain(HEROKU_KEY);
    await t.close();

    const keyless = await server({ env: { DYNOSAUR_SECRET_KEY: "" } });
    const refused = await keyless.call("PUT", "/api/apps/other/config", { body });
    expect(refused.status).toBe(422);
    expect(refused.json.errors[0]).toMatchObject({
      path: "scaler.heroku_api_key",
      message: expect.stringMatching(/DYNOSAUR_SECRET_KEY/),
    });
  });
});
