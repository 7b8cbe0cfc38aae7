import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, dryRunConfig, nextTick, startTestServer } from "../../web/test/helpers.js";
import { axeViolations, browserSuite, consoleErrors, DOCS, logIn } from "./browser.js";

const suite = browserSuite();

describe("the overview says each app's state in words, problem apps first, in Chromium", () => {
  it("an outage and 'at max' in words, first; paused and dry run as badges; cards on a phone; axe clean at 1280 and 390 px", async () => {
    const t = await startTestServer({ pagesDir: suite.pagesDir });
    // aaa: all well. full: at its max. down: its only source reads nothing (a closed port).
    expect(
      (await t.call("PUT", "/api/apps/aaa/config", { body: dryRunConfig({ scaler: { max_dynos: 9 } }) })).status,
    ).toBe(200);
    expect(
      (await t.call("PUT", "/api/apps/full/config", { body: dryRunConfig({ scaler: { min_dynos: 3, max_dynos: 3 } }) }))
        .status,
    ).toBe(200);
    const down = {
      ...dryRunConfig({ use: ["dynosaur-plugin-example"] }),
      plugins: [
        {
          type: "example",
          name: "site",
          url: "http://127.0.0.1:9/stats.json",
          json_pointer: "/n",
          per_dyno: 4,
          outage_after: 1,
        },
      ],
    };
    expect((await t.call("PUT", "/api/apps/down/config", { body: down })).status).toBe(200);
    expect((await t.call("POST", "/api/apps/aaa/pause")).status).toBe(200);
    for (const name of ["aaa", "full", "down"]) await nextTick(t, name, 2);
    const states = Object.fromEntries(
      ((await t.call("GET", "/api/apps")).json.apps as { name: string; state: string }[]).map((a) => [a.name, a.state]),
    );
    expect(states).toEqual({
      aaa: expect.stringMatching(/^paused · dry run · /),
      full: "dry run · at max (3 of 3)",
      down: "dry run · outage: site has no reading",
    });

    for (const [width, height, file] of [
      [1280, 900, "web-overview.png"],
      [390, 844, "web-overview-phone.png"],
    ] as const) {
      const page = await suite.chromium.newPage({ viewport: { width, height }, isMobile: width < 500 });
      const errors = consoleErrors(page);
      await logIn(page, t.server.url, ADMIN_PASSWORD);
      errors.splice(0); // the anonymous session probe's 401
      await page.locator('tr[data-app="aaa"]').waitFor();
      // Problem apps first; each says why in words.
      expect(
        await page.locator("tr[data-app]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-app"))),
      ).toEqual(["down", "full", "aaa"]);
      expect(await page.locator('tr[data-app="down"] .state-text').textContent()).toBe(
        "dry run · outage: site has no reading",
      );
      expect(await page.locator('tr[data-app="full"] .state-text').textContent()).toBe("dry run · at max (3 of 3)");
      expect(await page.locator('tr[data-app="aaa"] .badge.paused').count()).toBe(1);
      expect(await page.locator('tr[data-app="down"] .badge.problem').textContent()).toBe("needs a look");
      // Every part of an app is on screen: nothing scrolls sideways.
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
      const state = page.locator('tr[data-app="down"] .state-text');
      expect(await state.evaluate((el) => el.getBoundingClientRect().right <= window.innerWidth)).toBe(true);
      expect(await axeViolations(page)).toEqual([]);
      await page.screenshot({ path: join(DOCS, file), fullPage: true });

      // The app page says it too.
      await page.getByRole("link", { name: "down" }).click();
      await page.locator(".app-state .state-text").waitFor();
      expect(await page.locator(".app-state .state-text").textContent()).toBe("dry run · outage: site has no reading");
      expect(await page.locator(".app-state .badge.dry").count()).toBe(1);
      expect(await axeViolations(page)).toEqual([]);

      expect(errors).toEqual([]);
      await page.close();
    }

    // The build wrote brotli copies of the scripts: the page's own script goes compressed.
    const html = await (await fetch(`${t.server.url}/`)).text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    const r = await fetch(`${t.server.url}${script}`, { headers: { "accept-encoding": "br" } });
    expect(r.headers.get("content-encoding")).toBe("br");
  }, 120_000);
});
