import { type HerokuFake, startHerokuFake } from "@dynosaur/fakes/heroku";
import { describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, dryRunConfig, onCleanup, startTestServer, type TestServer } from "./helpers.js";

/*
 * POST /api/apps/{name}/drain/register: the server adds the app's drain to its Heroku app
 * itself (POST /apps/{app}/log-drains, with the app's key), against the Heroku fake.
 */

const HEROKU_KEY = "heroku-fake-0123456789abcdef";

/** A server with app `shop` scaling the fake's `example` app (not a dry run), and its drain's URL. */
async function setUp(): Promise<{ t: TestServer; heroku: HerokuFake; url: string; command: string }> {
  const heroku = await startHerokuFake({ apiKey: HEROKU_KEY, apps: { example: { formation: { web: {} } } } });
  onCleanup(() => heroku.close());
  const t = await startTestServer({ env: { DYNOSAUR_PUBLIC_URL: "https://dynosaur.example.com" } });
  const config = dryRunConfig({
    scaler: { dry_run: false, heroku_app_name: "example", heroku_api_key: HEROKU_KEY, heroku_api_url: heroku.url },
  });
  expect((await t.call("PUT", "/api/apps/shop/config", { body: config })).status).toBe(200);
  const drain = await t.call("GET", "/api/apps/shop/drain");
  expect(drain.status).toBe(200);
  return { t, heroku, url: drain.json.url, command: drain.json.command };
}

const drainPosts = (heroku: HerokuFake) =>
  heroku.requests.filter((r) => r.method === "POST" && r.path === "/apps/example/log-drains");

describe("POST /api/apps/{name}/drain/register", () => {
  it("adds the drain to the Heroku app once; a second call finds it listed and posts nothing", async () => {
    const { t, heroku, url, command } = await setUp();
    heroku.setRateLimitRemaining(1234);
    const first = await t.call("POST", "/api/apps/shop/drain/register");
    expect(first.status).toBe(201);
    expect(first.json).toEqual({ result: "registered", url, command, heroku_app_name: "example" });
    expect(first.headers.get("cache-control")).toBe("no-store");
    expect(heroku.logDrains("example").map((d) => d.url)).toEqual([url]);
    const [post] = drainPosts(heroku);
    expect(post?.body).toEqual({ url });
    expect(post?.headers.authorization).toBe(`Bearer ${HEROKU_KEY}`);

    const second = await t.call("POST", "/api/apps/shop/drain/register");
    expect(second.status).toBe(200);
    expect(second.json).toMatchObject({ result: "already_registered", url });
    expect(drainPosts(heroku)).toHaveLength(1);
    expect(heroku.logDrains("example")).toHaveLength(1);

    // Three requests (a list and a POST, then a list), counted against the key's budget.
    const overview = await t.call("GET", "/api/overview");
    expect(overview.json.api_budgets?.[0]?.rate_limit_remaining).toBe(1231);
    expect(`${first.text}${second.text}${overview.text}${t.lines.join("\n")}`).not.toContain(HEROKU_KEY);
  });

  it("Heroku's refusal reaches the caller with its message and the line to run instead; the key in none of it", async () => {
    const { t, heroku, command } = await setUp();
    // Heroku's own answer, the key echoed back in it, as a misbehaving proxy might.
    heroku.queueFault(
      {
        kind: "respond",
        status: 422,
        body: { id: "invalid_params", message: `Url is invalid (key ${HEROKU_KEY}).` },
      },
      { method: "POST" },
    );
    const refused = await t.call("POST", "/api/apps/shop/drain/register");
    expect(refused.status).toBe(502);
    expect(refused.json).toMatchObject({ code: "HEROKU_UNPROCESSABLE", command });
    expect(refused.json.error).toMatch(/Heroku refused adding the log drain of app example: Url is invalid/);
    expect(heroku.logDrains("example")).toEqual([]);

    // A wrong key: Heroku's 401, and still no key in the answer or the log.
    const config = dryRunConfig({
      scaler: {
        dry_run: false,
        heroku_app_name: "example",
        heroku_api_key: "wrong-key-abcdef",
        heroku_api_url: heroku.url,
      },
    });
    expect((await t.call("PUT", "/api/apps/shop/config", { body: config })).status).toBe(200);
    const unauthorized = await t.call("POST", "/api/apps/shop/drain/register");
    expect(unauthorized.status).toBe(502);
    expect(unauthorized.json).toMatchObject({ code: "HEROKU_UNAUTHORIZED", command });
    const everything = `${refused.text}${unauthorized.text}${t.lines.join("\n")}`;
    expect(everything).not.toContain(HEROKU_KEY);
    expect(everything).not.toContain("wrong-key-abcdef");

    // Heroku not reached at all.
    await heroku.close();
    const unreachable = await t.call("POST", "/api/apps/shop/drain/register");
    expect(unreachable.status).toBe(502);
    expect(unreachable.json).toMatchObject({ code: "HEROKU_UNAVAILABLE", command });
  });

  it("a dry run is refused with 422 at scaler.dry_run, saying to run the command", async () => {
    const t = await startTestServer({ env: { DYNOSAUR_PUBLIC_URL: "https://dynosaur.example.com" } });
    const config = dryRunConfig({ scaler: { heroku_app_name: "my-shop" } });
    expect((await t.call("PUT", "/api/apps/shop/config", { body: config })).status).toBe(200);
    const { command } = (await t.call("GET", "/api/apps/shop/drain")).json;
    const r = await t.call("POST", "/api/apps/shop/drain/register");
    expect(r.status).toBe(422);
    expect(r.json.errors).toEqual([
      {
        path: "scaler.dry_run",
        message: expect.stringMatching(/app shop is a dry run/),
        hint: `run \`${command}\` instead`,
        code: "DYNO_USAGE",
      },
    ]);
    expect(command).toMatch(/^heroku drains:add https:\/\/dynosaur\.example\.com\/drain\/dd_\S+ -a my-shop$/);
  });

  it("is a state change: an admin only, and a session must send its CSRF token", async () => {
    const { t, heroku } = await setUp();
    expect((await t.call("POST", "/api/apps/nope/drain/register")).status).toBe(404);
    expect((await t.call("POST", "/api/apps/shop/drain/register", { token: null })).status).toBe(401);
    const login = await t.call("POST", "/api/login", { token: null, body: { password: ADMIN_PASSWORD } });
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const noCsrf = await t.call("POST", "/api/apps/shop/drain/register", { token: null, headers: { cookie } });
    expect([noCsrf.status, noCsrf.json.code]).toEqual([403, "DYNO_CSRF"]);
    expect(drainPosts(heroku)).toEqual([]);
    const withCsrf = await t.call("POST", "/api/apps/shop/drain/register", {
      token: null,
      headers: { cookie, "x-csrf-token": login.json.csrf_token },
    });
    expect(withCsrf.status).toBe(201);
  });
});
