import { type HerokuFake, startHerokuFake } from "@dynosaur/fakes/heroku";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readingSetup, spawnCli, until } from "./helpers.js";

/*
 * Restart safety, with the built CLI as a user runs it: the blackout after a change holds
 * across a stop and a start (clean or not), because the new process takes the last change
 * time from the formation's `updated_at`. A restart never causes an immediate scale-down.
 */
const BLACKOUT_S = 5;

let fake: HerokuFake;
beforeEach(async () => {
  fake = await startHerokuFake({ apps: { shop: { formation: { web: { quantity: 1 } } } } });
});
afterEach(() => fake.close());

const quantity = () => fake.formation("shop", "web")?.quantity;
const updatedAt = () => Date.parse(fake.formation("shop", "web")?.updated_at ?? "");
const patches = () =>
  fake.requests
    .filter((r) => r.method === "PATCH")
    .map((r) => ({ at: r.at, quantity: (r.body as { updates: { quantity: number }[] }).updates[0]?.quantity ?? -1 }));

describe("restarting the CLI mid-scenario", () => {
  it("after SIGTERM and a start with lower load, no scale-down before the blackout since updated_at", async () => {
    const { dir, setReading } = readingSetup(fake.url, { blackout: BLACKOUT_S });
    const env = { HEROKU_API_KEY: fake.apiKey };
    setReading(60);
    const first = spawnCli(["c.yaml"], { cwd: dir, env });
    await until(() => quantity() === 6, 15_000, "the first run scales up to 6");
    const changedAt = updatedAt();
    first.child.kill("SIGTERM");
    expect((await first.exited).code).toBe(0);

    setReading(10); // wants 1: a scale-down as soon as the blackout allows
    const second = spawnCli(["c.yaml"], { cwd: dir, env });
    await until(() => quantity() === 1, 15_000, "the second run scales down once the blackout is over");
    second.child.kill("SIGTERM");
    const { code, stdout } = await second.exited;
    expect(code).toBe(0);

    const down = patches().filter((p) => p.quantity < 6);
    expect(down).toHaveLength(1);
    for (const p of down) expect(p.at - changedAt).toBeGreaterThanOrEqual(BLACKOUT_S * 1000);
    // The restart came well inside the blackout, and the new process said why it held.
    expect(stdout).toMatch(/web 6→6 .*blackout \(\d+ s left\)/);
    expect(stdout).not.toContain(fake.apiKey);
  }, 40_000);

  it("after a crash (SIGKILL) and a change by hand while it was down, the restart honours that change's blackout", async () => {
    const { dir, setReading } = readingSetup(fake.url, { blackout: BLACKOUT_S });
    const env = { HEROKU_API_KEY: fake.apiKey };
    setReading(40);
    const first = spawnCli(["c.yaml"], { cwd: dir, env });
    await until(() => quantity() === 4, 15_000, "the first run scales up to 4");
    first.child.kill("SIGKILL");
    expect((await first.exited).signal).toBe("SIGKILL");

    // Someone scales up by hand for an event while Dynosaur is down.
    const handAt = Date.now();
    fake.setQuantity("shop", "web", 9);
    const byHand = updatedAt();
    setReading(20); // wants 2
    const second = spawnCli(["c.yaml"], { cwd: dir, env });
    await until(() => quantity() === 2, 15_000, "the second run scales down once the blackout is over");
    second.child.kill("SIGTERM");
    const { code, stdout } = await second.exited;
    expect(code).toBe(0);

    const down = patches().filter((p) => p.at >= handAt);
    expect(down.map((p) => p.quantity)).toEqual([2]);
    for (const p of down) expect(p.at - byHand).toBeGreaterThanOrEqual(BLACKOUT_S * 1000);
    expect(stdout).toMatch(/web 9→9 .*blackout \(\d+ s left\)/);
  }, 40_000);
});
