import { ManualClock } from "@dynosaur/core";
import { describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, dryRunConfig, must, startTestServer } from "../../web/test/helpers.js";
import { browserSuite, consoleErrors, logIn } from "./browser.js";

const suite = browserSuite();

describe("the app page's chart, in Chromium against a real server on SQLite", () => {
  it("after a drag to zoom, choosing a range shows that range, not the zoomed window", async () => {
    // The page asks for "the last hour" by the browser's clock: the server's manual clock starts there too.
    const t = await startTestServer({ pagesDir: suite.pagesDir, clock: new ManualClock(Date.now()) });
    expect((await t.call("PUT", "/api/apps/shop/config", { body: dryRunConfig() })).status).toBe(200);
    const shop = must(await t.server.stores.apps.get("shop"), "shop in the store");
    // Two hours of stored minutes, so both the hour and the day have points to draw.
    const minute0 = Math.floor(t.clock.now() / 60_000) * 60_000;
    await t.server.stores.readings.write({
      ticks: [],
      minutes: Array.from({ length: 120 }, (_, i) => ({
        appId: shop.id,
        processType: "web",
        minute: minute0 - (120 - i) * 60_000,
        dynos: 1 + (i % 3),
        estimate: 1 + (i % 3),
        sources: [{ name: "random", value: 10 + i, estimate: 1 + (i % 3), health: "ok" as const }],
      })),
      events: [],
    });
    const page = await suite.chromium.newPage({ viewport: { width: 1100, height: 800 } });
    const errors = consoleErrors(page);
    await logIn(page, t.server.url, ADMIN_PASSWORD);
    errors.splice(0); // the anonymous session probe's 401 (see overview.test.ts)

    await page.goto(`${t.server.url}/#/apps/shop`);
    const chart = page.getByRole("img", { name: /^shop web: dynos, estimate/ });
    await chart.locator("canvas").waitFor();
    // The chart says what it drew: data-from / data-to in seconds.
    const span = async () =>
      Number(await chart.getAttribute("data-to")) - Number(await chart.getAttribute("data-from"));
    /** Waits until the chart shows `seconds` (within a minute): a range chosen may redraw the chart from nothing first. */
    const shows = (seconds: number) =>
      expect
        .poll(async () => {
          const s = await span();
          return s >= seconds && s < seconds + 60 ? seconds : s;
        })
        .toBe(seconds);
    await expect.poll(async () => Number(await chart.getAttribute("data-points"))).toBeGreaterThan(0);
    expect(await span()).toBeGreaterThanOrEqual(3600);
    expect(await span()).toBeLessThan(3600 + 60);

    // Drag across a fifth of the plot: the axis shows about 12 minutes.
    const zoom = async () => {
      const over = must(await chart.locator(".u-over").boundingBox(), "the chart's plot area");
      const y = over.y + over.height / 2;
      await page.mouse.move(over.x + over.width * 0.4, y);
      await page.mouse.down();
      await page.mouse.move(over.x + over.width * 0.5, y, { steps: 5 });
      await page.mouse.move(over.x + over.width * 0.6, y, { steps: 5 });
      await page.mouse.up();
      await expect.poll(async () => (await span()) > 0 && (await span()) < 3600 / 3).toBe(true);
    };
    await zoom();

    const day = page.getByRole("button", { name: "24 h" });
    await day.click();
    expect(await day.getAttribute("aria-pressed")).toBe("true");
    await shows(86_400);

    // Back to the hour, zoomed again, then the hour chosen once more though it is the range shown: the whole hour.
    await page.getByRole("button", { name: "1 h" }).click();
    await shows(3600);
    await zoom();
    await page.getByRole("button", { name: "1 h" }).click();
    await shows(3600);
    expect(errors).toEqual([]);
    await page.close();
  });
});
