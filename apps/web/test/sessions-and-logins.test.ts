import { describe, expect, it } from "vitest";
import { hashingPeak, verifyPassword } from "../src/passwords.js";
import { ADMIN_PASSWORD, startTestServer, type TestServer } from "./helpers.js";

/*
 * Sessions end when the password changes and on demand; logins are limited per user name
 * and per address, behind a proxy only when told (issue 21, findings 5 and 6).
 */

async function logIn(t: TestServer, password = ADMIN_PASSWORD, headers: Record<string, string> = {}) {
  const r = await t.call("POST", "/api/login", { token: null, body: { password }, headers });
  expect(r.status).toBe(200);
  return { cookie: (r.headers.get("set-cookie") ?? "").split(";")[0] ?? "", csrf: r.json.csrf_token as string };
}

const sessionStatus = async (t: TestServer, cookie: string) =>
  (await t.call("GET", "/api/session", { token: null, headers: { cookie } })).status;

describe("sessions", { timeout: 60_000 }, () => {
  it("a restart with a new DYNOSAUR_ADMIN_PASSWORD ends every session of admin", async () => {
    const t = await startTestServer();
    const { cookie } = await logIn(t);
    expect(await sessionStatus(t, cookie)).toBe(200);
    await t.close();
    const again = await startTestServer({ dir: t.dir, env: { DYNOSAUR_ADMIN_PASSWORD: "a brand new passphrase" } });
    expect(await sessionStatus(again, cookie)).toBe(401);
    await logIn(again, "a brand new passphrase");
    expect(again.lines.join("\n")).toMatch(/admin password reset from DYNOSAUR_ADMIN_PASSWORD: every session/);
  });

  it("a restart with the same password keeps sessions", async () => {
    const t = await startTestServer();
    const { cookie } = await logIn(t);
    await t.close();
    const again = await startTestServer({ dir: t.dir });
    expect(await sessionStatus(again, cookie)).toBe(200);
  });

  it("log out everywhere ends every session of the user (with the CSRF token); a token has none to end", async () => {
    const t = await startTestServer();
    const laptop = await logIn(t);
    const phone = await logIn(t);
    expect(
      (await t.call("POST", "/api/logout/everywhere", { token: null, headers: { cookie: phone.cookie } })).status,
    ).toBe(403);
    const out = await t.call("POST", "/api/logout/everywhere", {
      token: null,
      headers: { cookie: phone.cookie, "x-csrf-token": phone.csrf },
    });
    expect([out.status, out.json]).toEqual([200, { ok: true, ended: 2 }]);
    expect(await sessionStatus(t, laptop.cookie)).toBe(401);
    expect(await sessionStatus(t, phone.cookie)).toBe(401);
    const byToken = await t.call("POST", "/api/logout/everywhere");
    expect([byToken.status, byToken.json.code]).toEqual([400, "DYNO_REQUEST_INVALID"]);
  });

  it("the session id changes at login, and a session id sent along to a login is ended", async () => {
    const t = await startTestServer();
    const first = await logIn(t);
    const second = await logIn(t, ADMIN_PASSWORD, { cookie: first.cookie });
    expect(second.cookie).not.toBe(first.cookie);
    expect(await sessionStatus(t, first.cookie)).toBe(401);
    expect(await sessionStatus(t, second.cookie)).toBe(200);
  });
});

describe("login limits", { timeout: 120_000 }, () => {
  const attempt = (t: TestServer, username: string, password: string, forwardedFor?: string) =>
    t.call("POST", "/api/login", {
      token: null,
      body: { username, password },
      headers: forwardedFor ? { "x-forwarded-for": forwardedFor } : {},
    });

  it("on Heroku with DYNOSAUR_TRUST_PROXY=0, a forged X-Forwarded-For buys no extra guesses", async () => {
    const t = await startTestServer({ env: { DYNO: "web.1", DYNOSAUR_TRUST_PROXY: "0" } });
    for (let i = 0; i < 5; i++) expect((await attempt(t, "admin", `wrong-${i}`, `198.51.100.${i}`)).status).toBe(401);
    expect((await attempt(t, "admin", ADMIN_PASSWORD, "198.51.100.99")).status).toBe(429);
  });

  it("limits one user name however many addresses guess it", async () => {
    const t = await startTestServer({ env: { DYNOSAUR_TRUST_PROXY: "1" } });
    for (let i = 0; i < 20; i++) expect((await attempt(t, "admin", `wrong-${i}`, `203.0.113.${i}`)).status).toBe(401);
    const limited = await attempt(t, "admin", `wrong-again`, "203.0.113.250");
    expect([limited.status, limited.json.error]).toEqual([
      429,
      "too many failed logins for this user name: try again in 15 minutes",
    ]);
  });

  it("limits one address however many user names it tries, unknown ones included", async () => {
    const t = await startTestServer();
    for (let i = 0; i < 30; i++) expect((await attempt(t, `nobody-${i}`, "guess")).status).toBe(401);
    const limited = await attempt(t, "someone-else", "guess");
    expect([limited.status, limited.json.error]).toEqual([
      429,
      "too many failed logins from this address: try again in 15 minutes",
    ]);
  });

  it("caps password hashing work: at most 2 hashes at once, however many logins arrive together", async () => {
    const t = await startTestServer({ env: { DYNOSAUR_TRUST_PROXY: "1" } });
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => attempt(t, `user-${i}`, "guess", `192.0.2.${i}`)),
    );
    expect(answers.every((a) => a.status === 401)).toBe(true);
    const hash = "scrypt$16384$8$5$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    await Promise.all(Array.from({ length: 8 }, () => verifyPassword("x", hash)));
    expect(hashingPeak()).toBe(2);
  });
});
