import { join } from "node:path";
import { ManualClock } from "@dynosaur/core";
import { logplexFrame } from "@dynosaur/plugin-heroku-router";
import { describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, dryRunConfig, must, startPublicTestServer, type TestServer } from "../../web/test/helpers.js";
import { axeViolations, browserSuite, consoleErrors, DOCS, logIn } from "./browser.js";

const suite = browserSuite();
const MINUTE = 60_000;

const routerLine = (i: number, service: number) =>
  logplexFrame({
    appName: "heroku",
    procId: "router",
    text: `at=info method=GET path="/items/${i}" host=my-shop.herokuapp.com request_id=r-${i} fwd="10.0.0.1" dyno=web.${(i % 2) + 1} connect=1ms service=${service}ms status=200 bytes=512 protocol=https`,
  });
const h12 = (i: number) =>
  logplexFrame({
    appName: "heroku",
    procId: "router",
    text: `at=error code=H12 desc="Request timeout" method=GET path="/slow/${i}" host=my-shop.herokuapp.com request_id=t-${i} fwd="10.0.0.1" dyno=web.1 connect=1ms service=30000ms status=503 bytes=0 protocol=https`,
  });
const queueLine = (p95: number) =>
  logplexFrame({
    appName: "app",
    procId: "web.1",
    text: `dynosaur:queue_time n=40 p50=20 p95=${p95} max=300`,
    priority: 190,
  });

const routerConfig = {
  use: ["heroku-router"],
  scaler: { dry_run: true, heroku_app_name: "my-shop", min_dynos: 1, max_dynos: 10, interval: 10 },
  plugins: [{ type: "heroku-router", name: "router", metric: "requests", requests_per_dyno: 100, interval: 10 }],
};

