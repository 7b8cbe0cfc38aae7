import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type HerokuFake, startHerokuFake } from "@dynosaur/fakes/heroku";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { readingSetup, spawnCli, until } from "./helpers.js";

/*
 * Two Dynosaur processes for one app and process type, as users would run them by mistake:
 * with a shared PostgreSQL only the lock holder scales, and when it is killed (SIGKILL, no
 * goodbye) the other takes over within the retry interval; without a database they notice
 * each other from changes they did not make and warn loudly.
 */
const POSTGRES_SH = fileURLToPath(new URL("../../../scripts/postgres.sh", import.meta.url));
/** The CLI's retry interval for taking the lead (leader.ts), plus room for a busy machine. */
const TAKEOVER_BOUND_MS = 5_000 + 3_000;
const DB_PASSWORD = "db-pass-0123456789";
let databaseUrl: string;

beforeAll(() => {
  const out = execFileSync("bash", [POSTGRES_SH], {
    encoding: "utf8",
    timeout: 300_000,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = new URL(out.trim().split("\n").at(-1) ?? "");
  // The throwaway server trusts local connections; a password proves it never reaches a log.
  url.password = DB_PASSWORD;
  databaseUrl = url.toString();
}, 320_000);

let fake: HerokuFake;
beforeEach(async () => {
  fake = await startHerokuFake({ apps: { shop: { formation: { web: { quantity: 1 } } } } });
});
afterEach(() => fake.close());

/** A process's config dir; its reading (a file the test writes) sets the dynos it wants. */
const instance = (reading: number) => readingSetup(fake.url, { blackout: 0, reading }).dir;

const quantity = () => fake.formation("shop", "web")?.quantity;
const patched = () =>
  fake.requests
    .filter((r) => r.method === "PATCH")
    .map((r) => (r.body as { updates: { quantity: number }[] }).updates[0]?.quantity);
const count = (text: string, re: RegExp) => text.match(new RegExp(re.source, "g"))?.length ?? 0;

describe("two Dynosaurs, one app", () => {
  it("with DATABASE_URL only the lock holder scales; after SIGKILL the standby takes over within the bound", async () => {
    const env = { HEROKU_API_KEY: fake.apiKey, DATABASE_URL: databaseUrl };
    const a = spawnCli(["c.yaml"], { cwd: instance(60), env }); // wants 6
    await a.waitFor(/LEADING: this process holds the lock for shop web/);
    await until(() => quantity() === 6, 10_000, "the leader scales to 6");

    const b = spawnCli(["c.yaml"], { cwd: instance(30), env }); // wants 3
    try {
      await b.waitFor(/STANDING BY: dynosaur shop\/web .* holds the lock for shop web/);
      // The standby decides every tick that it would go to 3, and does not.
      await until(
        () => count(b.output(), /web 6→6 .*standing by: dynosaur shop\/web/) >= 8,
        15_000,
        "the standby ticks while standing by",
      );
      expect(patched()).toEqual([6]);
      expect(quantity()).toBe(6);

      a.child.kill("SIGKILL");
      const killedAt = performance.now();
      await b.waitFor(/TOOK OVER: this process holds the lock for shop web/);
      const takeover = performance.now() - killedAt;
      expect(takeover).toBeLessThan(TAKEOVER_BOUND_MS);
      await until(() => quantity() === 3, 5_000, "the new leader scales to 3");
      // No flapping: the leader's change, then the new leader's, nothing in between.
      expect(patched()).toEqual([6, 3]);
      console.log(`leader takeover after SIGKILL: ${Math.round(takeover)} ms`);
    } finally {
      b.child.kill("SIGTERM");
      a.child.kill("SIGKILL");
    }
    const [ra, rb] = await Promise.all([a.exited, b.exited]);
    expect(ra.signal).toBe("SIGKILL");
    expect(rb.code).toBe(0);
    for (const out of [ra.stdout, ra.stderr, rb.stdout, rb.stderr]) {
      expect(out).not.toContain(DB_PASSWORD);
      expect(out).not.toContain(fake.apiKey);
    }
  }, 60_000);

  it("a clean stop (SIGTERM) of the holder hands the lead over within the retry interval", async () => {
    const env = { HEROKU_API_KEY: fake.apiKey, DATABASE_URL: databaseUrl };
    const a = spawnCli(["c.yaml"], { cwd: instance(50), env });
    await a.waitFor(/LEADING/);
    const b = spawnCli(["c.yaml"], { cwd: instance(50), env });
    await b.waitFor(/STANDING BY/);
    a.child.kill("SIGTERM");
    expect((await a.exited).code).toBe(0);
    const stoppedAt = performance.now();
    await b.waitFor(/TOOK OVER/);
    expect(performance.now() - stoppedAt).toBeLessThan(TAKEOVER_BOUND_MS);
    b.child.kill("SIGTERM");
    expect((await b.exited).code).toBe(0);
  }, 60_000);

  it("without a database, two scalers fighting are noticed and warned about loudly, naming app and process type", async () => {
    const env = { HEROKU_API_KEY: fake.apiKey };
    // No boot hold: each scaler undoes the other's change at its next tick.
    const fighter = (reading: number) => readingSetup(fake.url, { blackout: 0, reading, bootSeconds: 0 }).dir;
    const a = spawnCli(["c.yaml"], { cwd: fighter(60), env });
    const b = spawnCli(["c.yaml"], { cwd: fighter(30), env });
    const warning = /ANOTHER SCALER\? the web formation of app shop changed \d+ times in 15 min without this Dynosaur/;
    try {
      await until(() => warning.test(a.output()) || warning.test(b.output()), 20_000, "a warning about another scaler");
    } finally {
      a.child.kill("SIGTERM");
      b.child.kill("SIGTERM");
    }
    const [ra, rb] = await Promise.all([a.exited, b.exited]);
    const line = [...ra.stdout.split("\n"), ...rb.stdout.split("\n")].find((l) => warning.test(l));
    expect(line).toMatch(/^\S+ WARN {2}ANOTHER SCALER\?/);
    expect(line).toContain("DATABASE_URL");
  }, 60_000);
});
