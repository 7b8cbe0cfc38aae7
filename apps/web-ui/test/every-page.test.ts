import { join } from "node:path";
import { ManualClock } from "@dynosaur/core";
import { describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, dryRunConfig, nextTick, startTestServer } from "../../web/test/helpers.js";
import { axeViolations, browserSuite, consoleErrors, DOCS, logIn, openAdvanced } from "./browser.js";

const suite = browserSuite();

const WIDTHS = [
  { width: 1280, height: 900, suffix: "" },
  { width: 390, height: 844, suffix: "-phone" },
] as const;

describe("every page at 1280 and at 390 px, in Chromium", () => {
  it("axe finds nothing serious, nothing scrolls sideways, the form is one column on a phone", async () => {
    const t = await startTestServer({ pagesDir: suite.pagesDir, clock: new ManualClock(Date.now()) });
    const config = {
      ...dryRunConfig({ scaler: { max_dynos: 8 } }),
      processes: { web: { min_dynos: 2, max_dynos: 8 }, worker: { min_dynos: 0, max_dynos: 4 } },
      plugins: [
        { type: "random", name: "site", seed: 7, interval: 5 },
        { type: "random", name: "jobs", seed: 8, interval: 5, process: "worker" },
      ],
    };
    expect((await t.call("PUT", "/api/apps/shop/config", { body: config })).status).toBe(200);
    await nextTick(t, "shop", 3);

    for (const { width, height, suffix } of WIDTHS) {
      const page = await suite.chromium.newPage({ viewport: { width, height }, isMobile: width < 500 });
      const errors = consoleErrors(page);
      const check = async (what: string) => {
        expect({ what, violations: await axeViolations(page) }).toEqual({ what, violations: [] });
        expect({
          what,
          sideways: await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth),
        }).toEqual({ what, sideways: false });
      };
      await page.goto(`${t.server.url}/`);
      await page.getByLabel("Password").waitFor();
      await check("login");
      await logIn(page, t.server.url, ADMIN_PASSWORD);
      errors.splice(0); // the anonymous session probe's 401

      await page.getByRole("link", { name: "shop" }).click();
      await page.locator(".events li").first().waitFor();
      // One chart per process type, each with its min and max.
      await page
        .getByRole("img", { name: /^shop web: dynos, estimate, min 2 and max 8/ })
        .locator("canvas")
        .waitFor();
      await page
        .getByRole("img", { name: /^shop worker: dynos, estimate, min 0 and max 4/ })
        .locator("canvas")
        .waitFor();
      // web's scale events of the last minutes are one burst, folded under the newest.
      expect(await page.locator(".events details.burst summary").first().textContent()).toMatch(
        /^\d+ more scale events? just before$/,
      );
      await check("app");
      // docs/web-app.png is app-config.test.ts's (an hour of history); this is the phone's.
      if (suffix) await page.screenshot({ path: join(DOCS, `web-app${suffix}.png`), fullPage: true });

      await page.goto(`${t.server.url}/#/apps/shop/config`);
      await page.getByRole("heading", { name: "Limits" }).waitFor();
      await check("config");
      // docs/web-config.png is config-sources.test.ts's (the Limits block); this is the phone's.
      if (suffix) await page.screenshot({ path: join(DOCS, `web-config${suffix}.png`), fullPage: true });
      await openAdvanced(page);
      await check("config, advanced");
      if (width < 500) {
        // One column: every field starts at the same left edge as the form.
        const lefts = await page
          .locator(".limits input")
          .evaluateAll((els) => [...new Set(els.map((e) => Math.round(e.getBoundingClientRect().left)))]);
        expect(lefts.length).toBe(1);
      }
      // Every button is a 44 px target.
      const small = await page
        .locator("main button:visible")
        .evaluateAll((els) => els.filter((e) => e.getBoundingClientRect().height < 44).map((e) => e.textContent));
      expect(small).toEqual([]);

      await page.goto(`${t.server.url}/#/add`);
      await page.getByRole("button", { name: "Add the app" }).waitFor();
      await check("add");
      await page.screenshot({ path: join(DOCS, `web-add${suffix}.png`), fullPage: true });

      await page.goto(`${t.server.url}/#/tokens`);
      await page.getByRole("button", { name: "Create a token" }).waitFor();
      await check("tokens");
      expect(errors).toEqual([]);
      await page.close();
    }
  }, 180_000);
});
