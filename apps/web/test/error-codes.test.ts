import { ERROR_CATALOGUE } from "@dynosaur/core";
import { describe, expect, it } from "vitest";
import { hashPassword } from "../src/passwords.js";
import { ADMIN_PASSWORD, type Answer, dryRunConfig, startTestServer, type TestServer } from "./helpers.js";

/*
 * Every answer other than 2xx carries a code from core's catalogue: `{error, code}`, and for a
 * 422 each of `errors[]` its own. A client maps the code, never the message's text.
 */

/** The code(s) of an error answer; fails the test when one is missing or not in the catalogue. */
function codesOf(what: string, r: Answer): string[] {
  const body = r.json as { code?: unknown; errors?: { code?: unknown }[] } | null;
  const codes = r.status === 422 ? (body?.errors ?? []).map((e) => e.code) : [body?.code];
  expect(codes.length, `${what}: ${r.text}`).toBeGreaterThan(0);
  for (const code of codes) expect(Object.keys(ERROR_CATALOGUE), `${what}: ${r.text}`).toContain(code);
  return codes as string[];
}

async function logIn(t: TestServer, username: string, password: string) {
  const r = await t.call("POST", "/api/login", { token: null, body: { username, password } });
  expect(r.status).toBe(200);
  return { cookie: (r.headers.get("set-cookie") ?? "").split(";")[0] ?? "", csrf: r.json.csrf_token as string };
}

