import { startHerokuFake } from "@dynosaur/fakes/heroku";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  call,
  dropDatabase,
  freshDatabase,
  listeningUrl,
  must,
  onCleanup,
  spawnServer,
  TOKEN,
  tempDir,
  until,
} from "./helpers.js";

/*
 * Two real server processes (the built bin) on one real PostgreSQL and the loopback Heroku
 * fake, scaling four apps. Which process scaled an app is read from what Heroku received:
 * each process sends its instance id in its User-Agent.
 */
let databaseUrl: string;
beforeAll(async () => {
  databaseUrl = await freshDatabase("multi");
}, 320_000);
afterAll(() => dropDatabase(databaseUrl));

const APPS = ["alpha", "bravo", "charlie", "delta"];
const INTERVAL_S = 1;

describe("several server processes on one PostgreSQL", () => {
  it("scale four apps with no app scaled twice; a change saved through either reaches the scaler; SIGKILL hands the apps over", {
    timeout: 90_000,
  }, async () => {
    const heroku = await startHerokuFake({
      apps: Object.fromEntries(APPS.map((a) => [a, { formation: { web: { quantity: 1 } } }])),
    });
    onCleanup(() => heroku.close());
    const env = {
      DATABASE_URL: databaseUrl,
      DYNOSAUR_API_TOKEN: TOKEN,
      DYNOSAUR_SECRET_KEY: "ab".repeat(32),
      HEROKU_API_KEY: heroku.apiKey,
      DYNOSAUR_POLL_INTERVAL: "0.25",
    };
    const start = async () => {
      const p = spawnServer(["--port", "0"], { cwd: tempDir(), env });
      await p.waitFor(/listening on http:\/\/\S+,/);
      return { ...p, url: listeningUrl(p.stdout()) };
    };
    const a = await start();
    const b = await start();
    const config = (app: string, min = 1) => ({
      use: ["random"],
      scaler: {
        heroku_app_name: app,
        heroku_api_key: "${HEROKU_API_KEY}",
        heroku_api_url: heroku.url,
        interval: INTERVAL_S,
        heroku_poll_interval: INTERVAL_S,
        min_dynos: min,
        max_dynos: 6,
        blackout: 0,
      },
      plugins: [{ type: "random", seed: 5, interval: INTERVAL_S, max_value: 8 }],
    });
    // Saved through both processes.
    for (const [i, app] of APPS.entries())
      expect((await call(i % 2 ? b.url : a.url, "PUT", `/api/apps/${app}/config`, { body: config(app) })).status).toBe(
        200,
      );

    const instances = async () =>
      (await call(a.url, "GET", "/api/instances")).json.instances as { id: string; pid: number; apps: string[] }[];
    await until(async () => (await instances()).flatMap((i) => i.apps).length === 4, 15_000, "all four apps scaled");
    const live = await instances();
    expect(live).toHaveLength(2);
    expect(live.flatMap((i) => i.apps).sort()).toEqual(APPS);

    // Heroku saw each app from one process only.
    const scalers = (app: string, from = 0) =>
      new Set(
        heroku.requests
          .slice(from)
          .filter((r) => r.path.startsWith(`/apps/${app}/`))
          .map((r) => /\(([^)]+)\)/.exec(String(r.headers["user-agent"]))?.[1]),
      );
    await until(
      () => APPS.every((app) => heroku.requests.filter((r) => r.path.startsWith(`/apps/${app}/`)).length >= 3),
      15_000,
      "a few Heroku calls per app",
    );
    for (const app of APPS) {
      const ids = scalers(app);
      expect([app, ids.size]).toEqual([app, 1]);
      expect(live.find((i) => i.apps.includes(app))?.id).toBe([...ids][0]);
    }

    // A change saved through the process that does not scale the app reaches the one that does.
    const owner = (app: string) =>
      must(
        live.find((i) => i.apps.includes(app)),
        `a live instance scaling ${app}`,
      );
    const target = must(APPS[0], "an app");
    const other = owner(target).pid === a.child.pid ? b : a;
    const scaler = other === a ? b : a;
    expect((await call(other.url, "PUT", `/api/apps/${target}/config`, { body: config(target, 5) })).status).toBe(200);
    await until(() => /config version 2 applied/.test(scaler.stdout()), 5_000, "the scaling process applied version 2");
    await until(() => (heroku.formation(target, "web")?.quantity ?? 0) >= 5, 5_000, "min_dynos 5 obeyed");

    // SIGKILL the process scaling the most apps: the other takes them all.
    const victim = owner(target).apps.length >= 2 ? scaler : other;
    const survivor = victim === a ? b : a;
    const survivorId = must(
      live.find((i) => i.pid === survivor.child.pid),
      "the survivor among the live instances",
    ).id;
    victim.child.kill("SIGKILL");
    await victim.exited;
    const killedAt = heroku.requests.length;
    await until(
      async () => {
        const now = (await call(survivor.url, "GET", "/api/instances")).json.instances as {
          id: string;
          apps: string[];
        }[];
        return now.find((i) => i.id === survivorId)?.apps.length === 4;
      },
      2 * INTERVAL_S * 1000 + 5_000,
      "the survivor scales all four apps",
    );
    // Four apps reading every second would spend 14,400 requests an hour: the key's API budget spaces
    // their reads to about one every 4 s each (6 s while the victim's share is still counted).
    await until(
      () => APPS.every((app) => scalers(app, killedAt).has(survivorId)),
      15_000,
      "Heroku hears from the survivor for every app",
    );
    for (const app of APPS) expect([app, [...scalers(app, killedAt)]]).toEqual([app, [survivorId]]);
    expect(survivor.stdout()).toMatch(/scaling alpha/);
  });
});
