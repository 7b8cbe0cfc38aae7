import { ManualClock } from "@dynosaur/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropDatabase, dryRunConfig, emptyTables, freshDatabase, onCleanup, startTestServer } from "./helpers.js";

/*
 * GET /api/overview: every app's dynos over 24 h in half-hour buckets, and its last event, in
 * one query each. The bucketing is SQL (integer division, GROUP BY): run on both databases.
 */
let databaseUrl: string;
beforeAll(async () => {
  databaseUrl = await freshDatabase("overview");
}, 320_000);
afterAll(() => dropDatabase(databaseUrl));

const NOW = Date.UTC(2026, 0, 2, 12, 0, 30);
/** The first bucket starts 24 h before the end of the current minute. */
const FROM = Date.UTC(2026, 0, 1, 12, 1);
const HALF_HOUR = 30 * 60_000;

describe.each(["sqlite", "postgres"] as const)("GET /api/overview on %s", (dialect) => {
  it("each app's most dynos per half hour (process types added up) and its newest event", async () => {
    const env = dialect === "postgres" ? { DATABASE_URL: databaseUrl, DYNOSAUR_SECRET_KEY: "0".repeat(64) } : {};
    const t = await startTestServer({ clock: new ManualClock(NOW), env });
    if (dialect === "postgres") onCleanup(() => emptyTables(databaseUrl));
    expect(t.server.stores.store.dialect).toBe(dialect);
    expect((await t.call("PUT", "/api/apps/shop/config", { body: dryRunConfig() })).status).toBe(200);
    expect((await t.call("PUT", "/api/apps/blog/config", { body: dryRunConfig() })).status).toBe(200);
    expect((await t.call("POST", "/api/apps/blog/pause")).status).toBe(200);
    const shop = await t.server.stores.apps.get("shop");
    if (!shop) throw new Error("shop was not stored");

    const minute = (at: number, processType: string, dynos: number | null) => ({
      appId: shop.id,
      processType,
      minute: at,
      dynos,
      estimate: null,
      sources: [],
    });
    await t.server.stores.readings.write({
      ticks: [],
      minutes: [
        minute(FROM - 60_000, "web", 9), // before the first bucket: left out
        minute(FROM, "web", 2),
        minute(FROM, "worker", 1),
        minute(FROM + 60_000, "web", 1),
        minute(FROM + HALF_HOUR + 5 * 60_000, "web", 4),
        minute(FROM + HALF_HOUR + 6 * 60_000, "web", null),
        minute(FROM + 3 * HALF_HOUR, "web", null),
      ],
      events: [{ appId: shop.id, time: NOW, kind: "scale-up", message: "scaled web from 1 to 2", data: {} }],
    });

    const r = await t.call("GET", "/api/overview");
    expect(r.status).toBe(200);
    expect(r.json.from).toBe(new Date(FROM).toISOString());
    expect(r.json.step_seconds).toBe(1800);
    const dynos = r.json.apps.shop.dynos as (number | null)[];
    expect(dynos).toHaveLength(48);
    // The engine's own minute (now) may be in the last bucket; the rest is what was written above.
    expect(dynos.slice(0, 47)).toEqual([3, 4, ...Array.from({ length: 45 }, () => null)]);
    expect(r.json.apps.shop.last_event).toEqual({
      at: new Date(NOW).toISOString(),
      kind: "scale-up",
      message: "scaled web from 1 to 2",
    });
    expect(r.json.apps.blog.last_event).toMatchObject({
      kind: "paused",
      message: "paused by token:DYNOSAUR_API_TOKEN",
    });
    expect(r.json.apps.blog.dynos.slice(0, 47)).toEqual(Array.from({ length: 47 }, () => null));
  });
});
