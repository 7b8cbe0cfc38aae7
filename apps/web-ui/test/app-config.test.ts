import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ManualClock } from "@dynosaur/core";
import { startHerokuFake } from "@dynosaur/fakes/heroku";
import { describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, dryRunConfig, must, nextTick, onCleanup, startTestServer } from "../../web/test/helpers.js";
import { axeViolations, browserSuite, consoleErrors, DOCS, inView, logIn, openAdvanced } from "./browser.js";

const suite = browserSuite();

/** The pages ask for "the last hour" by the browser's clock: the server's manual clock starts there too. */
const browserTime = () => new ManualClock(Date.now());

const HEROKU_KEY = "hrku-this-secret-must-never-reach-the-page";

/** A page logged in to `t`'s server, and the console errors from then on. */
async function loggedIn(t: { server: { url: string } }) {
  const page = await suite.chromium.newPage({ viewport: { width: 1100, height: 800 } });
  const errors = consoleErrors(page);
  await logIn(page, t.server.url, ADMIN_PASSWORD);
  errors.splice(0);
  return { page, errors };
}

/**
 * An app `shop` whose config uses the example third-party plugin (with `token` when given),
 * and its config page, logged in.
 */
async function exampleConfigPage(options: { token?: string; scaler?: Record<string, unknown> }) {
  const t = await startTestServer({ pagesDir: suite.pagesDir, clock: browserTime() });
  const config = {
    ...dryRunConfig({ use: ["random", "dynosaur-plugin-example"], scaler: options.scaler }),
    plugins: [
      { type: "random", seed: 7, interval: 5 },
      {
        type: "example",
        name: "queue",
        url: "http://127.0.0.1:9/stats.json",
        json_pointer: "/data/n",
        per_dyno: 4,
        ...(options.token === undefined ? {} : { token: options.token }),
      },
    ],
  };
  expect((await t.call("PUT", "/api/apps/shop/config", { body: config })).status).toBe(200);
  const { page, errors } = await loggedIn(t);
  await page.goto(`${t.server.url}/#/apps/shop/config`);
  await openAdvanced(page);
  return { t, page, errors };
}