/** A real Logplex delivery: POST /drain/<token> with octet-counted frames. */
async function deliver(t: TestServer, path: string, frames: string[], frameId: string): Promise<void> {
  const res = await fetch(`${t.server.url}${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/logplex-1",
      "logplex-msg-count": String(frames.length),
      "logplex-frame-id": frameId,
    },
    body: frames.join(""),
  });
  expect(res.status).toBe(204);
}

describe("the app page's drain panel, in Chromium against a real server on SQLite", () => {
  it("charts what real deliveries brought beside the dynos, marks the H12 burst, says when the drain went silent; without a drain, a button that sets one up", async () => {
    // The page asks for "the last hour" by the browser's clock: the server's manual clock starts there too.
    const t = await startPublicTestServer({ pagesDir: suite.pagesDir, clock: new ManualClock(Date.now()) });
    const clock = t.clock as ManualClock;
    expect((await t.call("PUT", "/api/apps/shop/config", { body: routerConfig })).status).toBe(200);
    expect((await t.call("PUT", "/api/apps/plain/config", { body: dryRunConfig() })).status).toBe(200);
    const path = new URL((await t.call("GET", "/api/apps/shop/drain")).json.url).pathname;
    const shop = must(await t.server.stores.apps.get("shop"), "shop in the store");

    // Two minutes of the drain: quiet, then a burst of H12s with slower answers and longer queues.
    const m0 = Math.floor(clock.now() / MINUTE) * MINUTE;
    const m1 = m0 + MINUTE;
    await deliver(t, path, [...Array.from({ length: 30 }, (_, i) => routerLine(i, 40 + i)), queueLine(25)], "f-0");
    clock.set(m1 + 1000);
    await deliver(
      t,
      path,
      [...Array.from({ length: 50 }, (_, i) => routerLine(100 + i, 200 + i)), h12(1), h12(2), h12(3), queueLine(180)],
      "f-1",
    );
    await t.server.drains.persist(m0);
    await t.server.drains.persist(m1);
    // The web dynos beside them, as the engine stored them.
    await t.server.stores.readings.write({
      ticks: [],
      minutes: [m0 - MINUTE, m0, m1].map((minute, i) => ({
        appId: shop.id,
        processType: "web",
        minute,
        dynos: 1 + i,
        estimate: 1 + i,
        sources: [{ name: "router", value: 30, estimate: 1, health: "ok" as const }],
      })),
      events: [],
    });

    const page = await suite.chromium.newPage({ viewport: { width: 1100, height: 900 } });
    const errors = consoleErrors(page);
    await logIn(page, t.server.url, ADMIN_PASSWORD);
    errors.splice(0); // the anonymous session probe's 401 (see overview.test.ts)

    // An app without a drain has no charts: a button sets one up, showing the line that adds it.
    const answered = page.waitForResponse((r) => r.url().includes("/api/apps/plain/drain/chart"));
    await page.goto(`${t.server.url}/#/apps/plain`);
    expect((await (await answered).json()).drain).toBe(false);
    await page.getByRole("heading", { name: "Sources" }).waitFor();
    expect(await page.locator("section.drain canvas").count()).toBe(0);
    await page.getByRole("button", { name: "Set up a log drain" }).click();
    const command = page.locator(".drain-setup pre.command");
    await command.waitFor();
    const plainDrain = (await t.call("GET", "/api/apps/plain/drain")).json as { command: string };
    expect(await command.textContent()).toBe(plainDrain.command);
    expect(plainDrain.command).toMatch(/^heroku drains:add http:\/\/127\.0\.0\.1:\d+\/drain\/dd_\S+ -a /);
    // A dry run has no Heroku key for this server to add it with: it says so, and what to run.
    await page.getByRole("button", { name: "Add it to Heroku for me" }).click();
    const refused = page.getByRole("alert");
    await refused.waitFor();
    expect(await refused.textContent()).toMatch(/dry run.*run `heroku drains:add .* instead/);
    expect(errors).toEqual([expect.stringContaining("422")]);
    errors.splice(0); // the refusal's own 422, answered and shown
    expect(await axeViolations(page)).toEqual([]);

    await page.goto(`${t.server.url}/#/apps/shop`);
    await page.getByRole("heading", { name: "Router (log drain)" }).waitFor();
    const requests = page.getByRole("img", { name: /^shop: web requests per minute and web dynos/ });
    const times = page.getByRole("img", { name: /^shop: queue time p95 and service time p95/ });
    for (const chart of [requests, times]) {
      await chart.locator("canvas").waitFor();
      // Both minutes drawn, the H12 minute shaded.
      await expect.poll(() => chart.getAttribute("data-points")).toBe("2");
      expect(await chart.getAttribute("data-bursts")).toBe("1");
      expect(await chart.getAttribute("aria-label")).toMatch(/1 burst of H12, H13 or H14 shaded$/);
    }
    const burst = page.locator(".bursts li");
    expect(await burst.count()).toBe(1);
    expect(await burst.locator(".codes").textContent()).toBe("H12 ×3");
    expect(await burst.locator("time").first().getAttribute("datetime")).toBe(new Date(m1).toISOString());
    // The figures are the deliveries' own: 30 then 53 requests, queue p95 25 then 180 ms.
    const answer = (await t.call("GET", `/api/apps/shop/drain/chart?since=${new Date(m0).toISOString()}`)).json;
    expect(answer.minutes.map((m: { requests: number; queue_p95_ms: number }) => [m.requests, m.queue_p95_ms])).toEqual(
      [
        [30, 25],
        [53, 180],
      ],
    );
    // Lines came a moment ago: no notice.
    expect(await page.locator(".notice.silent").count()).toBe(0);

    // The hour before, as another server process stored it (an H13 burst among it), and the dynos
    // of that hour: the picture for the README.
    const earlier = Array.from({ length: 57 }, (_, i) => m0 - (57 - i) * MINUTE);
    const wave = (i: number) => Math.round(30 + 20 * Math.sin(i / 9));
    await t.server.stores.store.db
      .insertInto("drain_minutes")
      .values(
        earlier.map((minute, i) => ({
          app_id: shop.id,
          minute,
          instance: "another-process",
          requests: wave(i),
          service_p95: 60 + 3 * wave(i),
          queue_n: wave(i),
          queue_p95: i > 20 && i < 28 ? 140 + 10 * (i - 20) : 8 + wave(i) / 2,
          statuses: "{}",
          errors: i === 25 || i === 26 ? JSON.stringify({ H13: 2 }) : "{}",
          messages: wave(i) + 1,
        })),
      )
      .execute();
    await t.server.stores.readings.write({
      ticks: [],
      minutes: earlier.map((minute, i) => ({
        appId: shop.id,
        processType: "web",
        minute,
        dynos: i < 24 ? 1 : i < 45 ? 2 : 1,
        estimate: i < 24 ? 1 : i < 45 ? 2 : 1,
        sources: [{ name: "router", value: wave(i), estimate: 1, health: "ok" as const }],
      })),
      events: [],
    });
    await page.reload();
    await expect.poll(() => requests.getAttribute("data-points")).toBe(String(57 + 2));
    expect(await requests.getAttribute("data-bursts")).toBe("2");
    expect(await page.locator(".bursts li .codes").allTextContents()).toEqual(["H13 ×4", "H12 ×3"]);
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: join(DOCS, "web-app-drain.png"), fullPage: true });
    // On a phone the panel fits the screen: nothing of it reaches past the right edge.
    await page.setViewportSize({ width: 390, height: 844 });
    const widest = () =>
      page.evaluate(() =>
        Math.max(...[...document.querySelectorAll("section.drain *")].map((e) => e.getBoundingClientRect().right)),
      );
    await expect.poll(widest).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(DOCS, "web-app-drain-phone.png"), fullPage: true });
    await page.setViewportSize({ width: 1100, height: 900 });

    // Six minutes without a line (the server's clock moved, nothing slept): the page says so.
    clock.set(m1 + 7 * MINUTE);
    await page.reload();
    const notice = page.locator(".notice.silent");
    await notice.waitFor();
    expect(await notice.textContent()).toMatch(/^The drain has sent no lines since .+ \(6 minutes\)\. Check that it/);
    // The charts stay: the minutes it did send are still worth reading.
    expect(await requests.getAttribute("data-points")).toBe(String(57 + 2));
    expect(errors).toEqual([]);
    await page.close();
  });
});
