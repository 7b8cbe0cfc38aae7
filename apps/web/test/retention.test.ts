import type { ManualClock } from "@dynosaur/core";
import { describe, expect, it } from "vitest";
import { dryRunConfig, nextTick, startTestServer } from "./helpers.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe("retention", () => {
  it("prunes ticks after 48 h, the per-minute series after retention_days, events after 90 days, sessions when expired", async () => {
    const t = await startTestServer({ retentionDays: 14 });
    const clock = t.clock as ManualClock;
    const start = clock.now();
    await t.call("PUT", "/api/apps/shop/config", { body: dryRunConfig() });
    await nextTick(t, "shop");
    await t.server.recorder.flush();
    const db = t.server.stores.store.db;
    const count = async (table: "ticks" | "minutes" | "events" | "sessions") =>
      Number(
        (
          await db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll().as("n"))
            .executeTakeFirstOrThrow()
        ).n,
      );
    await t.call("POST", "/api/login", { token: null, body: { password: "correct horse battery staple" } });
    const first = { ticks: await count("ticks"), minutes: await count("minutes"), events: await count("events") };
    expect(first.ticks).toBeGreaterThan(0);
    expect(await count("sessions")).toBe(1);

    // Time moves on without the engine (paused, no ticks): only what is old enough goes.
    await t.server.supervisor.stop();
    clock.set(start + 48 * HOUR - 1);
    expect((await t.server.pruner.runOnce()).ticks).toBe(0);
    clock.set(start + 48 * HOUR + 60_000);
    const pruned = await t.server.pruner.runOnce();
    expect(pruned.ticks).toBe(first.ticks);
    expect(await count("minutes")).toBe(first.minutes);
    expect(await count("sessions")).toBe(1);

    clock.set(start + 14 * DAY + 60_000);
    await t.server.pruner.runOnce();
    expect(await count("minutes")).toBe(0);
    expect(await count("sessions")).toBe(0);
    expect(await count("events")).toBe(first.events);

    clock.set(start + 90 * DAY + 60_000);
    await t.server.pruner.runOnce();
    expect(await count("events")).toBe(0);
  });
});
