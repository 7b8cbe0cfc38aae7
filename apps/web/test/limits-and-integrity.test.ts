import type { ManualClock } from "@dynosaur/core";
import { describe, expect, it } from "vitest";
import { createServerLogger } from "../src/log.js";
import { call, dryRunConfig, startTestServer } from "./helpers.js";

/*
 * The smaller findings of issue 21 (7): batch writes chunked, caps on apps and names, control
 * characters escaped in text logs, a depth limit on JSON bodies, a version and its event in
 * one transaction, /healthz and a bad token, X-Frame-Options, expiring API tokens. The
 * PostgreSQL one (a save without If-Match wins a race) is in postgres.test.ts.
 */

describe("limits and integrity", () => {
  it("stores 9,000 ticks written in one batch on SQLite (more than one statement's variables allow)", async () => {
    const t = await startTestServer();
    expect((await t.call("PUT", "/api/apps/shop/config", { body: dryRunConfig() })).status).toBe(200);
    const app = await t.server.stores.apps.get("shop");
    if (!app) throw new Error("shop was stored");
    const start = Date.UTC(2025, 0, 1);
    const ticks = Array.from({ length: 9000 }, (_, i) => ({
      appId: app.id,
      time: start + i * 1000,
      processType: "web",
      report: { n: i },
    }));
    const events = Array.from({ length: 9000 }, (_, i) => ({
      appId: app.id,
      time: start + i,
      kind: "note",
      message: `event ${i}`,
      data: {},
    }));
    await t.server.stores.readings.write({ ticks, minutes: [], events });
    const db = t.server.stores.store.db;
    const count = async (table: "ticks" | "events") =>
      Number(
        (
          await db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<number>().as("n"))
            .where("app_id", "=", app.id)
            .executeTakeFirstOrThrow()
        ).n,
      );
    expect(await count("ticks")).toBe(9000);
    // The app's creation event and the 9,000.
    expect(await count("events")).toBe(9001);
  });

  it("caps the number of apps (DYNOSAUR_MAX_APPS) and the length of names, with a 422 at the path", async () => {
    const t = await startTestServer({ env: { DYNOSAUR_MAX_APPS: "2" } });
    for (const name of ["one", "two"])
      expect((await t.call("PUT", `/api/apps/${name}/config`, { body: dryRunConfig() })).status).toBe(200);
    const third = await t.call("PUT", "/api/apps/three/config", { body: dryRunConfig() });
    expect([third.status, third.json.errors]).toEqual([
      422,
      [
        {
          path: "",
          message: "this server scales 2 apps, the most it takes (DYNOSAUR_MAX_APPS): three was not created",
          hint: "delete apps it no longer scales, or raise DYNOSAUR_MAX_APPS",
          code: "DYNO_LIMIT_REACHED",
        },
      ],
    ]);
    // Apps that exist still change.
    expect(
      (await t.call("PUT", "/api/apps/one/config", { body: dryRunConfig({ scaler: { min_dynos: 2 } }) })).status,
    ).toBe(200);
    const long = await t.call("PUT", "/api/apps/two/config", {
      body: dryRunConfig({ plugins: [{ type: "random", name: "x".repeat(200_000), seed: 1, interval: 5 }] }),
    });
    expect(long.status).toBe(422);
    expect(long.json.errors).toEqual([expect.objectContaining({ path: "plugins[0].name" })]);
    expect(long.text.length).toBeLessThan(2000);
  });

  it("writes control characters in text log lines as escapes: one record, one line, no terminal codes", () => {
    const lines: string[] = [];
    const logger = createServerLogger({ format: "text", level: "info", write: (l) => lines.push(l) }, undefined, {
      web_app: "shop",
    });
    logger.warn("source evil\n2026-01-01T00:00:00.000Z INFO  [shop] forged\u001b[31m red\u0007\u2028end");
    expect(lines).toHaveLength(1);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
    expect(lines[0]).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
    expect(lines[0]).toContain(
      "source evil\\n2026-01-01T00:00:00.000Z INFO  [shop] forged\\x1b[31m red\\x07\\u2028end",
    );
  });

  it("answers a 20,000-deep JSON body with a 400, on a save and on a replay, never a 500", async () => {
    const t = await startTestServer();
    expect((await t.call("PUT", "/api/apps/shop/config", { body: dryRunConfig() })).status).toBe(200);
    const deep = `${"[".repeat(20_000)}${"]".repeat(20_000)}`;
    const replay = await t.call("POST", "/api/apps/shop/replay", {
      body: `{"config": {"scaler": ${deep}}, "days": 1}`,
    });
    expect([replay.status, replay.json.code]).toEqual([400, "DYNO_REQUEST_INVALID"]);
    expect(replay.json.error).toMatch(/nests more than 64 levels/);
    const save = await t.call("PUT", "/api/apps/shop/config", { body: `{"scaler": ${deep}}` });
    expect(save.status).toBe(400);
    // Brackets inside strings are text, not nesting.
    const inString = await t.call("PUT", "/api/apps/shop/config", {
      body: { ...dryRunConfig(), scaler: { ...dryRunConfig().scaler, heroku_app_name: "[".repeat(500) } },
    });
    expect(inString.status).not.toBe(400);
  });

  it("writes a version and its event in one transaction: when the event cannot be written, no version is", async () => {
    const t = await startTestServer();
    await expect(
      t.server.stores.apps.save("shop", dryRunConfig(), {
        author: "test",
        comment: null,
        now: t.clock.now(),
        event: () => {
          throw new Error("the event could not be written");
        },
      }),
    ).rejects.toThrow(/could not be written/);
    expect(await t.server.stores.apps.get("shop")).toBeNull();
    // A save through the API leaves both.
    expect((await t.call("PUT", "/api/apps/shop/config", { body: dryRunConfig() })).status).toBe(200);
    const events = await t.call("GET", "/api/apps/shop/events");
    expect(JSON.stringify(events.json)).toMatch(/app created by token:DYNOSAUR_API_TOKEN \(version 1\)/);
  });

  it("/healthz: 200 without credentials or with a stale cookie (ignored, as on every public route); 401 with a bad token", async () => {
    const t = await startTestServer();
    expect((await t.call("GET", "/healthz", { token: null })).status).toBe(200);
    expect(
      (await t.call("GET", "/healthz", { token: null, headers: { cookie: "dynosaur_session=stale" } })).status,
    ).toBe(200);
    const bad = await t.call("GET", "/healthz", { token: "not-a-token-of-this-server" });
    expect([bad.status, bad.json.code]).toEqual([401, "DYNO_UNAUTHENTICATED"]);
    expect((await t.call("GET", "/healthz")).status).toBe(200);
  });

  it("sends X-Frame-Options: DENY alongside frame-ancestors 'none'", async () => {
    const t = await startTestServer();
    const r = await t.call("GET", "/api/apps");
    expect(r.headers.get("x-frame-options")).toBe("DENY");
    expect(r.headers.get("content-security-policy")).toMatch(/frame-ancestors 'none'/);
  });

  it("an API token may expire: it works until then, and opens nothing after", async () => {
    const t = await startTestServer();
    const created = await t.call("POST", "/api/tokens", { body: { name: "ci", expires_in_days: 1 } });
    expect(created.status).toBe(200);
    expect(created.json.expires_at).toBe(new Date(t.clock.now() + 86_400_000).toISOString());
    const forever = await t.call("POST", "/api/tokens", { body: { name: "deploy" } });
    expect(forever.json.expires_at).toBeNull();
    expect((await call(t.server.url, "GET", "/api/apps", { token: created.json.token })).status).toBe(200);
    (t.clock as ManualClock).advance(86_400_000);
    const expired = await call(t.server.url, "GET", "/api/apps", { token: created.json.token });
    expect([expired.status, expired.json.error]).toEqual([401, "unknown, revoked or expired API token"]);
    expect((await call(t.server.url, "GET", "/api/apps", { token: forever.json.token })).status).toBe(200);
    const listed = (await t.call("GET", "/api/tokens")).json.tokens;
    expect(listed.map((x: { name: string; expires_at: string | null }) => [x.name, x.expires_at !== null])).toEqual([
      ["ci", true],
      ["deploy", false],
    ]);
  });
});
