import { startHerokuFake } from "@dynosaur/fakes/heroku";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropDatabase, emptyTables, freshDatabase, must, onCleanup, startTestServer, until } from "./helpers.js";

/* Heroku webhooks on a real PostgreSQL, shared by two server processes (scripts/postgres.sh). */
let databaseUrl: string;
beforeAll(async () => {
  databaseUrl = await freshDatabase("webhooks");
}, 320_000);
afterAll(() => dropDatabase(databaseUrl));

const SECRET_KEY = "0123456789abcdef".repeat(4);

async function server() {
  const t = await startTestServer({ env: { DATABASE_URL: databaseUrl, DYNOSAUR_SECRET_KEY: SECRET_KEY } });
  onCleanup(() => emptyTables(databaseUrl));
  return t;
}

describe("Heroku webhooks on PostgreSQL", () => {
  it("an event retried to another server process counts once", async () => {
    const heroku = await startHerokuFake({ apps: { example: { formation: { web: { quantity: 1 } } } } });
    onCleanup(() => heroku.close());
    const a = await server();
    const config = {
      use: ["random"],
      scaler: { dry_run: true, heroku_app_name: "example", min_dynos: 1, max_dynos: 5 },
      plugins: [{ type: "random", seed: 1 }],
    };
    expect((await a.call("PUT", "/api/apps/shop/config", { body: config })).status).toBe(200);
    const b = await server();
    const hook = (await a.call("POST", "/api/apps/shop/heroku-webhook")).json as { url: string; secret: string };
    heroku.addWebhook("example", { include: ["api:release"], level: "notify", url: hook.url, secret: hook.secret });

    const [first] = await heroku.sendRelease("example", { version: 3, status: "pending" });
    expect(first?.status).toBe(200);
    // Heroku's retry lands on the other process (one URL, several processes behind it).
    const path = new URL(must(first, "a delivery").url).pathname;
    const retry = await fetch(`${b.server.url}${path}`, { method: "POST", headers: first?.headers, body: first?.body });
    expect(await retry.json()).toEqual({ taken: false, duplicate: true });

    const events = (await a.call("GET", "/api/apps/shop/events")).json.events as { kind: string }[];
    expect(events.filter((e) => e.kind === "release")).toHaveLength(1);
    // A wrong signature is refused on either process.
    const forged = await fetch(`${b.server.url}${path}`, {
      method: "POST",
      headers: { ...first?.headers, "heroku-webhook-hmac-sha256": Buffer.alloc(32).toString("base64") },
      body: first?.body,
    });
    expect(forged.status).toBe(401);
  });

  it("a formation change delivered to a process that does not scale the app reaches the one that does, at once", async () => {
    const heroku = await startHerokuFake({ apps: { example: { formation: { web: { quantity: 2 } } } } });
    onCleanup(() => heroku.close());
    const a = await server();
    const config = {
      use: ["random"],
      scaler: {
        heroku_app_name: "example",
        heroku_api_key: heroku.apiKey,
        heroku_api_url: heroku.url,
        min_dynos: 1,
        max_dynos: 5,
        interval: 5,
        heroku_poll_interval: 5,
      },
      plugins: [{ type: "random", seed: 1 }],
    };
    expect((await a.call("PUT", "/api/apps/shop/config", { body: config })).status).toBe(200);
    await a.server.supervisor.sync();
    const b = await server();
    await b.server.supervisor.sync();
    expect([a.server.supervisor.scaling, b.server.supervisor.scaling]).toEqual([["shop"], []]);
    const status = async () => (await a.call("GET", "/api/apps/shop/status")).json as Record<string, unknown>;
    expect((await status()).webhooks).toBe(false);

    // Heroku delivers to b (one URL, several processes behind it).
    const hook = (await a.call("POST", "/api/apps/shop/heroku-webhook")).json as { url: string; secret: string };
    const atB = `${b.server.url}${new URL(hook.url).pathname}`;
    heroku.addWebhook("example", { include: ["api:formation"], level: "notify", url: atB, secret: hook.secret });
    heroku.setQuantity("example", "web", 4, "alice@example.com");
    await heroku.webhooksSettled();
    expect(heroku.webhookDeliveries.map((d) => d.status)).toEqual([200]);

    // No tick of a's: its engine heard it from b, through PostgreSQL.
    const at = a.clock.now();
    await until(async () => (await status()).current === 4, 5000, "a's engine hears of the change");
    const seen = await status();
    expect([seen.current, seen.webhooks, a.clock.now()]).toEqual([4, true, at]);
    const events = (await a.call("GET", "/api/apps/shop/events")).json.events as { kind: string; message: string }[];
    expect(events.filter((e) => e.kind === "manual-change").map((e) => e.message)).toEqual([
      expect.stringContaining("alice@example.com"),
    ]);
  });
});
