import { describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, dryRunConfig, must, nextTick, startTestServer } from "../../web/test/helpers.js";
import { axeViolations, browserSuite, consoleErrors, logIn } from "./browser.js";

const suite = browserSuite();

describe("log in and the apps overview, in Chromium against a real server on SQLite", () => {
  it("a wrong password is refused on the page; the right one shows every app with its dynos, estimate, sources and badges", async () => {
    const t = await startTestServer({ pagesDir: suite.pagesDir });
    expect((await t.call("PUT", "/api/apps/shop/config", { body: dryRunConfig() })).status).toBe(200);
    expect(
      (await t.call("PUT", "/api/apps/blog/config", { body: dryRunConfig({ scaler: { min_dynos: 2 } }) })).status,
    ).toBe(200);
    expect((await t.call("POST", "/api/apps/blog/pause")).status).toBe(200);
    // Each engine has ticked, and waits for the (manual) clock: what the API says holds still.
    await nextTick(t, "shop");
    await nextTick(t, "blog");
    // A day of history before that, one stored minute every 10 (a daily curve), for the sparklines.
    const now = t.clock.now();
    for (const [name, base] of [
      ["shop", 2],
      ["blog", 1],
    ] as const) {
      const app = await t.server.stores.apps.get(name);
      if (!app) throw new Error(`${name} was not stored`);
      await t.server.stores.readings.write({
        ticks: [],
        minutes: Array.from({ length: 143 }, (_, i) => ({
          appId: app.id,
          processType: "web",
          minute: Math.floor(now / 60_000) * 60_000 - (143 - i) * 600_000,
          dynos: base + Math.round(2 + 2 * Math.sin((i / 143) * 2 * Math.PI)),
          estimate: null,
          sources: [],
        })),
        events: [],
      });
    }
    // What the page must show: the API's own answer (the engines' ticks are the API's concern).
    const api = (await t.call("GET", "/api/apps")).json.apps as {
      name: string;
      processes: { type: string; current: number | null; estimate: number | null }[];
    }[];
    const shopApi = must(api.find((a) => a.name === "shop")?.processes[0], "shop's first process in GET /api/apps");
    const shopSources = (await t.call("GET", "/api/apps/shop/status")).json as {
      sources?: { name: string; health: string }[];
      last_tick?: { sources: { name: string; health: string }[] } | null;
    };
    const sources = shopSources.sources ?? shopSources.last_tick?.sources ?? [];

    // An app no engine here has ticked yet (stored behind the supervisor's back: it looks again only when
    // the manual clock moves): as an app another process scales and has not reported.
    await t.server.stores.apps.save("quiet", dryRunConfig(), { author: "test", comment: null, now: t.clock.now() });

    const page = await suite.chromium.newPage({ viewport: { width: 1100, height: 700 } });
    const errors = consoleErrors(page);
    await page.goto(`${t.server.url}/`);
    // The form takes typing at once: the user name field has the focus.
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe("username");
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("alert").waitFor();
    expect(await page.getByRole("alert").textContent()).toBe("wrong user name or password");
    expect(await axeViolations(page)).toEqual([]);
    // Two 401s the page expects and handles (no session yet, the wrong password): Chromium logs
    // every failed fetch. Nothing else went wrong.
    const unauthorized = "Failed to load resource: the server responded with a status of 401 (Unauthorized)";
    expect(errors.splice(0)).toEqual([unauthorized, unauthorized]);

    await page.getByLabel("Password").fill(ADMIN_PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    const shop = page.locator('tr[data-app="shop"]');
    await shop.waitFor();
    const cells = await shop.locator("td").allTextContents();
    // The state in words first, then the process, its dynos of its max, its estimate.
    expect(cells.slice(0, 4)).toEqual([
      expect.stringContaining(
        `dry run · ${(api.find((a) => a.name === "shop") as unknown as { processes: { state: string }[] }).processes[0]?.state}`,
      ),
      shopApi.type,
      `${shopApi.current ?? "–"} of 5`,
      String(shopApi.estimate ?? "–"),
    ]);
    if (sources.length === 0) await shop.getByText("no reading yet").waitFor();
    for (const s of sources) await shop.getByRole("img", { name: `${s.name}: ${s.health}` }).waitFor();
    expect(await shop.locator(".badge.dry").count()).toBe(1);
    expect(await shop.locator(".badge.paused").count()).toBe(0);
    const blog = page.locator('tr[data-app="blog"]');
    expect(await blog.locator(".badge.paused").count()).toBe(1);
    expect(await page.getByRole("link", { name: "shop" }).getAttribute("href")).toBe("#/apps/shop");
    const quiet = page.locator('tr[data-app="quiet"]');
    expect(await quiet.locator(".state-text").textContent()).toBe("dry run · no tick yet");
    expect(await quiet.locator("td").nth(1).textContent()).toBe("–");
    await quiet.getByText("no reading yet").waitFor();

    // The last 24 h of dynos as a sparkline, and the last event, as GET /api/overview has them.
    const recent = (await t.call("GET", "/api/overview")).json.apps as Record<
      string,
      { dynos: (number | null)[]; last_event: { kind: string; message: string } | null }
    >;
    const shopDynos = recent.shop?.dynos.filter((v) => v !== null) ?? [];
    expect(shopDynos.length).toBeGreaterThan(0);
    await shop
      .getByRole("img", {
        name: `shop, dynos over the last 24 h: between ${Math.min(...shopDynos)} and ${Math.max(...shopDynos)}, last ${shopDynos.at(-1)}`,
        exact: true,
      })
      .waitFor();
    expect(recent.blog?.last_event?.message).toBe("paused by token:DYNOSAUR_API_TOKEN");
    expect(await blog.locator(".last-event").textContent()).toMatch(/^paused paused by token:DYNOSAUR_API_TOKEN /);

    expect(await axeViolations(page)).toEqual([]);
    expect(errors).toEqual([]);

    // Logging out brings the login page back, and the session no longer opens the API.
    await page.getByRole("button", { name: "Log out", exact: true }).click();
    await page.getByLabel("Password").waitFor();
    expect((await page.request.get(`${t.server.url}/api/apps`)).status()).toBe(401);
    await page.close();
  });

  it("log out everywhere: the button ends the sessions of the other browsers too", async () => {
    const t = await startTestServer({ pagesDir: suite.pagesDir });
    // Two browsers (each page its own context, so its own cookie jar): a laptop and a lost phone.
    const laptop = await suite.chromium.newPage({ viewport: { width: 1100, height: 700 } });
    const phone = await suite.chromium.newPage({ viewport: { width: 1100, height: 700 } });
    await logIn(laptop, t.server.url, ADMIN_PASSWORD);
    await logIn(phone, t.server.url, ADMIN_PASSWORD);
    expect((await phone.request.get(`${t.server.url}/api/apps`)).status()).toBe(200);
    await laptop.getByRole("button", { name: "Log out everywhere" }).click();
    await laptop.getByLabel("Password").waitFor();
    expect((await laptop.request.get(`${t.server.url}/api/apps`)).status()).toBe(401);
    expect((await phone.request.get(`${t.server.url}/api/apps`)).status()).toBe(401);
    await laptop.close();
    await phone.close();
    // Two browsers and two logins (each a deliberately slow password hash): room for a loaded machine.
  }, 60_000);

  it("after five wrong passwords from this address, the login page says how long to wait", async () => {
    const t = await startTestServer({ pagesDir: suite.pagesDir });
    const page = await suite.chromium.newPage({ viewport: { width: 1100, height: 700 } });
    await page.goto(`${t.server.url}/`);
    const alert = page.getByRole("alert");
    for (let i = 0; i < 5; i++) {
      await page.getByLabel("Password").fill(`wrong-${i}`);
      await page.getByRole("button", { name: "Log in" }).click();
      // Checking a password is slow by design (a hash): give a loaded machine time.
      await expect
        .poll(() => t.lines.filter((l) => l.includes("failed login")).length, { timeout: 15_000 })
        .toBe(i + 1);
    }
    await page.getByLabel("Password").fill(ADMIN_PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await alert.filter({ hasText: "try again" }).waitFor();
    expect(await alert.textContent()).toBe("too many failed logins from this address: try again in 15 minutes");
    await page.close();
  });

  it("a first run (no admin password set): the login page says how to set one; once set, it no longer does", async () => {
    const t = await startTestServer({ pagesDir: suite.pagesDir, env: { DYNOSAUR_ADMIN_PASSWORD: undefined } });
    const page = await suite.chromium.newPage({ viewport: { width: 1100, height: 700 } });
    const errors = consoleErrors(page);
    await page.goto(`${t.server.url}/`);
    const firstRun = page.getByRole("region", { name: "First run: no admin password is set" });
    await firstRun.waitFor();
    // The variable and the command the server reads it from (apps/web/src/http/auth.ts ensureAdmin).
    // Installed (the package's bin) and from a checkout (scripts/dynosaur-web).
    expect(await firstRun.locator("pre").allTextContents()).toEqual([
      "DYNOSAUR_ADMIN_PASSWORD='a long passphrase' dynosaur-web",
      "DYNOSAUR_ADMIN_PASSWORD='a long passphrase' bash scripts/dynosaur-web",
    ]);
    expect(await firstRun.textContent()).toContain("heroku config:set DYNOSAUR_ADMIN_PASSWORD=");
    expect(await axeViolations(page)).toEqual([]);
    // The anonymous session probe, which carries the answer.
    expect(errors.splice(0)).toEqual([
      "Failed to load resource: the server responded with a status of 401 (Unauthorized)",
    ]);
    await t.close();

    // The same database, started with the variable: the admin exists, the message is gone, the password works.
    const next = await startTestServer({ pagesDir: suite.pagesDir, dir: t.dir });
    await logIn(page, next.server.url, ADMIN_PASSWORD);
    await page.getByRole("button", { name: "Log out", exact: true }).click();
    await page.getByLabel("Password").waitFor();
    expect(await page.getByText("First run").count()).toBe(0);
    await page.close();
  });

  it("a hundred apps: every one is listed, on a phone too (as cards), axe finds nothing serious", async ({
    annotate,
  }) => {
    const t = await startTestServer({ pagesDir: suite.pagesDir });
    const names = Array.from({ length: 100 }, (_, i) => `app-${String(i).padStart(3, "0")}`);
    for (const name of names)
      expect((await t.call("PUT", `/api/apps/${name}/config`, { body: dryRunConfig() })).status).toBe(200);

    const page = await suite.chromium.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
    const errors = consoleErrors(page);
    await logIn(page, t.server.url, ADMIN_PASSWORD);
    errors.splice(0); // the anonymous session probe's 401
    // First render, as the browser measures it: from the start of navigation to all 100 rows on screen.
    await page.reload();
    await page.locator("tr[data-app]").nth(99).waitFor();
    const ms = must(
      await page.evaluate(() => performance.getEntriesByName("overview-rendered")[0]?.startTime),
      "the overview-rendered mark",
    );
    await annotate(`first render of the overview with 100 apps: ${Math.round(ms)} ms`);
    expect(
      await page.locator("tr[data-app]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-app"))),
    ).toEqual(names);
    // On a phone nothing scrolls sideways: each app is a card.
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);

    expect(await axeViolations(page)).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);

  it("API tokens: created with a name, its value shown once (with a Copy button) and working against the API, revoked after a confirmation", async () => {
    const t = await startTestServer({ pagesDir: suite.pagesDir });
    const page = await suite.chromium.newPage({ viewport: { width: 1100, height: 700 } });
    const errors = consoleErrors(page);
    await logIn(page, t.server.url, ADMIN_PASSWORD);
    errors.splice(0); // the anonymous session probe's 401

    await page.getByRole("link", { name: "API tokens" }).click();
    await page.getByLabel(/^Name/).fill("deploy script");
    await page.getByRole("button", { name: "Create a token" }).click();
    const value = (await page.locator(".token").textContent()) ?? "";
    expect(value).toMatch(/^dyno_/);
    expect((await t.call("GET", "/api/apps", { token: value })).status).toBe(200);
    await page.locator('tr[data-token="deploy script"]').waitFor();
    // Copy puts the value on the clipboard.
    await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
    await page.getByRole("button", { name: "Copy" }).click();
    await page.getByText("Copied.").waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(value);

    // A second one that expires: the API says when, the page shows it.
    await page.getByLabel(/^Name/).fill("ci");
    await page.getByLabel("Expires").selectOption("30");
    await page.getByRole("button", { name: "Create a token" }).click();
    await page.locator('tr[data-token="ci"]').waitFor();
    const listed = (await t.call("GET", "/api/tokens")).json.tokens as { name: string; expires_at: string | null }[];
    expect(listed.map((x) => [x.name, x.expires_at])).toEqual([
      ["deploy script", null],
      ["ci", new Date(t.clock.now() + 30 * 86_400_000).toISOString()],
    ]);
    expect(await page.locator('tr[data-token="deploy script"] td').nth(2).textContent()).toBe("never");
    expect(await page.locator('tr[data-token="ci"] td').nth(2).textContent()).not.toBe("never");
    await page.getByRole("button", { name: "Revoke ci" }).click();
    await page.getByRole("button", { name: "Yes, revoke ci" }).click();
    await page.locator('tr[data-token="ci"]').waitFor({ state: "detached" });
    expect(await axeViolations(page)).toEqual([]);

    // Revoke asks first: Cancel keeps the token.
    await page.getByRole("button", { name: "Revoke deploy script" }).click();
    await page.getByRole("button", { name: "Cancel" }).click();
    expect((await t.call("GET", "/api/apps", { token: value })).status).toBe(200);
    await page.getByRole("button", { name: "Revoke deploy script" }).click();
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole("button", { name: "Yes, revoke deploy script" }).click();
    await page.getByText("No API token yet.").waitFor();
    expect((await t.call("GET", "/api/apps", { token: value })).status).toBe(401);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
