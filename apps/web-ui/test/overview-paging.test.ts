import { describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, dryRunConfig, startTestServer } from "../../web/test/helpers.js";
import { browserSuite, consoleErrors, logIn } from "./browser.js";

const suite = browserSuite();

describe("the overview pages and searches, in Chromium against a real server on SQLite", () => {
  it("101 apps: a page of 100 in the server's order, the next page has the rest; a search keeps the names that contain it", async () => {
    const t = await startTestServer({ pagesDir: suite.pagesDir });
    const names = Array.from({ length: 101 }, (_, i) => `app-${String(i).padStart(3, "0")}`);
    for (const name of names)
      expect((await t.call("PUT", `/api/apps/${name}/config`, { body: dryRunConfig() })).status).toBe(200);
    expect((await t.call("POST", "/api/apps/app-050/pause")).status).toBe(200);

    const page = await suite.chromium.newPage({ viewport: { width: 1100, height: 700 } });
    const errors = consoleErrors(page);
    await logIn(page, t.server.url, ADMIN_PASSWORD);
    errors.splice(0); // the anonymous session probe's 401
    const listed = () =>
      page.locator("tr[data-app]").evaluateAll((rows) => [...new Set(rows.map((r) => r.getAttribute("data-app")))]);
    await page.locator("tr[data-app]").nth(99).waitFor();
    // The page shows the server's order (erroring apps, then the paused one, then by name).
    const api = await t.call("GET", "/api/apps?limit=100");
    const order = api.json.apps.map((a: { name: string }) => a.name);
    expect(await listed()).toEqual(order);
    await page.getByText("apps 1–100 of 101").waitFor();

    const rest = await t.call("GET", `/api/apps?limit=100&cursor=${api.json.next_cursor}`);
    expect(rest.json.apps).toHaveLength(1);
    await page.getByRole("button", { name: "Next" }).click();
    await expect.poll(listed).toEqual([rest.json.apps[0].name]);
    await page.getByRole("button", { name: "Previous" }).click();
    await expect.poll(async () => (await listed()).length).toBe(100);

    await page.getByLabel("Search apps").fill("10");
    await expect.poll(listed).toEqual(["app-010", "app-100"]);
    await page.getByLabel("Search apps").fill("nothing-like-it");
    await page.getByText("No app's name contains “nothing-like-it”.").waitFor();
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});
