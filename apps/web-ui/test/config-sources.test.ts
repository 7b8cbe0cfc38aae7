import { join } from "node:path";
import { ManualClock } from "@dynosaur/core";
import { describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, dryRunConfig, startTestServer } from "../../web/test/helpers.js";
import { axeViolations, browserSuite, consoleErrors, DOCS, logIn, openAdvanced } from "./browser.js";

const suite = browserSuite();

/** An app `shop` (on the random source unless `config` is given), and its config page, logged in. */
async function configPage(config: unknown = dryRunConfig()) {
  const t = await startTestServer({ pagesDir: suite.pagesDir, clock: new ManualClock(Date.now()) });
  expect((await t.call("PUT", "/api/apps/shop/config", { body: config })).status).toBe(200);
  const page = await suite.chromium.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = consoleErrors(page);
  await logIn(page, t.server.url, ADMIN_PASSWORD);
  errors.splice(0);
  await page.goto(`${t.server.url}/#/apps/shop/config`);
  await page.getByRole("heading", { name: "Limits" }).waitFor();
  return { t, page, errors };
}

/** web and worker, as examples/workers.yaml has them, on the random source. */
const twoProcesses = () => ({
  ...dryRunConfig(),
  processes: {
    web: {
      min_dynos: 2,
      max_dynos: 8,
      schedule: [{ days: ["mon", "tue", "wed", "thu", "fri"], from: "08:00", to: "18:00", min_dynos: 4 }],
    },
    worker: { min_dynos: 0, max_dynos: 4 },
  },
});

describe("the config form in Chromium: limits first, sources added in one go", () => {
  it("changes web's limits from the Limits block, first on the page, in 3 interactions; fewest above most is refused in the browser", async () => {
    const { t, page, errors } = await configPage(twoProcesses());
    const web = page.locator('.limits fieldset[data-process="web"]');
    expect(await web.locator("legend").textContent()).toBe("web: 2–8 dynos");
    expect(await page.locator('.limits fieldset[data-process="worker"] legend').textContent()).toBe(
      "worker: 0–4 dynos",
    );
    // Plain words, the key beside; the schedule in words.
    expect(await web.getByLabel(/^Fewest dynos/).inputValue()).toBe("2");
    expect(await web.locator('label[for="limits-processes-web-max_dynos"]').textContent()).toBe("Most dynos max_dynos");
    expect(await web.locator(".schedule").textContent()).toContain("mon–fri 08:00–18:00: at least 4");
    // The rest of the config is under "Advanced", closed.
    expect(await page.locator("details.advanced").evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);

    // Fewest above most: said at the field, in red, before any request; Save sends nothing.
    await web.getByLabel(/^Fewest dynos/).fill("9");
    const problem = web.locator(".error-detail");
    expect(await problem.textContent()).toBe(
      "web: fewest (9) is more than most (8): lower min_dynos or raise max_dynos",
    );
    expect(await web.getByLabel(/^Fewest dynos/).getAttribute("aria-invalid")).toBe("true");
    await page.getByRole("button", { name: "Save as version 2" }).click();
    await page.getByRole("alert").filter({ hasText: "Nothing was saved" }).waitFor();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("limits-processes-web-min_dynos");
    expect((await t.call("GET", "/api/apps/shop/config")).json.version).toBe(1);

    // Discard: back to the running version.
    await page.getByRole("button", { name: "Discard changes" }).click();
    expect(await web.getByLabel(/^Fewest dynos/).inputValue()).toBe("2");
    expect(await problem.count()).toBe(0);

    // The common task: web between 3 and 12, three interactions.
    const interactions = [
      () => web.getByLabel(/^Fewest dynos/).fill("3"),
      () => web.getByLabel(/^Most dynos/).fill("12"),
      () => page.getByRole("button", { name: "Save as version 2" }).click(),
    ];
    for (const step of interactions) await step();
    expect(interactions.length).toBeLessThanOrEqual(5);
    await page.getByRole("status").filter({ hasText: "Saved as version 2." }).waitFor();
    const saved = (await t.call("GET", "/api/apps/shop/config")).json.config;
    expect(saved.processes).toEqual({
      ...twoProcesses().processes,
      web: { ...twoProcesses().processes.web, min_dynos: 3, max_dynos: 12 },
    });
    expect(await web.locator("legend").textContent()).toBe("web: 3–12 dynos");

    expect(await axeViolations(page)).toEqual([]);
    // The top of the page: the Limits block, first.
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(DOCS, "web-config.png") });
    expect(errors).toEqual([]);
    await page.close();
  });

  it("a Sidekiq source and a good-job source, added and typed into (filled and typed key by key), save in one go", async () => {
    const { t, page, errors } = await configPage();
    await openAdvanced(page);
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
    expect(errors).toEqual([]);
    await page.close();
  });
});