describe("the app and config pages, in Chromium against a real server on SQLite", () => {
  it("the app page shows the chart over the hour asked for, ticks arriving live, the event log as the API has it, and pauses and resumes scaling", async () => {
    const t = await startTestServer({ pagesDir: suite.pagesDir, clock: browserTime() });
    expect((await t.call("PUT", "/api/apps/shop/config", { body: dryRunConfig() })).status).toBe(200);
    expect(
      (
        await t.call("PUT", "/api/apps/shop/config?comment=more%20room", {
          body: dryRunConfig({ scaler: { max_dynos: 6 } }),
        })
      ).status,
    ).toBe(200);
    // The last hour as stored minutes before the page opens (a rise and fall of the random source), so
    // the chart has history to the left of the live ticks.
    const shopRow = must(await t.server.stores.apps.get("shop"), "shop in the store");
    const minute0 = Math.floor(t.clock.now() / 60_000) * 60_000;
    await t.server.stores.readings.write({
      ticks: [],
      minutes: Array.from({ length: 55 }, (_, i) => {
        const value = Math.round(30 + 25 * Math.sin((i / 55) * Math.PI));
        const estimate = Math.min(6, Math.ceil(value / 10));
        return {
          appId: shopRow.id,
          processType: "web",
          minute: minute0 - (56 - i) * 60_000,
          dynos: estimate,
          estimate,
          sources: [{ name: "random", value, estimate, health: "ok" }],
        };
      }),
      events: [],
    });
    const page = await suite.chromium.newPage({ viewport: { width: 1100, height: 800 } });
    const errors = consoleErrors(page);
    await logIn(page, t.server.url, ADMIN_PASSWORD);
    errors.splice(0); // the anonymous session probe's 401 (see overview.test.ts)

    await page.getByRole("link", { name: "shop" }).click();
    await page.getByRole("heading", { name: "shop" }).waitFor();
    const chart = page.getByRole("img", { name: /^shop web: dynos, estimate/ });
    await chart.locator("canvas").waitFor();
    const events = (await t.call("GET", "/api/apps/shop/events")).json.events as { kind: string; message: string }[];
    expect(events.map((e) => e.message)).toEqual([
      "app created by token:DYNOSAUR_API_TOKEN (version 1)",
      "config changed by token:DYNOSAUR_API_TOKEN (version 2): more room",
    ]);
    const shown = page.locator(".events li");
    await expect.poll(() => shown.count()).toBe(2);
    // Newest first.
    expect(await shown.first().textContent()).toContain("more room");

    // The time axis spans the hour asked for, whatever the points (one point once made uPlot show three years).
    // The chart says what it drew: data-from / data-to in seconds, data-points the number of times.
    const drawn = async () => ({
      points: Number(await chart.getAttribute("data-points")),
      from: Number(await chart.getAttribute("data-from")),
      to: Number(await chart.getAttribute("data-to")),
    });
    await expect.poll(async () => (await drawn()).points).toBeGreaterThan(0);
    const first = await drawn();
    expect(first.to - first.from).toBeGreaterThanOrEqual(3600);
    expect(first.to - first.from).toBeLessThan(3600 + 60);

    // Ticks arrive over Server-Sent Events and the chart grows without a reload. The server's clock is
    // moved tick by tick (the first ticks may come before the page's event stream is open).
    await page.evaluate(() => Object.assign(globalThis, { sameDocument: true }));
    await expect
      .poll(async () => {
        await nextTick(t, "shop");
        return (await drawn()).points;
      })
      .toBeGreaterThanOrEqual(first.points + 2);
    expect(await page.evaluate(() => "sameDocument" in globalThis)).toBe(true);
    // Scaling shows in the event log as it happens, still without a reload.
    await expect
      .poll(async () => {
        await nextTick(t, "shop");
        return page.locator('.events li[data-kind^="scale-"]').count();
      })
      .toBeGreaterThan(0);
    expect(await page.evaluate(() => "sameDocument" in globalThis)).toBe(true);
    // It says why: the winning source, its reading and what it asks for.
    expect(await page.locator('.events li[data-kind^="scale-"]').first().textContent()).toMatch(
      /\[dry run\] web \d+ → \d+: random read \d+(\.\d+)? [^,]+, needs \d+/,
    );
    // The time zone of the times is said; the log narrows to a process type.
    expect(await page.getByText(/^Times in /).textContent()).toBe(
      `Times in ${await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone)}.`,
    );
    await page.getByLabel("Process type").selectOption("web");
    expect(await page.locator('.events li[data-kind^="scale-"]').count()).toBeGreaterThan(0);
    // App-wide events (a config change) stay: they are every process type's context.
    expect(await page.locator('.events li[data-kind="config-changed"]').count()).toBe(2);
    await page.getByLabel("Process type").selectOption("");
    const later = await drawn();
    expect(later.to - later.from).toBeLessThan(3600 + 120);

    await page.getByRole("button", { name: "Pause scaling" }).click();
    await page.getByRole("button", { name: "Resume scaling" }).waitFor();
    expect((await t.call("GET", "/api/apps")).json.apps[0].paused).toBe(true);

    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: join(DOCS, "web-app.png"), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it("the config form: keys as labels with descriptions and defaults; a secret never shown; an invalid value refused at its field; a change saved as the next version; roll back", async () => {
    const t = await startTestServer({ pagesDir: suite.pagesDir, clock: browserTime() });
    expect(
      (await t.call("PUT", "/api/apps/shop/config", { body: dryRunConfig({ scaler: { heroku_api_key: HEROKU_KEY } }) }))
        .status,
    ).toBe(200);
    const { page, errors } = await loggedIn(t);

    await page.goto(`${t.server.url}/#/apps/shop/config`);
    await openAdvanced(page);
    const minDynos = page.locator("#root_scaler_min_dynos");
    await minDynos.waitFor();
    // Labelled in words with the config key beside; its description from the schema; a default shown, not filled in.
    expect(await page.locator('label[for="root_scaler_min_dynos"]').textContent()).toMatch(/^Fewest dynos min_dynos/);
    expect(await page.locator('label[for="root_scaler_min_dynos"] code').textContent()).toBe("min_dynos");
    expect(await minDynos.inputValue()).toBe("1");
    expect(await page.locator("#root_scaler_min_dynos__description").textContent()).not.toBe("");
    expect(await page.locator("#root_plugins_0_hysteresis_period__description").textContent()).toContain("Default: 0.");
    expect(await page.locator("#root_plugins_0_hysteresis_period").inputValue()).toBe("");
    // Older names of keys (deprecated in the schema) are not offered.
    for (const alias of ["min_web_dynos", "max_web_dynos", "min", "max", "app", "api_key"])
      expect(await page.locator(`#root_scaler_${alias}`).count()).toBe(0);

    // The secret: a password box, empty, saying a value is set; its value is nowhere in the page.
    const secret = page.locator("#root_scaler_heroku_api_key");
    expect(await secret.getAttribute("type")).toBe("password");
    expect(await secret.inputValue()).toBe("");
    expect(await secret.getAttribute("placeholder")).toBe("set: type to replace");
    expect(await page.content()).not.toContain(HEROKU_KEY);

    // An invalid value: the error at the field, nothing saved.
    await minDynos.fill("-1");
    await page.getByRole("button", { name: "Save as version 2" }).click();
    const fieldError = page.locator("#root_scaler_min_dynos__error");
    await fieldError.waitFor();
    expect(await fieldError.textContent()).toMatch(/0/);
    // The focus goes to the invalid field, marked by a red border; the answer is next to the button.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("root_scaler_min_dynos");
    expect(await minDynos.evaluate((el) => getComputedStyle(el).borderTopColor)).toBe("rgb(207, 34, 46)");
    expect(await page.locator("#save-note").textContent()).toBe("Nothing was saved: see the errors at their fields.");
    expect((await t.call("GET", "/api/apps/shop/config")).json.version).toBe(1);
    expect(await axeViolations(page)).toEqual([]);

    // A valid change: the diff shows it, saving makes version 2, the secret is kept.
    await minDynos.fill("2");
    const diff = page.locator(".diff tbody tr");
    await expect.poll(() => diff.allTextContents()).toEqual(["scaler.min_dynos12"]);
    await page.getByLabel("Comment (kept with the version)").fill("busier mornings");
    await page.getByRole("button", { name: "Save as version 2" }).click();
    await page.getByRole("status").filter({ hasText: "Saved as version 2." }).waitFor();
    // The answer is in view, next to the button clicked.
    expect(await inView(page, "#save-note")).toBe(true);
    const saved = (await t.call("GET", "/api/apps/shop/config")).json;
    expect(saved).toMatchObject({
      version: 2,
      author: "admin",
      comment: "busier mornings",
      config: { scaler: { min_dynos: 2 } },
    });
    expect(saved.secrets).toEqual([{ path: "scaler.heroku_api_key", state: "set" }]);
    // Only what the user set was sent: no defaults were filled in.
    expect(saved.config.plugins[0]).toEqual(dryRunConfig().plugins[0]);

    // History: both versions, the change listed; roll back in one click makes version 3 = version 1.
    const v2 = page.locator('.versions > li[data-version="2"]');
    await v2.waitFor();
    expect(await v2.textContent()).toContain("busier mornings");
    expect(await v2.locator(".changes").textContent()).toBe("scaler.min_dynos: 1 → 2");
    await page.getByRole("button", { name: "Roll back to version 1" }).click();
    await page.getByRole("status").filter({ hasText: "Rolled back: saved as version 3." }).waitFor();
    const rolled = (await t.call("GET", "/api/apps/shop/config")).json;
    expect(rolled).toMatchObject({
      version: 3,
      comment: "rollback to version 1",
      config: { scaler: { min_dynos: 1 } },
    });
    expect(await minDynos.inputValue()).toBe("1");

    expect(await axeViolations(page)).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("the config page switches dry run off (a version; the engine scales Heroku), pauses (badge; the engine stands by) and resumes", async () => {
    const heroku = await startHerokuFake({ apiKey: HEROKU_KEY });
    onCleanup(() => heroku.close());
    const t = await startTestServer({ pagesDir: suite.pagesDir, clock: browserTime() });
    const quantity = () => heroku.formation("example", "web")?.quantity;
    /** Ticks the engine until `check` holds (at most 50 ticks of the manual clock). */
    const tickUntil = async (check: () => boolean, what: string) => {
      for (let i = 0; i < 50 && !check(); i++) await nextTick(t, "shop");
      if (!check()) throw new Error(`not within 50 ticks: ${what}`);
    };
    const config = dryRunConfig({
      scaler: {
        min_dynos: 2,
        max_dynos: 2,
        heroku_app_name: "example",
        heroku_api_key: HEROKU_KEY,
        heroku_api_url: heroku.url,
      },
    });
    expect((await t.call("PUT", "/api/apps/shop/config", { body: config })).status).toBe(200);
    await nextTick(t, "shop", 2);
    // A dry run never changes the formation.
    expect([quantity(), heroku.count("PATCH")]).toEqual([1, 0]);

    const { page, errors } = await loggedIn(t);
    await page.goto(`${t.server.url}/#/apps/shop/config`);
    const controls = page.getByRole("region", { name: "Scaling" });
    await controls.getByRole("button", { name: "Pause scaling" }).waitFor();
    expect(await controls.locator(".badge.dry").count()).toBe(1);

    // One click does not start calling Heroku: it asks first; Cancel leaves the dry run on.
    await controls.getByRole("button", { name: /^Scale for real/ }).click();
    await controls.getByRole("button", { name: "Cancel" }).click();
    expect((await t.call("GET", "/api/apps/shop/config")).json.version).toBe(1);
    await controls.getByRole("button", { name: /^Scale for real/ }).click();
    expect(await axeViolations(page)).toEqual([]);
    await controls.getByRole("button", { name: "Yes, scale for real" }).click();
    await controls.getByRole("status").filter({ hasText: "Dry run off: saved as version 2." }).waitFor();
    const saved = (await t.call("GET", "/api/apps/shop/config")).json;
    expect(saved).toMatchObject({ version: 2, comment: "dry run off", config: { scaler: { dry_run: false } } });
    expect(saved.secrets).toEqual([{ path: "scaler.heroku_api_key", state: "set" }]);
    // The badge goes once the page has the new version (it may still be fetching it).
    await controls.locator(".badge.dry").waitFor({ state: "detached" });
    await tickUntil(() => quantity() === 2, "the engine scales web to min_dynos");

    await controls.getByRole("button", { name: "Pause scaling" }).click();
    await controls
      .getByRole("status")
      .filter({ hasText: /^Paused/ })
      .waitFor();
    expect((await t.call("GET", "/api/apps")).json.apps[0].paused).toBe(true);
    // A new version wants 3 dynos: the paused engine decides so, and stands by.
    const more = { ...config, scaler: { ...config.scaler, dry_run: false, min_dynos: 3, max_dynos: 3 } };
    expect((await t.call("PUT", "/api/apps/shop/config", { body: more })).status).toBe(200);
    const patches = heroku.count("PATCH");
    const standing = await nextTick(t, "shop", 3);
    expect(standing.reason).toContain("standing by: the app is paused");
    expect([quantity(), heroku.count("PATCH")]).toEqual([2, patches]);
    expect(await axeViolations(page)).toEqual([]);

    // The overview shows the badge.
    await page.getByRole("link", { name: "Apps" }).first().click();
    const row = page.locator('tr[data-app="shop"]');
    await row.locator(".badge.paused").waitFor();
    expect(await row.locator(".badge.dry").count()).toBe(0);

    await page.goto(`${t.server.url}/#/apps/shop/config`);
    await controls.getByRole("button", { name: "Resume scaling" }).click();
    await controls
      .getByRole("status")
      .filter({ hasText: /^Resumed/ })
      .waitFor();
    expect((await t.call("GET", "/api/apps")).json.apps[0].paused).toBe(false);
    await tickUntil(() => quantity() === 3, "the resumed engine scales web to the new min_dynos");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("a config written with an older key name: that field is shown (saying what to write instead), kept on save", async () => {
    const t = await startTestServer({ pagesDir: suite.pagesDir, clock: browserTime() });
    const old = dryRunConfig();
    const { max_dynos: _, ...scaler } = old.scaler;
    expect(
      (await t.call("PUT", "/api/apps/shop/config", { body: { ...old, scaler: { ...scaler, max: 4 } } })).status,
    ).toBe(200);
    const { page, errors } = await loggedIn(t);
    await page.goto(`${t.server.url}/#/apps/shop/config`);
    await openAdvanced(page);
    const max = page.locator("#root_scaler_max");
    await max.waitFor();
    expect(await max.inputValue()).toBe("4");
    expect(await page.locator("#root_scaler_max__description").textContent()).toContain("write `max_dynos` instead");
    expect(await page.locator("#root_scaler_min").count()).toBe(0);

    await page.locator("#root_scaler_min_dynos").fill("2");
    await page.getByRole("button", { name: "Save as version 2" }).click();
    await page.getByRole("status").filter({ hasText: "Saved as version 2." }).waitFor();
    expect((await t.call("GET", "/api/apps/shop/config")).json.config.scaler).toMatchObject({ min_dynos: 2, max: 4 });
    expect(errors).toEqual([]);
    await page.close();
  });

  it("a third-party plugin's options get a form without any UI code, its declared secret write-only", async () => {
    const PLUGIN_TOKEN = "example-plugin-token-never-on-the-page";
    const { page, errors } = await exampleConfigPage({ token: PLUGIN_TOKEN });
    const perDyno = page.locator("#root_plugins_1_per_dyno");
    await perDyno.waitFor();
    expect(await perDyno.inputValue()).toBe("4");
    expect(await page.locator('label[for="root_plugins_1_per_dyno"]').textContent()).toMatch(/^Per dyno per_dyno/);
    // A list's entry is named in words with its path, not the form library's "use-1".
    expect(await page.locator('label[for="root_use_0"]').textContent()).toMatch(/^Package 1 use\[0\]/);
    expect(await page.locator("#root_plugins_1_per_dyno__description").textContent()).toContain(
      "ceil(value / per_dyno)",
    );
    expect(await page.locator("#root_plugins_1_json_pointer").inputValue()).toBe("/data/n");
    const token = page.locator("#root_plugins_1_token");
    expect(await token.getAttribute("type")).toBe("password");
    expect(await token.getAttribute("placeholder")).toBe("set: type to replace");
    expect(await page.content()).not.toContain(PLUGIN_TOKEN);

    expect(await axeViolations(page)).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("adds an app from pasted YAML: an invalid config shows every error at its path and stores nothing; a valid one opens the app's page", async () => {
    const t = await startTestServer({ pagesDir: suite.pagesDir, clock: browserTime() });
    const yaml = readFileSync(new URL("../../../examples/dry-run.yaml", import.meta.url), "utf8");
    const { page, errors } = await loggedIn(t);

    await page.getByRole("link", { name: "Add an app" }).click();
    await page.getByLabel(/^Name/).fill("demo");
    await page.getByLabel(/^Config/).fill(yaml.replace("max_dynos: 10", "max_dynos: ten"));
    await page.getByRole("button", { name: "Add the app" }).click();
    await page.getByRole("alert").waitFor();
    expect(await page.getByRole("alert").textContent()).toMatch(/^scaler\.max_dynos expected a number/);
    expect((await t.call("GET", "/api/apps")).json.apps).toEqual([]);
    expect(await axeViolations(page)).toEqual([]);
    // The refused PUT (422), which the page shows at its path.
    expect(errors.splice(0)).toEqual([
      "Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)",
    ]);

    await page.getByLabel(/^Config/).fill(yaml);
    await page.getByRole("button", { name: "Add the app" }).click();
    await page.getByRole("heading", { name: "demo" }).waitFor();
    const stored = (await t.call("GET", "/api/apps/demo/config")).json;
    expect(stored).toMatchObject({
      version: 1,
      author: "admin",
      config: { use: ["random"], scaler: { dry_run: true, max_dynos: 10 } },
    });
    expect(errors).toEqual([]);
    await page.close();
  });

  it("adds an app from the guided start: a few answers write a starter config, dry run on, added as is", async () => {
    const t = await startTestServer({ pagesDir: suite.pagesDir, clock: browserTime() });
    const { page, errors } = await loggedIn(t);
    await page.getByRole("link", { name: "Add an app" }).click();
    await page.getByLabel(/^Heroku app/).fill("demo");
    await page.getByLabel("web: fewest dynos").fill("2");
    await page.getByLabel("web: most dynos").fill("8");
    await page.getByRole("button", { name: "Write the starter config" }).click();
    expect(await page.getByLabel(/^Name/).inputValue()).toBe("demo");
    expect(await page.getByLabel(/^Config/).inputValue()).toContain("dry_run: true");
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole("button", { name: "Add the app" }).click();
    await page.getByRole("heading", { name: "demo" }).waitFor();
    const stored = (await t.call("GET", "/api/apps/demo/config")).json;
    expect(stored.config).toMatchObject({
      use: ["random"],
      scaler: { dry_run: true, heroku_app_name: "demo" },
      processes: { web: { min_dynos: 2, max_dynos: 8 } },
    });
    expect(errors).toEqual([]);
    await page.close();
  });

  it("adding an app under a name that is taken is refused at the name field, with the way to its config; the app is untouched", async () => {
    const t = await startTestServer({ pagesDir: suite.pagesDir, clock: browserTime() });
    const existing = dryRunConfig({ scaler: { heroku_api_key: HEROKU_KEY } });
    expect((await t.call("PUT", "/api/apps/shop/config", { body: existing })).status).toBe(200);
    const yaml = readFileSync(new URL("../../../examples/dry-run.yaml", import.meta.url), "utf8");
    const { page, errors } = await loggedIn(t);

    await page.getByRole("link", { name: "Add an app" }).click();
    const name = page.getByLabel(/^Name/);
    await name.fill("shop");
    await page.getByLabel(/^Config/).fill(yaml);
    await page.getByRole("button", { name: "Add the app" }).click();
    const taken = page.locator("#app-name-error");
    await taken.waitFor();
    expect(await taken.textContent()).toBe("An app named shop exists: open its config to change it.");
    expect(await name.getAttribute("aria-invalid")).toBe("true");
    expect(await name.getAttribute("aria-describedby")).toBe("app-name-error");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("app-name");
    // Nothing saved: shop is still at version 1, its config and its secret as they were.
    const stored = (await t.call("GET", "/api/apps/shop/config")).json;
    expect(stored).toMatchObject({ version: 1, config: { scaler: { max_dynos: 5 } } });
    expect(stored.secrets).toEqual([{ path: "scaler.heroku_api_key", state: "set" }]);
    expect(await axeViolations(page)).toEqual([]);
    expect(errors.splice(0)).toEqual(["Failed to load resource: the server responded with a status of 409 (Conflict)"]);

    await taken.getByRole("link", { name: "open its config" }).click();
    await page.locator("#limits-scaler-min_dynos").waitFor();
    expect(page.url()).toBe(`${t.server.url}/#/apps/shop/config`);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("a secret typed into the form is never shown in the changes: a stored one reads 'set', a typed one '(new value)'", async () => {
    const PLUGIN_TOKEN = "example-plugin-token-typed-in-the-page";
    const { t, page, errors } = await exampleConfigPage({ scaler: { heroku_api_key: HEROKU_KEY } });
    const key = page.locator("#root_scaler_heroku_api_key");
    await key.waitFor();

    const NEW_KEY = "heroku-fake-typed-0123456789abcdef";
    await key.fill(NEW_KEY);
    await page.locator("#root_plugins_1_token").fill(PLUGIN_TOKEN);
    const rows = page.locator(".diff tbody tr");
    const cells = async () => Promise.all((await rows.all()).map((r) => r.locator("th, td").allTextContents()));
    await expect.poll(() => rows.count()).toBe(2);
    expect(await cells()).toEqual([
      ["plugins[1].token", "–", "(new value)"],
      ["scaler.heroku_api_key", "set", "(new value)"],
    ]);
    const text = await page.locator("main").textContent();
    expect(text).not.toContain(NEW_KEY);
    expect(text).not.toContain(PLUGIN_TOKEN);

    // Saved, both are stored (encrypted) and still never shown.
    await page.getByRole("button", { name: "Save as version 2" }).click();
    await page.getByRole("status").filter({ hasText: "Saved as version 2." }).waitFor();
    const saved = (await t.call("GET", "/api/apps/shop/config")).json;
    expect(saved.secrets).toEqual(
      expect.arrayContaining([
        { path: "scaler.heroku_api_key", state: "set" },
        { path: "plugins[1].token", state: "set" },
      ]),
    );
    expect(await page.locator("main").textContent()).not.toContain(NEW_KEY);
    expect(errors).toEqual([]);
    await page.close();
  });
});
