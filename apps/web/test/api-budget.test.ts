import { join } from "node:path";
import { ManualClock } from "@dynosaur/core";
import { startHerokuFake } from "@dynosaur/fakes/heroku";
import { ApiBudgets, accountOf } from "@dynosaur/host";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../src/db/connect.js";
import { ApiBudgetStore } from "../src/store/api-budgets.js";
import { dropDatabase, freshDatabase, nextTick, onCleanup, startTestServer, tempDir } from "./helpers.js";

/*
 * One Platform API budget per Heroku key (issue 23), in the server: every app of a process on
 * one key shares it, the processes sharing a database share it through the api_budgets table
 * (run on both databases), and the overview says when reads are spaced to fit.
 */
const HEROKU_KEY = "heroku-budget-key-0123456789abcdef";
const HOUR = 3_600_000;

let databaseUrl: string;
beforeAll(async () => {
  databaseUrl = await freshDatabase("api_budget");
}, 320_000);
afterAll(() => dropDatabase(databaseUrl));

describe.each(["sqlite", "postgres"] as const)("the api_budgets table on %s", (dialect) => {
  it("two processes with 75 apps each on one key space their reads as for 150; one that stops or falls silent leaves", async () => {
    const open = () => openStore(dialect === "postgres" ? { databaseUrl } : { file: join(tempDir(), "budget.db") });
    const store = await open();
    onCleanup(() => store.close());
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const shareA = new ApiBudgetStore(store.db, "process-a", clock, 10_000);
    const shareB = new ApiBudgetStore(store.db, "process-b", clock, 10_000);
    const a = new ApiBudgets({ clock, share: shareA });
    const b = new ApiBudgets({ clock, share: shareB });
    const inA = Array.from({ length: 75 }, () => a.join(HEROKU_KEY, () => 60_000));
    Array.from({ length: 75 }, () => b.join(HEROKU_KEY, () => 60_000));
    // Another key of process B only: no budget of A's.
    b.join("another-key", () => 60_000);
    const alone = inA[0]?.minPollIntervalMs() ?? 0;
    await a.sync();
    await b.sync();
    await a.sync();
    const account = accountOf(HEROKU_KEY);
    expect(a.notice(account)).toMatchObject({ apps: 150, wantedPerHour: 9000, spaced: true });
    expect(b.notice(account)?.apps).toBe(150);
    expect(inA[0]?.minPollIntervalMs()).toBeCloseTo(alone * 2, 0);
    expect(a.notice(accountOf("another-key"))).toBeNull();
    // The table holds hashes and counts, never a key.
    const rows = await store.db.selectFrom("api_budgets").selectAll().execute();
    expect(rows).toHaveLength(3);
    expect(JSON.stringify(rows)).not.toContain(HEROKU_KEY);

    // B stops: its apps are A's to share no more.
    await shareB.remove();
    await a.sync();
    expect(a.notice(account)?.apps).toBe(75);
    // B publishes again, then falls silent past the time-to-live.
    await b.sync();
    await a.sync();
    expect(a.notice(account)?.apps).toBe(150);
    clock.advance(10_001);
    await a.sync();
    expect(a.notice(account)?.apps).toBe(75);
    if (dialect === "postgres") await store.db.deleteFrom("api_budgets").execute();
  });
});

describe("the overview's API budget", () => {
  it("12 apps reading every 10 s on one key: the overview and each app's status say reads are spaced, never the key", async () => {
    const names = Array.from({ length: 12 }, (_, i) => `app-${String(i).padStart(2, "0")}`);
    const heroku = await startHerokuFake({
      apiKey: HEROKU_KEY,
      apps: Object.fromEntries(names.map((n) => [n, { formation: { web: { quantity: 1 } } }])),
    });
    onCleanup(() => heroku.close());
    const t = await startTestServer();
    for (const name of names) {
      const config = {
        use: ["random"],
        scaler: {
          heroku_app_name: name,
          heroku_api_key: HEROKU_KEY,
          heroku_api_url: heroku.url,
          min_dynos: 1,
          max_dynos: 1,
          interval: 5,
          heroku_poll_interval: 10,
        },
        plugins: [{ type: "random", seed: 7, interval: 5 }],
      };
      expect((await t.call("PUT", `/api/apps/${name}/config`, { body: config })).status).toBe(200);
    }
    for (const name of names) await nextTick(t, name);
    // 12 × 360 reads an hour asked; 3645 allowed (4050 less 405 kept for scaling).
    const r = await t.call("GET", "/api/overview");
    expect(r.status).toBe(200);
    expect(r.json.api_budgets).toHaveLength(1);
    expect(r.json.api_budgets[0]).toMatchObject({
      account: accountOf(HEROKU_KEY),
      apps: 12,
      wanted_per_hour: 4320,
      allowed_per_hour: 3645,
      reserved_for_changes: 405,
      read_every_seconds: Math.round((12 * HOUR) / 3645 / 1000),
      spaced: true,
    });
    expect(r.json.api_budgets[0].notice).toMatch(
      /^12 apps on this key need 4320 formation reads\/h; the budget allows 3645 .*reads spaced to every 12 s.*Use Heroku webhooks/,
    );
    expect(r.text).not.toContain(HEROKU_KEY);
    const status = await t.call("GET", "/api/apps/app-03/status");
    expect(status.json.apiBudget).toMatchObject({ apps: 12, spaced: true, readEverySeconds: 12 });
    expect(status.text).not.toContain(HEROKU_KEY);

    // Half the apps deleted: the others fit again.
    for (const name of names.slice(6)) expect((await t.call("DELETE", `/api/apps/${name}`)).status).toBe(200);
    await t.server.supervisor.sync();
    const after = await t.call("GET", "/api/overview");
    expect(after.json.api_budgets[0]).toMatchObject({ apps: 6, spaced: false, notice: null });
  });
});
