import type { ManualClock } from "@dynosaur/core";
import { describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, call, dryRunConfig, startTestServer, type TestServer } from "./helpers.js";

/** Logs in as admin; returns the cookie header and CSRF token. */
async function logIn(t: TestServer, headers: Record<string, string> = {}) {
  const r = await t.call("POST", "/api/login", { token: null, body: { password: ADMIN_PASSWORD }, headers });
  expect(r.status).toBe(200);
  const setCookie = r.headers.get("set-cookie") ?? "";
  return { cookie: setCookie.split(";")[0] ?? "", setCookie, csrf: r.json.csrf_token as string };
}

/** A value for each path parameter, so every documented route can be called. */
const fill = (path: string) => path.replace("{name}", "shop").replace("{id}", "1");

describe("auth", () => {
  it("every documented route but /healthz and login answers 401 without credentials, and 401 to a wrong token", async () => {
    const t = await startTestServer();
    await t.call("PUT", "/api/apps/shop/config", { body: dryRunConfig() });
    const doc = (await t.call("GET", "/api/openapi.json")).json as { paths: Record<string, Record<string, unknown>> };
    const routes = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((m) => [m.toUpperCase(), fill(path)] as const),
    );
    expect(routes.length).toBeGreaterThan(15);
    for (const [method, path] of routes) {
      const body = method === "GET" || method === "DELETE" ? undefined : {};
      const none = await t.call(method, path, { token: null, body });
      const wrong = await t.call(method, path, { token: "not-a-real-token-at-all", body });
      if (path === "/healthz") {
        expect(none.status).toBe(200);
      } else if (path === "/api/login") {
        // Login itself is the way in: it answers (here: the password is missing).
        expect(none.status).toBe(422);
      } else {
        expect([method, path, none.status]).toEqual([method, path, 401]);
        expect([method, path, wrong.status]).toEqual([method, path, 401]);
      }
    }
    // Unknown routes do not tell an anonymous caller what exists.
    expect((await t.call("GET", "/api/nothing-here", { token: null })).status).toBe(401);
    expect((await t.call("GET", "/admin", { token: null })).status).toBe(401);
    // The app is untouched.
    expect((await t.call("GET", "/api/apps/shop/config")).json.version).toBe(1);
  });

  it("a session cookie works for reading; a state change without the CSRF token is 403, with it 200", async () => {
    const t = await startTestServer();
    const { cookie, setCookie, csrf } = await logIn(t);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Lax/);
    expect(setCookie).not.toMatch(/Secure/);
    const read = await t.call("GET", "/api/apps", { token: null, headers: { cookie } });
    expect(read.status).toBe(200);
    const session = await t.call("GET", "/api/session", { token: null, headers: { cookie } });
    expect(session.json).toEqual({ user: "admin", admin: true, csrf_token: csrf });

    const noCsrf = await t.call("PUT", "/api/apps/shop/config", {
      token: null,
      headers: { cookie },
      body: dryRunConfig(),
    });
    expect(noCsrf.status).toBe(403);
    const wrongCsrf = await t.call("PUT", "/api/apps/shop/config", {
      token: null,
      headers: { cookie, "x-csrf-token": "guess" },
      body: dryRunConfig(),
    });
    expect(wrongCsrf.status).toBe(403);
    expect((await t.call("GET", "/api/apps")).json.apps).toEqual([]);
    const ok = await t.call("PUT", "/api/apps/shop/config", {
      token: null,
      headers: { cookie, "x-csrf-token": csrf },
      body: dryRunConfig(),
    });
    expect(ok.status).toBe(200);
    expect((await t.call("GET", "/api/apps/shop/config")).json.author).toBe("admin");

    // Logging out needs the token too, and ends the session.
    expect((await t.call("POST", "/api/logout", { token: null, headers: { cookie } })).status).toBe(403);
    expect(
      (await t.call("POST", "/api/logout", { token: null, headers: { cookie, "x-csrf-token": csrf } })).status,
    ).toBe(200);
    expect((await t.call("GET", "/api/apps", { token: null, headers: { cookie } })).status).toBe(401);
  });

  it("without a session, GET /api/session says only whether a first admin is still to be set up", async () => {
    const fresh = await startTestServer({ env: { DYNOSAUR_ADMIN_PASSWORD: undefined } });
    const none = await fresh.call("GET", "/api/session", { token: null });
    expect([none.status, none.json]).toEqual([
      401,
      { error: "authentication required", code: "DYNO_UNAUTHENTICATED", setup_needed: true },
    ]);
    expect(fresh.lines.join("\n")).toContain("set DYNOSAUR_ADMIN_PASSWORD");

    const t = await startTestServer();
    const set = await t.call("GET", "/api/session", { token: null });
    expect([set.status, set.json]).toEqual([
      401,
      { error: "authentication required", code: "DYNO_UNAUTHENTICATED", setup_needed: false },
    ]);
    // A wrong token is refused before anything is said.
    const wrong = await t.call("GET", "/api/session", { token: "not-a-real-token-at-all" });
    expect([wrong.status, wrong.json]).toEqual([
      401,
      { error: "unknown or revoked API token", code: "DYNO_UNAUTHENTICATED" },
    ]);
  });

  it("the session cookie is Secure behind HTTPS (X-Forwarded-Proto), and sessions expire", async () => {
    const t = await startTestServer();
    const { setCookie, cookie } = await logIn(t, { "x-forwarded-proto": "https" });
    expect(setCookie).toMatch(/; Secure/);
    (t.clock as ManualClock).advance(7 * 24 * 3_600_000 + 1);
    expect((await t.call("GET", "/api/apps", { token: null, headers: { cookie } })).status).toBe(401);
  });

  it("rate-limits failed logins per user name and client address: the right password from elsewhere still logs in", async () => {
    // Behind Heroku's router ($DYNO set): the client is the last X-Forwarded-For entry, the one the router adds.
    const t = await startTestServer({ env: { DYNO: "web.1" } });
    const from = (address: string, password: string, chosen = "") =>
      t.call("POST", "/api/login", {
        token: null,
        body: { password },
        headers: { "x-forwarded-for": `${chosen}${address}` },
      });
    for (let i = 0; i < 5; i++) expect((await from("203.0.113.9", `wrong-${i}`)).status).toBe(401);
    const limited = await from("203.0.113.9", ADMIN_PASSWORD);
    expect([limited.status, limited.headers.get("retry-after"), limited.json]).toEqual([
      429,
      "900",
      { error: "too many failed logins from this address: try again in 15 minutes", code: "DYNO_RATE_LIMITED" },
    ]);
    // Entries a client writes itself come before the router's: they do not change who it is.
    expect((await from("203.0.113.9", ADMIN_PASSWORD, "198.51.100.7, ")).status).toBe(429);
    // The admin, elsewhere, is not locked out.
    expect((await from("198.51.100.7", ADMIN_PASSWORD)).status).toBe(200);
    (t.clock as ManualClock).advance(14 * 60_000);
    expect((await from("203.0.113.9", ADMIN_PASSWORD)).json.error).toBe(
      "too many failed logins from this address: try again in a minute",
    );
    (t.clock as ManualClock).advance(60_000);
    expect((await from("203.0.113.9", ADMIN_PASSWORD)).status).toBe(200);
    expect(t.lines.join("\n")).toMatch(/failed login for user "admin" from 203\.0\.113\.9/);
  });

  it("without a proxy in front, X-Forwarded-For is not believed: the connection's address is the client", async () => {
    const t = await startTestServer();
    for (let i = 0; i < 5; i++)
      expect(
        (
          await t.call("POST", "/api/login", {
            token: null,
            body: { password: `wrong-${i}` },
            headers: { "x-forwarded-for": `192.0.2.${i}` },
          })
        ).status,
      ).toBe(401);
    const limited = await t.call("POST", "/api/login", {
      token: null,
      body: { password: ADMIN_PASSWORD },
      headers: { "x-forwarded-for": "192.0.2.200" },
    });
    expect(limited.status).toBe(429);
  });

  it("API tokens: created by an admin, shown once, stored hashed, revocable", async () => {
    const t = await startTestServer();
    const created = await t.call("POST", "/api/tokens", { body: { name: "deploy" } });
    expect(created.status).toBe(200);
    const token = created.json.token as string;
    expect(token).toMatch(/^dyno_/);
    expect((await call(t.server.url, "GET", "/api/apps", { token })).status).toBe(200);
    const listed = await t.call("GET", "/api/tokens");
    expect(listed.json.tokens).toEqual([
      expect.objectContaining({ id: created.json.id, name: "deploy", last_used_at: expect.any(String) }),
    ]);
    expect(listed.text).not.toContain(token);
    const rows = await t.server.stores.store.db.selectFrom("api_tokens").selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(token);
    expect((await t.call("DELETE", `/api/tokens/${created.json.id}`)).status).toBe(200);
    expect((await call(t.server.url, "GET", "/api/apps", { token })).status).toBe(401);
  });

  it("refuses oversized bodies (413), non-JSON bodies (415), bad JSON (400) and unknown fields (422)", async () => {
    const t = await startTestServer({ bodyLimit: 1024 });
    const big = await t.call("PUT", "/api/apps/shop/config", {
      body: { ...dryRunConfig(), padding: "x".repeat(2000) },
    });
    expect(big.status).toBe(413);
    const form = await t.call("PUT", "/api/apps/shop/config", {
      body: "scaler=1",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(form.status).toBe(415);
    const broken = await t.call("PUT", "/api/apps/shop/config", { body: "{not json" });
    expect(broken.status).toBe(400);
    const extra = await t.call("POST", "/api/login", { token: null, body: { password: "x", remember: true } });
    expect(extra.status).toBe(422);
    expect(extra.json.errors[0].message).toMatch(/remember/);
    const badName = await t.call("PUT", "/api/apps/Not%20A%20Name/config", { body: dryRunConfig() });
    expect(badName.status).toBe(422);
    expect(badName.json.errors[0].path).toBe("name");
    const unknownQuery = await t.call("GET", "/api/apps/shop/ticks?sinse=2026-01-01T00:00:00Z");
    expect(unknownQuery.status).toBe(422);
  });

  it("answers JSON that no browser will run or frame", async () => {
    const t = await startTestServer();
    const r = await t.call("GET", "/api/apps");
    expect(r.headers.get("content-type")).toMatch(/^application\/json/);
    expect(r.headers.get("x-content-type-options")).toBe("nosniff");
    expect(r.headers.get("content-security-policy")).toMatch(/default-src 'none'/);
    expect(r.headers.get("cache-control")).toBe("no-store");
  });
});
