import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll } from "vitest";

/*
 * The browser side of the page tests: Debian's Chromium (scripts/chromium.sh installs it;
 * nothing is downloaded here), driven by playwright-core, against pages built from the
 * current sources.
 */

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CHROMIUM_SH = fileURLToPath(new URL("../../../scripts/chromium.sh", import.meta.url));
/**
 * Where the pages' screenshots go: docs/ when DYNOSAUR_SCREENSHOTS=docs (to refresh the README's
 * pictures), else the test run's own temporary folder (scripts/test-servers.ts removes it), so a
 * test run never changes the checkout and leaves nothing behind.
 */
export const DOCS =
  process.env.DYNOSAUR_SCREENSHOTS === "docs"
    ? fileURLToPath(new URL("../../../docs/", import.meta.url))
    : join(process.env.DYNOSAUR_TEST_TMP || tmpdir(), "dynosaur-screenshots");
mkdirSync(DOCS, { recursive: true });

/**
 * A test file's pages and browser: the pages built from the current sources and one Chromium,
 * before its first test; both gone after its last.
 */
export function browserSuite(): { readonly pagesDir: string; readonly chromium: Browser } {
  let pages: Awaited<ReturnType<typeof buildPages>> | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    pages = await buildPages();
    browser = await launch();
  }, 600_000);
  afterAll(async () => {
    await browser?.close();
    pages?.remove();
  });
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("the pages and the browser are set up in beforeAll");
    return value;
  };
  return {
    get pagesDir() {
      return ready(pages).dir;
    },
    get chromium() {
      return ready(browser);
    },
  };
}

/** Builds the pages into a temporary directory (removed by the returned function). */
export async function buildPages(): Promise<{ dir: string; remove: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), "dynosaur-pages-"));
  await build({
    root: ROOT,
    configFile: join(ROOT, "vite.config.ts"),
    logLevel: "silent",
    build: { outDir: dir, emptyOutDir: true },
  });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Chromium, headless. Fails, never skips, when it cannot be had: a page never opened proves nothing. */
export async function launch(): Promise<Browser> {
  const out = execFileSync("bash", [CHROMIUM_SH], {
    encoding: "utf8",
    timeout: 600_000,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const executablePath = out.trim().split("\n").at(-1);
  if (!executablePath) throw new Error(`scripts/chromium.sh printed no Chromium path:\n${out}`);
  return chromium.launch({
    executablePath,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/** Every console error and uncaught exception of the page (CSP violations are console errors). */
export function consoleErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(e.message));
  return errors;
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/**
 * axe-core's serious and critical violations on the page as it is now. Evaluated through
 * the DevTools protocol, so the page's CSP (no inline script) does not stop it.
 */
export async function axeViolations(page: Page): Promise<{ id: string; impact: string; nodes: string[] }[]> {
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    // biome-ignore lint/suspicious/noExplicitAny: axe is a global the evaluated source defines
    const axe = (window as any).axe;
    const result = await axe.run(document, { resultTypes: ["violations"] });
    return (result.violations as { id: string; impact: string; nodes: { target: string[] }[] }[])
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" ")) }));
  });
}

/** Logs in through the login page as the test server's admin. */
export async function logIn(page: Page, url: string, password: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("button", { name: "Log out", exact: true }).waitFor();
}

/** Opens the config page's "Advanced" part (every key of the config, the generated form). */
export async function openAdvanced(page: Page): Promise<void> {
  const details = page.locator("details.advanced");
  await details.waitFor();
  if (!(await details.evaluate((d) => (d as HTMLDetailsElement).open))) await details.locator("summary").click();
  await page.locator("#root_plugins").waitFor();
}

/** Whether an element is in the viewport now, wholly (the answer next to a button is in view). */
export async function inView(page: Page, selector: string): Promise<boolean> {
  return page.locator(selector).evaluate((el) => {
    const r = el.getBoundingClientRect();
    return r.top >= 0 && r.bottom <= window.innerHeight && r.height > 0;
  });
}
