import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { call, listeningUrl, TOKEN, until } from "./helpers.js";

/**
 * The Deploy to Heroku route, built as Heroku's Node.js buildpack builds it, in a fresh clone
 * of this checkout's last commit: `pnpm install --frozen-lockfile`, the root package.json's
 * `heroku-postbuild` (which the buildpack runs instead of `build` when there is one), then the
 * prune to production dependencies (`pnpm install --prod --frozen-lockfile`). The server that
 * the Procfile starts must then run every first-party plugin, and a third-party one named in
 * DYNOSAUR_PLUGINS at build time (scripts/heroku-plugins.sh); and the CLI, as the README's
 * worker-dyno route runs it, must find the plugins from a config in apps/web.
 *
 * Fast because pnpm's store is warm and the build reuses turbo's cache of this checkout.
 */
const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const git = (args: string[], cwd = REPO) => execFileSync("git", args, { cwd, encoding: "utf8" }).trim();

const work = mkdtempSync(join(tmpdir(), "dynosaur-heroku-build-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A third-party plugin as its author would publish it: its own package, outside the workspace. */
function thirdPartyPlugin(): string {
  const dir = join(work, "dynosaur-plugin-constant");
  mkdirSync(dir);
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: "dynosaur-plugin-constant", version: "1.0.0", type: "module", main: "index.js" }),
  );
  writeFileSync(
    join(dir, "index.js"),
    `import { definePlugin, z } from "@dynosaur/core";
export default definePlugin({
  type: "constant",
  unit: "units",
  description: "The same reading every poll.",
  options: z.object({ value: z.number() }),
  create: (options) => ({ retrieve: async () => options.value, estimateDynos: (v) => v }),
});
`,
  );
  return dir;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("error", fail);
    child.on("close", (code) =>
      code === 0 ? done() : fail(new Error(`${command} ${args.join(" ")} exited ${code}:\n${output.slice(-4000)}`)),
    );
  });
}

describe("a Heroku build (install, heroku-postbuild, prune to production)", () => {
  it("serves configs of every first-party plugin and of a DYNOSAUR_PLUGINS one: 200", async () => {
    const app = join(work, "app");
    git(["clone", "--quiet", "--shared", REPO, app]);
    git(["checkout", "--quiet", "--detach", git(["rev-parse", "HEAD"])], app);
    // turbo keeps its cache next to the repository's common git directory: the build reuses it.
    const cache = join(dirname(resolve(REPO, git(["rev-parse", "--git-common-dir"]))), ".turbo", "cache");
    const env = {
      ...process.env,
      TURBO_CACHE_DIR: cache,
      TURBO_TELEMETRY_DISABLED: "1",
      DYNOSAUR_PLUGINS: `dynosaur-plugin-constant@file:${thirdPartyPlugin()}`,
    };
    await run("pnpm", ["install", "--frozen-lockfile", "--reporter=append-only"], app, env);
    await run("pnpm", ["run", "heroku-postbuild"], app, env);
    await run("pnpm", ["install", "--prod", "--frozen-lockfile", "--reporter=append-only"], app, env);

    // The README's worker-dyno route today: the CLI with a config next to the server's plugins.
    writeFileSync(
      join(app, "apps/web/dynosaur.yaml"),
      "use: [redis-queue]\nscaler: { dry_run: true }\nplugins:\n  - { type: sidekiq, url: 'redis://127.0.0.1:9/0', jobs_per_dyno: 10 }\n",
    );
    const checked = execFileSync(process.execPath, ["apps/cli/dist/bin.js", "check", "apps/web/dynosaur.yaml"], {
      cwd: app,
      encoding: "utf8",
    });
    expect(checked).toContain("is valid");

    // The Procfile's command, on a port of its own.
    const child = spawn(process.execPath, ["apps/web/dist/bin.js", "--port", "0"], {
      cwd: app,
      env: { PATH: process.env.PATH ?? "", DYNOSAUR_API_TOKEN: TOKEN },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    child.stdout.on("data", (d) => (stdout += d));
    const exited = new Promise((done) => child.on("close", done));
    try {
      await until(() => /listening on/.test(stdout), 30_000, `the server to listen; got:\n${stdout}`);
      const base = listeningUrl(stdout);
      const config = {
        use: ["redis-queue", "postgres-queue", "random", "newrelic", "google-analytics", "constant"],
        scaler: { dry_run: true },
        processes: { web: { max_dynos: 4 }, worker: { min_dynos: 0, max_dynos: 4 } },
        plugins: [
          { name: "site", type: "random" },
          { name: "flat", type: "constant", value: 2 },
          { name: "sidekiq", type: "sidekiq", process: "worker", url: "redis://127.0.0.1:9/0", jobs_per_dyno: 10 },
          {
            name: "goodjob",
            type: "good-job",
            process: "worker",
            url: "postgres://u@127.0.0.1:9/db",
            jobs_per_dyno: 10,
          },
        ],
      };
      const saved = await call(base, "PUT", "/api/apps/workers/config", { body: config });
      expect(saved.status, saved.text).toBe(200);
    } finally {
      child.kill("SIGTERM");
      await exited;
    }
  }, 600_000);
});
