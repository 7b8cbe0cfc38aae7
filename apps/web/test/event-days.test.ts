import { ManualClock } from "@dynosaur/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { retention } from "../src/pruner.js";
import type { EventRow } from "../src/store/readings.js";
import {
  countRows,
  dropDatabase,
  dryRunConfig,
  emptyTables,
  freshDatabase,
  onCleanup,
  startTestServer,
} from "./helpers.js";

/*
 * Events of finished days packed into one row per app and day: the events API, the overview's
 * last event and retention must answer as they did with a row per event.
 */
let databaseUrl: string;
beforeAll(async () => {
  databaseUrl = await freshDatabase("event_days");
}, 320_000);
afterAll(() => dropDatabase(databaseUrl));

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** Midday: the three days before today are finished. */
const NOW = Date.UTC(2026, 0, 10, 12, 0, 0);

/** Four days of scale events every 7 minutes, some with the same time, and a config change. */
function fourDays(appId: number): EventRow[] {
  const events: EventRow[] = [];
  const first = Math.floor(NOW / DAY) * DAY - 3 * DAY;
  for (let t = first + 3 * MINUTE; t < NOW; t += 7 * MINUTE) {
    const from = 1 + ((t / MINUTE) % 5);
    events.push({
      appId,
      time: t,
      kind: from % 2 ? "scale-up" : "scale-down",
      message: `scaled web from ${from} to ${from + 1} (random: ${t % 97} random units)`,
      data: { reason: "scale up", winner: "random", from, to: from + 1 },
    });
    if (t % (13 * MINUTE) === 0)
      events.push({
        appId,
        time: t,
        kind: "config-changed",
        message: "version 3 saved by admin",
        data: { version: 3 },
      });
  }
  return events;
}

const count = countRows;

describe.each(["sqlite", "postgres"] as const)("packed event days on %s", (dialect) => {
  const serverEnv = () =>
    dialect === "postgres" ? { DATABASE_URL: databaseUrl, DYNOSAUR_SECRET_KEY: "0".repeat(64) } : {};

  it("packs finished days: the events API (paged too) and the overview's last event answer the same", async () => {
    const clock = new ManualClock(NOW);
    const t = await startTestServer({ clock, env: serverEnv() });
    if (dialect === "postgres") onCleanup(() => emptyTables(databaseUrl));
    expect((await t.call("PUT", "/api/apps/shop/config", { body: dryRunConfig() })).status).toBe(200);
    await t.server.supervisor.stop();
    await t.server.recorder.flush();
    const db = t.server.stores.store.db;
    await db.deleteFrom("events").execute();
    const shop = await t.server.stores.apps.get("shop");
    if (!shop) throw new Error("shop was not stored");
    const readings = t.server.stores.readings;
    const written = fourDays(shop.id);
    await readings.write({ ticks: [], minutes: [], events: written });

    const all = async () => (await t.call("GET", "/api/apps/shop/events?limit=10000")).json.events;
    /** Every event, a page of 50 at a time, each page starting after the last one's time. */
    const paged = async () => {
      const out: { at: string }[] = [];
      for (let since = new Date(0).toISOString(); ; ) {
        const page = (await t.call("GET", `/api/apps/shop/events?since=${since}&limit=50`)).json.events;
        out.push(...page);
        if (page.length < 50) return out;
        since = page[page.length - 1].at;
      }
    };
    const lastEvent = async () => (await t.call("GET", "/api/apps")).json.apps[0].last_event;
    const before = { all: await all(), last: await lastEvent() };
    expect(before.all).toHaveLength(written.length);
    // Paging by time skips the events that share the page's last time: as it did with rows.
    const pagedBefore = await paged();
    expect(pagedBefore.length).toBeGreaterThan(written.length * 0.9);

    // Yesterday and before are packed (one row a day); today stays in rows.
    const today = Math.floor(NOW / DAY) * DAY;
    const packed = await readings.packEvents(NOW, 100);
    expect(packed).toBe(written.filter((e) => e.time < today).length);
    expect(await count(db, "event_days")).toBe(3);
    expect(await count(db, "events")).toBe(written.length - packed);
    expect(await all()).toEqual(before.all);
    expect(await lastEvent()).toEqual(before.last);
    expect(await paged()).toEqual(pagedBefore);

    // A day later today is packed as well, except the app's newest event (the overview reads it by index).
    clock.advance(DAY);
    expect(await readings.packEvents(clock.now(), 100)).toBe(written.length - packed - 1);
    expect(await count(db, "events")).toBe(1);
    expect(await all()).toEqual(before.all);
    expect(await lastEvent()).toEqual(before.last);
    expect(await paged()).toEqual(pagedBefore);

    // A new event: the old newest one is packed into its day at the next pass, in order.
    await readings.write({
      ticks: [],
      minutes: [],
      events: [{ appId: shop.id, time: clock.now(), kind: "scale-up", message: "scaled web 2 → 3", data: {} }],
    });
    expect(await readings.packEvents(clock.now(), 100)).toBe(1);
    expect(await all()).toEqual([...before.all, expect.objectContaining({ message: "scaled web 2 → 3" })]);

    // Retention: a packed day goes once all of it is older than 90 days.
    const keep = retention(14);
    expect(await count(db, "event_days")).toBe(4);
    await readings.prune(today + 88 * DAY - 1, keep);
    expect(await count(db, "event_days")).toBe(4);
    await readings.prune(today + 89 * DAY, keep);
    expect(await count(db, "event_days")).toBe(2);
    expect((await all()).every((e: { at: string }) => Date.parse(e.at) >= today - 2 * DAY)).toBe(true);

    // Deleting the app deletes its packed days.
    expect((await t.call("DELETE", "/api/apps/shop")).status).toBe(200);
    expect(await count(db, "event_days")).toBe(0);
  });
});
