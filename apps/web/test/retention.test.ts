import type { ManualClock } from "@dynosaur/core";
import { describe, expect, it } from "vitest";
import { dryRunConfig, nextTick, startTestServer } from "./helpers.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe("retention", () => {
  it("prunes ordinary ticks after an hour, notable ones after 48 h, the per-minute series after retention_days, events after 90 days, sessions when expired", async () => {
    const t = await startTestServer({ retentionDays: 14 });
    const clock = t.clock as ManualClock;
    const start = clock.now();
    // Readings always 0: the dynos stay at min_dynos, so most ticks are ordinary (nothing happened).
    await t.call("PUT", "/api/apps/shop/config", {
      body: dryRunConfig({ plugins: [{ type: "random", seed: 7, interval: 5, max_value: 1 }] }),
    });
    await nextTick(t, "shop", 3);
    await t.server.recorder.flush();
    const db = t.server.stores.store.db;
    const count = async (table: "ticks" | "minutes" | "minute_blocks" | "events" | "sessions", notable?: number) =>
      Number(
        (
          await db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll().as("n"))
            .$if(notable !== undefined, (q) => q.where("notable" as never, "=", notable as never))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const minutes = async () =>
      (await t.call("GET", `/api/apps/shop/readings?since=${new Date(start - DAY).toISOString()}`)).json.readings;
    await t.call("POST", "/api/login", { token: null, body: { password: "correct horse battery staple" } });
    const first = {
      ordinary: await count("ticks", 0),
      notable: await count("ticks", 1),
      minutes: await minutes(),
      events: await count("events"),
    };
    expect(first.ordinary).toBeGreaterThan(0);
    expect(first.minutes.length).toBeGreaterThan(0);
    expect(await count("sessions")).toBe(1);

    // Time moves on without the engine (paused, no ticks): only what is old enough goes.
    await t.server.supervisor.stop();
    clock.set(start + HOUR - 60_000);
    expect((await t.server.pruner.runOnce()).ticks).toBe(0);
    clock.set(start + HOUR + 60_000);
    expect((await t.server.pruner.runOnce()).ticks).toBe(first.ordinary);
    clock.set(start + 48 * HOUR - 1);
    expect((await t.server.pruner.runOnce()).ticks).toBe(0);
    clock.set(start + 48 * HOUR + 60_000);
    const pruned = await t.server.pruner.runOnce();
    expect(pruned.ticks).toBe(first.notable);
    // The minutes were packed into hours on the way: the series reads the same.
    expect(await count("minutes")).toBe(0);
    expect(await count("minute_blocks")).toBeGreaterThan(0);
    expect(await minutes()).toEqual(first.minutes);
    expect(await count("sessions")).toBe(1);

    clock.set(start + 14 * DAY + 60_000);
    await t.server.pruner.runOnce();
    expect(await count("minutes")).toBe(0);
    expect(await count("minute_blocks")).toBe(0);
    expect(await count("sessions")).toBe(0);
    expect(await count("events")).toBe(first.events);

    clock.set(start + 90 * DAY + 60_000);
    await t.server.pruner.runOnce();
    expect(await count("events")).toBe(0);
  });
});
