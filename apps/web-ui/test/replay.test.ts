import { join } from "node:path";
import { ManualClock } from "@dynosaur/core";
import { describe, expect, it } from "vitest";
import type { MinuteRow } from "../../web/src/store/readings.js";
import { ADMIN_PASSWORD, dryRunConfig, startTestServer } from "../../web/test/helpers.js";
import { axeViolations, browserSuite, consoleErrors, DOCS, logIn } from "./browser.js";

const suite = browserSuite();

const MINUTE = 60_000;

describe("Try it first, in Chromium against a real server on SQLite", () => {
  it('"Replay the last day" shows the running config and the draft side by side, numbers and chart; a refused draft shows its errors at their fields', async () => {
    const t = await startTestServer({ pagesDir: suite.pagesDir, clock: new ManualClock(Date.now()) });
    const config = dryRunConfig({ scaler: { max_dynos: 10 } });
    expect((await t.call("PUT", "/api/apps/shop/config", { body: config })).status).toBe(200);
    // Only the readings stored here: the engine is stopped and what it stored so far removed.
    await t.server.supervisor.stop();
    await t.server.recorder.flush();
    await t.server.stores.store.db.deleteFrom("minutes").execute();
    const app = await t.server.stores.apps.get("shop");
    const last = Math.floor(t.clock.now() / MINUTE) * MINUTE;
    // Six hours stored: the last day holds no more.
    const minutes: MinuteRow[] = Array.from({ length: 360 }, (_, i) => ({
      appId: app?.id ?? 0,
      processType: "web",
      minute: last - (359 - i) * MINUTE,
      dynos: null,
      estimate: null,
      // A wave from 0 to 16 readings (0 to 8 dynos) and back.
      sources: [
        {
          name: "random",
          value: Math.round(8 - 8 * Math.cos((2 * Math.PI * i) / 360)),
          estimate: null,
          health: "ok",
        },
      ],
    }));
    await t.server.stores.readings.write({ ticks: [], minutes, events: [] });

    const page = await suite.chromium.newPage({ viewport: { width: 1100, height: 800 } });
    const errors = consoleErrors(page);
    await logIn(page, t.server.url, ADMIN_PASSWORD);
    errors.splice(0); // the anonymous session probe's 401 (see overview.test.ts)

    await page.goto(`${t.server.url}/#/apps/shop/config`);
    // The Limits block, first on the page.
    const minDynos = page.locator("#limits-scaler-min_dynos");
    await minDynos.waitFor();
    await minDynos.fill("3");
    await page.getByLabel("Days to replay (1 to 14)").fill("1");
    await page.getByRole("button", { name: "Replay the last day" }).click();

    const table = page.locator(".replay-scores");
    await table.waitFor();
    const cells = async (row: string) =>
      (
        await table
          .getByRole("row", { name: new RegExp(`^${row}`) })
          .locator("td")
          .allTextContents()
      ).map((c) => c.trim());
    // The numbers are the API's for the same draft.
    const api = (
      await t.call("POST", "/api/apps/shop/replay", {
        body: { config: dryRunConfig({ scaler: { max_dynos: 10, min_dynos: 3 } }), days: 1 },
      })
    ).json;
    // Dyno-hours to the hundredth; the difference is the shown figures' (sideBySide's unit test has the rounding).
    const cost = await cells("Cost");
    const hundredths = (v: number) => Math.round(v * 100);
    expect(cost.slice(0, 2)).toEqual([api.running.cost_dyno_hours.toFixed(2), api.draft.cost_dyno_hours.toFixed(2)]);
    expect(cost[2]).toBe(
      `+${((hundredths(api.draft.cost_dyno_hours) - hundredths(api.running.cost_dyno_hours)) / 100).toFixed(2)}`,
    );
    expect(api.draft.cost_dyno_hours).toBeGreaterThan(api.running.cost_dyno_hours);
    expect((await cells("Shortfall")).slice(0, 2)).toEqual([
      api.running.shortfall_percent.toFixed(2),
      api.draft.shortfall_percent.toFixed(2),
    ]);
    expect((await cells("Scale events")).slice(0, 2)).toEqual([
      String(api.running.scale_events),
      String(api.draft.scale_events),
    ]);
    await page.getByText("Replayed 6 h of stored readings").waitFor();
    await page
      .getByRole("img", { name: /^web: dynos over the replayed minutes/ })
      .locator("canvas")
      .waitFor();
    // Nothing was saved.
    expect((await t.call("GET", "/api/apps/shop/config")).json.version).toBe(1);
    expect(await axeViolations(page)).toEqual([]);
    await page.locator(".replay").screenshot({ path: join(DOCS, "web-replay.png") });

    // A draft the server refuses: its error at the field, as a refused save's.
    await minDynos.fill("20");
    await page.getByRole("button", { name: "Replay the last day" }).click();
    await page.getByRole("alert").filter({ hasText: "The draft cannot be replayed" }).waitFor();
    expect(await page.locator("#root_scaler_min_dynos__error").textContent()).toMatch(/max_dynos/);
    expect(await table.count()).toBe(0);
    expect(errors.splice(0)).toEqual([
      "Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)",
    ]);

    // A replay the browser's own checks block (15 days): no request, and the last answer's alert is gone.
    const days = page.getByLabel("Days to replay (1 to 14)");
    await days.fill("15");
    await page.getByRole("button", { name: "Replay the last 15 days" }).click();
    await expect.poll(() => page.getByRole("alert").count()).toBe(0);
    expect(await days.evaluate((el) => (el as HTMLInputElement).validity.rangeOverflow)).toBe(true);
    await days.fill("1");

    // By keyboard: back to a valid value, Enter in the days box replays.
    await minDynos.fill("2");
    await page.getByLabel("Days to replay (1 to 14)").press("Enter");
    await table.waitFor();
    await expect.poll(() => page.locator("#root_scaler_min_dynos__error").count()).toBe(0);
    expect(await axeViolations(page)).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000); // three replays and two axe runs: more than the default 20 s on a busy machine
});
