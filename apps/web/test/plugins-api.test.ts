import { describe, expect, it } from "vitest";
import { startTestServer } from "./helpers.js";

describe("GET /api/plugins", () => {
  it("lists every plugin type of the installed first-party packages with the use: entry that loads it", async () => {
    const t = await startTestServer();
    const r = await t.call("GET", "/api/plugins");
    expect(r.status).toBe(200);
    const specOf = new Map((r.json.plugins as { spec: string; type: string }[]).map((p) => [p.type, p.spec]));
    // A package exporting several plugins gives each (one per queue library), not only its first.
    expect(
      Object.fromEntries(
        ["random", "sidekiq", "celery", "good-job", "solid-queue", "heroku-router"].map((k) => [k, specOf.get(k)]),
      ),
    ).toEqual({
      random: "random",
      sidekiq: "redis-queue",
      celery: "redis-queue",
      "good-job": "postgres-queue",
      "solid-queue": "postgres-queue",
      "heroku-router": "heroku-router",
    });
  });

  it("leaves out a use: entry that is not installed; a query over its limit is refused with a code", async () => {
    const t = await startTestServer();
    const r = await t.call("GET", "/api/plugins?use=no-such-plugin-xyz");
    expect(r.status).toBe(200);
    expect((r.json.plugins as { spec: string }[]).some((p) => p.spec === "no-such-plugin-xyz")).toBe(false);
    const long = await t.call("GET", `/api/plugins?use=${"x".repeat(1001)}`);
    expect(long.status).toBe(422);
    expect(long.json.errors).toMatchObject([{ path: "use", code: "DYNO_REQUEST_INVALID" }]);
  });
});