describe("every API error answer carries a code", () => {
  it("every documented route, called for an app and a token that do not exist, with an empty body", async () => {
    const t = await startTestServer();
    const doc = (await t.call("GET", "/api/openapi.json")).json as { paths: Record<string, Record<string, unknown>> };
    const routes = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((m) => [m.toUpperCase(), path.replace("{name}", "nope").replace("{id}", "999")]),
    );
    const seen = new Set<number>();
    for (const [method = "", path = ""] of routes) {
      const body = method === "GET" || method === "DELETE" ? undefined : {};
      for (const token of [undefined, null]) {
        const r = await t.call(method, path, { body, token });
        if (r.status < 400) continue;
        seen.add(r.status);
        codesOf(`${method} ${path}`, r);
      }
    }
    // Each kind the walk meets: a token where only a session will do (log out everywhere), no
    // credentials, no such app or token, an invalid body.
    expect([...seen].sort()).toEqual([400, 401, 404, 422]);
  });

  it("each kind of refusal, route module by route module, with the code a client maps", async () => {
    // A public URL: the server registers drains and webhooks with Heroku only at its own address.
    const t = await startTestServer({ bodyLimit: 4096, env: { DYNOSAUR_PUBLIC_URL: "https://dynosaur.example.com" } });
    const ok = await t.call("PUT", "/api/apps/shop/config", { body: dryRunConfig() });
    expect(ok.status).toBe(200);
    await t.server.stores.auth.upsertUser("viewer", await hashPassword("viewer password"), false, t.clock.now());
    const viewer = await logIn(t, "viewer", "viewer password");
    const admin = await logIn(t, "admin", ADMIN_PASSWORD);

    const cases: [what: string, answer: Promise<Answer>, status: number, codes: string[]][] = [
      // The shared parts: authentication, the body, the request's own validation, unknown routes.
      [
        "a malformed Authorization header",
        t.call("GET", "/api/apps", { headers: {}, token: "two words" }),
        401,
        ["DYNO_UNAUTHENTICATED"],
      ],
      ["a revoked token", t.call("GET", "/api/apps", { token: "dyno_revoked" }), 401, ["DYNO_UNAUTHENTICATED"]],
      ["an unknown route", t.call("GET", "/api/nothing-here"), 404, ["DYNO_NOT_FOUND"]],
      [
        "a body that is not JSON",
        t.call("POST", "/api/tokens", { body: "name=x", headers: { "content-type": "text/plain" } }),
        415,
        ["DYNO_REQUEST_INVALID"],
      ],
      ["JSON that does not parse", t.call("POST", "/api/tokens", { body: "{" }), 400, ["DYNO_REQUEST_INVALID"]],
      [
        "a body over the limit",
        t.call("POST", "/api/tokens", { body: { name: "x".repeat(5000) } }),
        413,
        ["DYNO_REQUEST_INVALID"],
      ],
      ["a bad query", t.call("GET", "/api/apps/shop/ticks?limit=0"), 422, ["DYNO_REQUEST_INVALID"]],
      // auth
      [
        "a wrong password",
        t.call("POST", "/api/login", { token: null, body: { password: "wrong" } }),
        401,
        ["DYNO_LOGIN_FAILED"],
      ],
      [
        "a change without the CSRF token",
        t.call("POST", "/api/apps/shop/pause", { token: null, headers: { cookie: admin.cookie } }),
        403,
        ["DYNO_CSRF"],
      ],
      ["no session", t.call("GET", "/api/session", { token: null }), 401, ["DYNO_UNAUTHENTICATED"]],
      // tokens
      [
        "a user who is no admin",
        t.call("GET", "/api/tokens", { token: null, headers: { cookie: viewer.cookie } }),
        403,
        ["DYNO_FORBIDDEN"],
      ],
      ["no such token", t.call("DELETE", "/api/tokens/999"), 404, ["DYNO_NOT_FOUND"]],
      // apps
      ["no such app", t.call("POST", "/api/apps/nope/pause"), 404, ["DYNO_APP_NOT_FOUND"]],
      ["a cursor this server never gave", t.call("GET", "/api/apps?cursor=forged"), 422, ["DYNO_REQUEST_INVALID"]],
      // config
      [
        "a taken name",
        t.call("PUT", "/api/apps/shop/config", { body: dryRunConfig(), headers: { "if-match": '"0"' } }),
        409,
        ["DYNO_APP_EXISTS"],
      ],
      [
        "an old version",
        t.call("PUT", "/api/apps/shop/config", { body: dryRunConfig(), headers: { "if-match": '"7"' } }),
        409,
        ["DYNO_CONFLICT"],
      ],
      [
        "If-Match that names no version",
        t.call("PUT", "/api/apps/shop/config", { body: dryRunConfig(), headers: { "if-match": "latest" } }),
        422,
        ["DYNO_REQUEST_INVALID"],
      ],
      ["no such version", t.call("GET", "/api/apps/shop/config?version=9"), 404, ["DYNO_VERSION_NOT_FOUND"]],
      [
        "no such version to roll back to",
        t.call("POST", "/api/apps/shop/config/rollback", { body: { version: 9 } }),
        404,
        ["DYNO_VERSION_NOT_FOUND"],
      ],
      [
        "an invalid config: each problem its own code",
        t.call("PUT", "/api/apps/shop/config", {
          body: {
            use: ["random", "no-such-plugin-xyz"],
            scaler: { dry_run: true, max_dynos: "${NOT_SET_ANYWHERE}" },
            plugins: [{ type: "random", max_value: -1 }],
          },
        }),
        422,
        ["DYNO_ENV_MISSING", "DYNO_PLUGIN_NOT_FOUND", "DYNO_CONFIG_INVALID"],
      ],
      // schema
      [
        "a plugin that is not installed",
        t.call("GET", "/api/schema?use=no-such-plugin-xyz"),
        422,
        ["DYNO_PLUGIN_NOT_FOUND"],
      ],
      // replay
      [
        "an invalid draft",
        t.call("POST", "/api/apps/shop/replay", { body: { config: dryRunConfig({ scaler: { max_dynos: "ten" } }) } }),
        422,
        ["DYNO_CONFIG_INVALID"],
      ],
      // drains
      [
        "a dry run cannot add its drain to Heroku itself",
        t.call("POST", "/api/apps/shop/drain/register"),
        422,
        ["DYNO_USAGE"],
      ],
      // status
      ["no such app's events", t.call("GET", "/api/apps/nope/events"), 404, ["DYNO_APP_NOT_FOUND"]],
      // instances: its one route answers whoever is logged in; without credentials, like every route.
      ["no credentials", t.call("GET", "/api/instances", { token: null }), 401, ["DYNO_UNAUTHENTICATED"]],
    ];
    for (const [what, answer, status, codes] of cases) {
      const r = await answer;
      expect([what, r.status]).toEqual([what, status]);
      expect([what, [...new Set(codesOf(what, r))].sort()]).toEqual([what, [...codes].sort()]);
    }
  });

  it("too many failed logins: rate limited, and no stored readings to replay: nothing to replay", async () => {
    const t = await startTestServer();
    for (let i = 0; i < 5; i++)
      expect((await t.call("POST", "/api/login", { token: null, body: { password: `wrong-${i}` } })).status).toBe(401);
    const limited = await t.call("POST", "/api/login", { token: null, body: { password: ADMIN_PASSWORD } });
    expect([limited.status, codesOf("rate limited", limited)]).toEqual([429, ["DYNO_RATE_LIMITED"]]);

    expect((await t.call("PUT", "/api/apps/shop/config", { body: dryRunConfig() })).status).toBe(200);
    await t.server.supervisor.stop();
    await t.server.recorder.flush();
    await t.server.stores.store.db.deleteFrom("minutes").execute();
    const replay = await t.call("POST", "/api/apps/shop/replay", { body: { config: dryRunConfig() } });
    expect([replay.status, codesOf("nothing to replay", replay)]).toEqual([409, ["DYNO_NOTHING_TO_REPLAY"]]);
    // Six password hashes, one after another: slow on a busy machine.
  }, 60_000);
});
