import { join } from "node:path";
import { ManualClock } from "@dynosaur/core";
import { describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, dryRunConfig, startTestServer } from "../../web/test/helpers.js";
import { axeViolations, browserSuite, consoleErrors, DOCS, logIn } from "./browser.js";

const suite = browserSuite();

/** An app `shop` on the random source, and its config page, logged in. */
async function configPage() {
  const t = await startTestServer({ pagesDir: suite.pagesDir, clock: new ManualClock(Date.now()) });
  expect((await t.call("PUT", "/api/apps/shop/config", { body: dryRunConfig() })).status).toBe(200);
  const page = await suite.chromium.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = consoleErrors(page);
  await logIn(page, t.server.url, ADMIN_PASSWORD);
  errors.splice(0);
  await page.goto(`${t.server.url}/#/apps/shop/config`);
  await page.locator("#root_plugins_0_seed").waitFor();
  return { t, page, errors };
}

describe("adding a source through the config form, in Chromium", () => {
  it("a Sidekiq source and a good-job source, added and typed into (filled and typed key by key), save in one go", async () => {
    const { t, page, errors } = await configPage();
    const add = page.locator("#root_plugins__add");

    // Every installed plugin type is offered by its name, not only the config's own (random).
    await add.click();
    const kind = page.getByLabel("Source 2: type");
    const offered = await kind.locator("option").allTextContents();
    expect(offered).toEqual(
      expect.arrayContaining(["random", "newrelic", "sidekiq", "bullmq", "good-job", "solid-queue"]),
    );
    expect(offered.some((o) => /^Option/.test(o))).toBe(false);

    // Sidekiq, its values filled in.
    await kind.selectOption("sidekiq");
    await page.locator("#root_plugins_1_url").fill("redis://127.0.0.1:9/0");
    await page.locator("#root_plugins_1_jobs_per_dyno").fill("50");
    await page.locator("#root_plugins_1_name").fill("jobs");

    // good-job, its values typed key by key.
    await add.click();
    await page.getByLabel("Source 3: type").selectOption("good-job");
    await page.locator("#root_plugins_2_url").pressSequentially("postgres://app@127.0.0.1:9/app");
    await page.locator("#root_plugins_2_jobs_per_dyno").pressSequentially("20");
    await page.locator("#root_plugins_2_name").pressSequentially("mail");

    // What was typed is in the draft (the changes table), with the packages the new types need.
    const diff = await page.locator(".diff tbody tr th").allTextContents();
    expect(diff).toEqual(
      expect.arrayContaining([
        "plugins[1].type",
        "plugins[1].url",
        "plugins[1].jobs_per_dyno",
        "plugins[2].type",
        "plugins[2].url",
        "plugins[2].jobs_per_dyno",
        "use[1]",
        "use[2]",
      ]),
    );

    await page.getByRole("button", { name: "Save as version 2" }).click();
    await page.getByRole("status").filter({ hasText: "Saved as version 2." }).waitFor();
    const saved = (await t.call("GET", "/api/apps/shop/config")).json;
    expect(saved.config.use).toEqual(["random", "redis-queue", "postgres-queue"]);
    expect(saved.config.plugins.slice(1)).toEqual([
      { type: "sidekiq", name: "jobs", jobs_per_dyno: 50 },
      { type: "good-job", name: "mail", jobs_per_dyno: 20 },
    ]);
    // Both URLs carry a password's place: stored as secrets, never sent back.
    expect(saved.secrets).toEqual(
      expect.arrayContaining([
        { path: "plugins[1].url", state: "set" },
        { path: "plugins[2].url", state: "set" },
      ]),
    );
    // After the save, the two sources are still there, as their own kinds.
    expect(await page.getByLabel("Source 2: type").inputValue()).not.toBe("");
    expect(await page.locator("#root_plugins_2_jobs_per_dyno").inputValue()).toBe("20");
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: join(DOCS, "web-config-sources.png"), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });
});
