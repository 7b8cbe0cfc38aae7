import { ManualClock } from "@dynosaur/core";
import { startHerokuFake } from "@dynosaur/fakes/heroku";
import { describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, nextTick, onCleanup, startPublicTestServer } from "../../web/test/helpers.js";
import { browserSuite, consoleErrors, logIn } from "./browser.js";

const suite = browserSuite();
const HEROKU_KEY = "heroku-fake-0123456789abcdef";

describe("the app page and the app's Heroku webhook, in Chromium against a real server", () => {
  it("shows why formation changes are held, and the measured boot time next to boot_seconds", async () => {
    const heroku = await startHerokuFake({
      apiKey: HEROKU_KEY,
      apps: { example: { formation: { web: { quantity: 1 } }, features: ["preboot"] } },
    });
    onCleanup(() => heroku.close());
    const t = await startPublicTestServer({ pagesDir: suite.pagesDir, clock: new ManualClock(Date.now()) });
    const config = {
      use: ["random"],
      scaler: {
        heroku_app_name: "example",
        heroku_api_key: HEROKU_KEY,
        heroku_api_url: heroku.url,
        min_dynos: 1,
        max_dynos: 1,
        boot_seconds: 60,
        interval: 5,
      },
      plugins: [{ type: "random", seed: 7, interval: 5 }],
    };
    expect((await t.call("PUT", "/api/apps/shop/config", { body: config })).status).toBe(200);
    await nextTick(t, "shop");
    const made = await t.call("POST", "/api/apps/shop/heroku-webhook?subscribe=true");
    expect(made.json.subscribed).toBe(true);
    await heroku.sendDyno("example", { name: "web.2", state: "starting" });
    (t.clock as ManualClock).advance(42_000);
    await heroku.sendDyno("example", { name: "web.2", state: "up" });
    await heroku.sendRelease("example", { version: 42, status: "succeeded", description: "Deploy 4f2a" });

    const page = await suite.chromium.newPage({ viewport: { width: 1100, height: 800 } });
    const errors = consoleErrors(page);
    await logIn(page, t.server.url, ADMIN_PASSWORD);
    errors.splice(0); // the anonymous session probe's 401 (see overview.test.ts)
    await page.goto(`${t.server.url}/#/apps/shop`);
    await expect
      .poll(() => page.locator(".hold").textContent())
      .toMatch(/^Formation changes held: Heroku is prebooting release v42 and refuses formation changes until/);
    expect(await page.locator(".boot").textContent()).toBe(
      "Boot time measured (Heroku webhook): web 42 s (median of 1) · boot_seconds 60 s",
    );
    await expect
      .poll(() => page.locator(".events").textContent())
      .toContain("Heroku release v42 succeeded: Deploy 4f2a");

    // The release fails: the hold is lifted, and the next tick the page hears of says so.
    await heroku.sendRelease("example", { version: 42, status: "failed" });
    await nextTick(t, "shop");
    await expect.poll(() => page.locator(".hold").count()).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  });
});
