import { ManualClock } from "@dynosaur/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropDatabase, dryRunConfig, emptyTables, freshDatabase, onCleanup, startTestServer } from "./helpers.js";

/*
 * GET /api/apps and GET /api/overview page on the server: erroring apps first, then paused,
 * then the ones scaling, by name within; a cursor for the next page, `q` and `state` filters.
 */
let databaseUrl: string;
beforeAll(async () => {
  databaseUrl = await freshDatabase("paging");
}, 320_000);
afterAll(() => dropDatabase(databaseUrl));

const NOW = Date.UTC(2026, 0, 2, 12, 0, 30);

describe.each(["sqlite", "postgres"] as const)("paging the apps on %s", (dialect) => {
  it("pages erroring, paused, then scaling apps; searches by name; filters by state; refuses a forged cursor", async () => {
    const env = dialect === "postgres" ? { DATABASE_URL: databaseUrl, DYNOSAUR_SECRET_KEY: "0".repeat(64) } : {};
    const t = await startTestServer({ clock: new ManualClock(NOW), env });
    if (dialect === "postgres") onCleanup(() => emptyTables(databaseUrl));
    const names = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf"];
    for (const name of names)
      expect((await t.call("PUT", `/api/apps/${name}/config`, { body: dryRunConfig() })).status).toBe(200);
    // Nothing scales here from now on, and no tick is stored: the listing shows only what is written below.
    await t.server.supervisor.stop();
    await t.server.recorder.flush();
    for (const table of ["latest", "ticks"] as const) await t.server.stores.store.db.deleteFrom(table).execute();
    expect((await t.call("POST", "/api/apps/delta/pause")).status).toBe(200);
    expect((await t.call("POST", "/api/apps/bravo/pause")).status).toBe(200);
    // golf's newest tick: its source is down.
    const golf = await t.server.stores.apps.get("golf");
    if (!golf) throw new Error("golf was not stored");
    await t.server.stores.readings.write({
      ticks: [
        {
          appId: golf.id,
          time: NOW + 60_000,
          processType: "web",
          report: {
            time: NOW + 60_000,
            processType: "web",
            before: 1,
            after: 1,
            estimate: null,
            winner: null,
            reason: "no reading",
            sources: [{ name: "random", value: null, estimate: null, health: "outage", lastError: "down" }],
            events: [],
          },
        },
      ],
      minutes: [],
      events: [],
    });

    const order = ["golf", "bravo", "delta", "alpha", "charlie", "echo", "foxtrot"];
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 4; page++) {
      const r = await t.call("GET", `/api/apps?limit=3${cursor ? `&cursor=${cursor}` : ""}`);
      expect(r.status).toBe(200);
      expect(r.json.total).toBe(7);
      seen.push(...r.json.apps.map((a: { name: string }) => a.name));
      cursor = r.json.next_cursor;
      if (cursor === null) break;
    }
    expect(seen).toEqual(order);
    expect(cursor).toBeNull();

    const first = await t.call("GET", "/api/apps?limit=2");
    expect(first.json.apps.map((a: { name: string; paused: boolean }) => [a.name, a.paused])).toEqual([
      ["golf", false],
      ["bravo", true],
    ]);
    expect(first.json.apps[0].processes[0]).toMatchObject({ type: "web", health: "outage" });

    const paused = await t.call("GET", "/api/apps?state=paused");
    expect(paused.json.apps.map((a: { name: string }) => a.name)).toEqual(["bravo", "delta"]);
    expect((await t.call("GET", "/api/apps?state=erroring")).json.apps.map((a: { name: string }) => a.name)).toEqual([
      "golf",
    ]);
    const search = await t.call("GET", "/api/apps?q=LT&limit=1");
    expect(search.json).toMatchObject({ total: 1, next_cursor: null });
    expect(search.json.apps.map((a: { name: string }) => a.name)).toEqual(["delta"]);

    // A resume shows at once, not after the health refresh.
    expect((await t.call("POST", "/api/apps/bravo/resume")).status).toBe(200);
    expect((await t.call("GET", "/api/apps?state=paused")).json.apps.map((a: { name: string }) => a.name)).toEqual([
      "delta",
    ]);

    // The overview answers for the same page.
    const overview = await t.call("GET", "/api/overview?limit=2");
    expect(overview.status).toBe(200);
    expect(Object.keys(overview.json.apps)).toEqual(["golf", "delta"]);
    expect(overview.json.total).toBe(7);
    const rest = await t.call("GET", `/api/overview?cursor=${overview.json.next_cursor}`);
    expect(Object.keys(rest.json.apps)).toEqual(["alpha", "bravo", "charlie", "echo", "foxtrot"]);

    const forged = await t.call("GET", "/api/apps?cursor=not-a-cursor");
    expect(forged.status).toBe(422);
    expect(forged.json.errors).toEqual([
      {
        path: "cursor",
        message: expect.stringContaining("start again without `cursor`"),
        code: "DYNO_REQUEST_INVALID",
      },
    ]);
    const forgedOverview = await t.call("GET", "/api/overview?cursor=not-a-cursor");
    expect(forgedOverview.status).toBe(422);
    expect(forgedOverview.json.errors[0]).toMatchObject({ path: "cursor", code: "DYNO_REQUEST_INVALID" });
    const bad = await t.call("GET", "/api/apps?state=sleeping&limit=0");
    expect(bad.status).toBe(422);
    expect(bad.json.errors.map((e: { path: string }) => e.path).sort()).toEqual(["limit", "state"]);
  });
});
