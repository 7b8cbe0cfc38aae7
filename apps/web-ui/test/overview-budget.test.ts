import { startHerokuFake } from "@dynosaur/fakes/heroku";
import { describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, nextTick, onCleanup, startTestServer } from "../../web/test/helpers.js";
import { browserSuite, consoleErrors, logIn } from "./browser.js";

const suite = browserSuite();
const HEROKU_KEY = "heroku-budget-key-for-the-overview-page";

describe("the overview's Heroku API budget notice, in Chromium against a real server", () => {
  it("says when the apps on one key read more often than its budget allows, and suggests webhooks; never the key", async () => {
    const names = Array.from({ length: 12 }, (_, i) => `app-${String(i).padStart(2, "0")}`);
    const heroku = await startHerokuFake({
      apiKey: HEROKU_KEY,
      apps: Object.fromEntries(names.map((n) => [n, { formation: { web: { quantity: 1 } } }])),
    });
    onCleanup(() => heroku.close());
    const t = await startTestServer({ pagesDir: suite.pagesDir });
    for (const name of names) {
      const config = {
        use: ["random"],
        scaler: {
          heroku_app_name: name,
          heroku_api_key: HEROKU_KEY,
          heroku_api_url: heroku.url,
          min_dynos: 1,
          max_dynos: 1,
          interval: 5,
          // 12 apps reading every 10 s: 4320 reads an hour, more than the 3645 the key's budget leaves.
          heroku_poll_interval: 10,
        },
        plugins: [{ type: "random", seed: 7, interval: 5 }],
      };
      expect((await t.call("PUT", `/api/apps/${name}/config`, { body: config })).status).toBe(200);
    }
    for (const name of names) await nextTick(t, name);

    const page = await suite.chromium.newPage({ viewport: { width: 1100, height: 700 } });
    const errors = consoleErrors(page);
    await logIn(page, t.server.url, ADMIN_PASSWORD);
    errors.splice(0); // the anonymous session probe's 401
    const notice = page.locator(".budget-notice");
    await notice.waitFor();
    const text = (await notice.textContent()) ?? "";
    expect(text).toMatch(
      /^Heroku API budget: 12 apps on this key need 4320 formation reads\/h; the budget allows 3645 /,
    );
    expect(text).toMatch(/reads spaced to every 12 s.*Use Heroku webhooks to see changes sooner/);
    expect(await page.content()).not.toContain(HEROKU_KEY);
    expect(errors).toEqual([]);
  });
});
