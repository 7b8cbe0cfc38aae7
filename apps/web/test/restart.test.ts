import { startHerokuFake } from "@dynosaur/fakes/heroku";
import { describe, expect, it } from "vitest";
import {
  ADMIN_PASSWORD,
  call,
  dryRunConfig,
  listeningUrl,
  nextTick,
  onCleanup,
  spawnServer,
  startTestServer,
  TOKEN,
  tempDir,
  until,
} from "./helpers.js";

describe("restarts and processes on SQLite", () => {
  it("a restart keeps apps, versions and ticks, and picks the apps up again", async () => {
    const t = await startTestServer();
    await t.call("PUT", "/api/apps/shop/config", { body: dryRunConfig() });
    await t.call("PUT", "/api/apps/shop/config", { body: dryRunConfig({ scaler: { max_dynos: 6 } }) });
    await t.call("PUT", "/api/apps/blog/config", { body: dryRunConfig() });
    const tick = await nextTick(t, "shop");
    await t.close();

    const again = await startTestServer({ dir: t.dir, clock: t.clock });
    await again.server.supervisor.sync();
    expect(again.server.supervisor.scaling.sort()).toEqual(["blog", "shop"]);
    expect(
      (await again.call("GET", "/api/apps")).json.apps.map((a: { name: string; version: number }) => [
        a.name,
        a.version,
      ]),
    ).toEqual([
      ["blog", 1],
      ["shop", 2],
    ]);
    expect((await again.call("GET", "/api/apps/shop/config/versions")).json.versions).toHaveLength(2);
    const ticks = (
      await again.call("GET", `/api/apps/shop/ticks?since=${encodeURIComponent(new Date(tick.time - 1).toISOString())}`)
    ).json.ticks;
    expect(ticks.map((x: { time: number }) => x.time)).toContain(tick.time);
    const next = await nextTick(again, "shop");
    expect(next.time).toBeGreaterThanOrEqual(tick.time);
  });

  it("a second process on the same SQLite file says so and exits 2; the first serves on", async () => {
    const dir = tempDir();
    const env = { DYNOSAUR_API_TOKEN: TOKEN, DYNOSAUR_ADMIN_PASSWORD: ADMIN_PASSWORD };
    const first = spawnServer(["--port", "0"], { cwd: dir, env });
    await first.waitFor(/listening on (http:\/\/\S+)/);
    const url = listeningUrl(first.stdout());
    const second = spawnServer(["--port", "0"], { cwd: dir, env });
    const { code } = await second.exited;
    expect(code).toBe(2);
    expect(second.stderr()).toMatch(
      /DYNO_DB_IN_USE: another dynosaur-web process \(pid \d+ on .+\) is serving .*dynosaur\.db/,
    );
    expect(second.stderr()).toMatch(/hint: .*PostgreSQL \(DATABASE_URL\)/);
    expect((await call(url, "GET", "/api/apps")).status).toBe(200);
  });

  it("SIGTERM: finishes the ticks, flushes, exits 0 well within 10 s; the stored ticks survive", async () => {
    const heroku = await startHerokuFake();
    onCleanup(() => heroku.close());
    const dir = tempDir();
    const env = { DYNOSAUR_API_TOKEN: TOKEN, HEROKU_API_KEY: heroku.apiKey };
    const server = spawnServer(["--port", "0", "--log-format", "json"], { cwd: dir, env });
    await server.waitFor(/"event":"listening"/);
    const url = listeningUrl(server.stdout());
    const body = {
      use: ["random"],
      scaler: {
        heroku_app_name: "example",
        heroku_api_key: "${HEROKU_API_KEY}",
        heroku_api_url: heroku.url,
        interval: 0.2,
        min_dynos: 1,
        max_dynos: 3,
      },
      plugins: [{ type: "random", seed: 3, interval: 0.2 }],
    };
    expect((await call(url, "PUT", "/api/apps/shop/config", { body })).status).toBe(200);
    await server.waitFor(/"event":"tick"/);
    const started = performance.now();
    server.child.kill("SIGTERM");
    const { code } = await server.exited;
    const took = performance.now() - started;
    expect(code).toBe(0);
    expect(took).toBeLessThan(10_000);
    const lines = server
      .stdout()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { event?: string; message: string });
    expect(lines.at(-1)?.event).toBe("stopped");
    expect(lines.some((l) => l.event === "app-stop")).toBe(true);
    expect(server.stdout()).not.toContain(heroku.apiKey);
    const ticked = lines.filter((l) => l.event === "tick").length;

    // The ticks it logged are in the database.
    const again = spawnServer(["--port", "0"], { cwd: dir, env });
    await again.waitFor(/listening on/);
    const url2 = listeningUrl(again.stdout());
    await until(
      async () =>
        (await call(url2, "GET", "/api/apps/shop/ticks?since=2000-01-01T00:00:00Z")).json.ticks.length >= ticked,
      10_000,
      "the ticks stored",
    );
  });
});
