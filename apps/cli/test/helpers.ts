import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { onTestFinished } from "vitest";
import { main } from "../src/main.js";

export const BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));

/**
 * A fresh directory with these files (relative path → text), removed when the test that
 * made it finishes (so it must be called inside a test).
 */
export function tempDir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "dynosaur-cli-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** Runs the CLI in-process and collects what it prints. */
export async function runCli(argv: string[], options: { cwd?: string; env?: Record<string, string | undefined> } = {}) {
  let stdout = "";
  let stderr = "";
  const code = await main({
    argv,
    cwd: options.cwd ?? process.cwd(),
    env: options.env ?? {},
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
  });
  return { code, stdout, stderr };
}

/** Spawns the built CLI with the current Node.js, as a user would run it. */
export function spawnCli(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? "", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (resolve) =>
      // "close" comes after the process exited and its output streams ended.
      child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  /** Resolves when the output so far matches `pattern`. */
  const waitFor = (pattern: RegExp) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (pattern.test(stdout)) {
          child.stdout.off("data", check);
          resolve();
        }
      };
      child.stdout.on("data", check);
      child.on("exit", () => reject(new Error(`exited before printing ${pattern}: ${stdout}\n${stderr}`)));
      check();
    });
  return { child, exited, waitFor, output: () => stdout };
}

const CLI_MODULES = fileURLToPath(new URL("../node_modules", import.meta.url));

/**
 * A temp dir (see `tempDir`) whose local plugin files can import @dynosaur/core and zod as
 * any plugin package would.
 */
export function pluginDir(files: Record<string, string>): string {
  const dir = tempDir(files);
  symlinkSync(CLI_MODULES, join(dir, "node_modules"), "dir");
  return dir;
}

/**
 * A config dir for a scaler of app `shop` (web) on the Heroku fake at `herokuUrl`, fed by a
 * tiny plugin that reads its value from a file the test rewrites (`setReading`).
 */
export function readingSetup(herokuUrl: string, options: { blackout: number; reading?: number; bootSeconds?: number }) {
  const dir = tempDir();
  // The plugin imports @dynosaur/core and zod as any plugin package would.
  symlinkSync(CLI_MODULES, join(dir, "node_modules"), "dir");
  mkdirSync(join(dir, "data"));
  const file = join(dir, "data", "reading.txt");
  const setReading = (v: number) => writeFileSync(file, String(v));
  setReading(options.reading ?? 0);
  writeFileSync(
    join(dir, "reading-plugin.mjs"),
    `import { readFileSync } from "node:fs";
import { definePlugin } from "@dynosaur/core";
import { z } from "zod";
export default definePlugin({
  type: "reading",
  unit: "requests",
  options: z.object({ file: z.string(), per: z.number().positive().default(10) }),
  create: (o) => ({ retrieve: async () => Number(readFileSync(o.file, "utf8")), estimateDynos: (v) => Math.ceil(v / o.per) }),
});
`,
  );
  writeFileSync(
    join(dir, "c.yaml"),
    `use: ["./reading-plugin.mjs"]
scaler:
  heroku_app_name: shop
  heroku_api_key: \${HEROKU_API_KEY}
  heroku_api_url: ${herokuUrl}
  min_dynos: 1
  max_dynos: 10
  interval: 0.25
  heroku_poll_interval: 0.5
  blackout: ${options.blackout}
  scale_down_step: 0${options.bootSeconds === undefined ? "" : `\n  boot_seconds: ${options.bootSeconds}`}
plugins:
  - { type: reading, file: ${JSON.stringify(file)}, interval: 0.25 }
`,
  );
  return { dir, setReading };
}

/**
 * Waits until `check()` holds, for other processes (which run on the real clock): polls
 * every 25 ms, fails after `ms`. Returns how long it took.
 */
export async function until(check: () => boolean, ms: number, what: string): Promise<number> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return performance.now() - started;
}
