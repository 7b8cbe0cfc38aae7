import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { type HerokuFake, startHerokuFake } from "@dynosaur/fakes/heroku";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pluginDir, runCli } from "./helpers.js";

/**
 * Local plugins: `steady` reads a fixed number; `refusing` fails as a service refusing a
 * key does (the key in its message, to prove it is redacted); `silent` calls a server that
 * accepts the connection and never answers.
 */
const PLUGINS = `import { definePlugin, PluginError } from "@dynosaur/core";
import { z } from "zod";
export default [
  definePlugin({
    type: "steady",
    unit: "requests/min",
    options: z.object({ value: z.number() }),
    create: (o) => ({ retrieve: async () => o.value, estimateDynos: (v) => Math.ceil(v / 100) }),
  }),
  definePlugin({
    type: "refusing",
    unit: "requests/min",
    options: z.object({ api_key: z.string() }),
    create: (o) => ({
      retrieve: async () => {
        throw new PluginError("the metrics API refused the key " + o.api_key + " (401)", { hint: "create a read-only key in the metrics service's settings" });
      },
      estimateDynos: (v) => v,
    }),
  }),
  definePlugin({
    type: "broken",
    unit: "requests/min",
    options: z.object({}),
    create: () => ({
      retrieve: async () => {
        throw new Error("the metrics service answered 500");
      },
      estimateDynos: (v) => v,
    }),
  }),
  definePlugin({
    type: "silent",
    unit: "requests/min",
    options: z.object({ url: z.string() }),
    create: (o, ctx) => ({
      retrieve: async (signal) => {
        const url = new URL(o.url);
        const res = await ctx.http.request({ origin: url.origin, path: url.pathname, method: "GET", signal });
        return Number(await res.body.text());
      },
      estimateDynos: (v) => v,
    }),
  }),
];
`;

const SOURCE_KEY = "metrics-key-7f3a9c21";

let fake: HerokuFake;
/** Accepts connections and never answers. */
const silent = createServer((socket) => sockets.add(socket));
const sockets = new Set<Socket>();
let silentUrl = "";

beforeAll(async () => {
  fake = await startHerokuFake({ apps: { shop: { formation: { web: { quantity: 2 }, worker: { quantity: 0 } } } } });
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  const address = silent.address();
  silentUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/metrics`;
});

afterAll(async () => {
  await fake.close();
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => silent.close(resolve));
});

function config(options: { plugins: string[]; processes?: string; dryRun?: boolean }): string {
  const heroku = options.dryRun
    ? "  dry_run: true\n"
    : `  heroku_app_name: shop\n  heroku_api_key: \${HEROKU_API_KEY}\n  heroku_api_url: ${fake.url}\n`;
  return `use: ["./plugins.mjs"]
scaler:
${heroku}  interval: 0.1
  min_dynos: 1
  max_dynos: 10
${options.processes ?? ""}plugins:
${options.plugins.map((p) => `  - ${p}\n`).join("")}`;
}

/** Runs `dynosaur doctor` on `yaml`; `key` is HEROKU_API_KEY (null: unset). */
async function doctor(yaml: string, args: string[] = [], key: string | null = fake.apiKey) {
  const dir = pluginDir({ "plugins.mjs": PLUGINS, "c.yaml": yaml });
  fake.clearRequests();
  return runCli(["doctor", join(dir, "c.yaml"), ...args], {
    cwd: dir,
    env: { ...(key === null ? {} : { HEROKU_API_KEY: key }), METRICS_KEY: SOURCE_KEY },
  });
}

describe("dynosaur doctor", () => {
  it("fixes speak of this one check, not of a next tick or a last good reading (a one-shot check has neither)", async () => {
    const yaml = config({ plugins: ["{ type: broken }"] }).replace(fake.url, "http://127.0.0.1:9");
    const { code, stdout } = await doctor(yaml);
    expect(code).toBe(1);
    expect(stdout).toContain("FAIL  source broken");
    expect(stdout).toContain("fix: check the source's service and the plugin's options\n");
    expect(stdout).toMatch(/fix: .*status\.heroku\.com.*; run `dynosaur doctor` again to check once more/);
    expect(stdout).not.toMatch(/next tick|last good reading/i);
  });

  it("all checks pass: prints each source's value and estimate and the formation, exits 0, and only reads Heroku once", async () => {
    const { code, stdout, stderr } = await doctor(
      config({
        plugins: ["{ type: steady, value: 250 }", "{ name: jobs, type: steady, value: 40, process: worker }"],
        processes: "processes:\n  web: {}\n  worker: { min_dynos: 0 }\n",
      }),
    );
    expect(stderr).toBe("");
    expect(stdout).toContain("ok    source steady (steady → web): 250 requests/min → 3 dynos");
    expect(stdout).toContain("ok    source jobs (steady → worker): 40 requests/min → 1 dyno\n");
    expect(stdout).toContain("ok    heroku shop (formation): web=2 worker=0 (read only; nothing was scaled)");
    expect(stdout).toContain("all 3 checks passed");
    expect(code).toBe(0);
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual(["GET /apps/shop/formation"]);
    expect(stdout).not.toContain(fake.apiKey);
  });

  it("a wrong Heroku key: exits 1 with Heroku's refusal and its fix, the key never printed", async () => {
    const { code, stdout } = await doctor(
      config({ plugins: ["{ type: steady, value: 250 }"] }),
      [],
      "wrong-key-0123456789",
    );
    expect(code).toBe(1);
    expect(stdout).toContain("ok    source steady");
    expect(stdout).toMatch(/FAIL {2}heroku shop \(formation\): HEROKU_UNAUTHORIZED: Heroku refused the API key/);
    expect(stdout).toContain("fix: Create a long-lived key with `heroku authorizations:create`");
    expect(stdout).toContain("1 of 2 checks failed");
    expect(stdout).not.toContain("wrong-key-0123456789");
    expect(fake.count("PATCH")).toBe(0);
  });

  it("a source that accepts the connection and never answers is reported within the timeout, next to the other checks", async () => {
    const { code, stdout } = await doctor(
      config({ plugins: [`{ type: silent, url: "${silentUrl}" }`, "{ type: steady, value: 250 }"] }),
      ["--timeout", "0.2"],
    );
    expect(code).toBe(1);
    expect(stdout).toContain("each check within 0.2 s");
    expect(stdout).toContain(
      "FAIL  source silent (silent → web): DYNO_PLUGIN_TIMEOUT: source silent gave no reading within 0.2 s",
    );
    expect(stdout).toContain(
      "fix: raise plugins[].timeout if the service is slow, or check that it is up; `dynosaur doctor --timeout <s>` waits longer",
    );
    expect(stdout).toContain("ok    source steady");
    expect(stdout).toContain("ok    heroku shop");
    expect(sockets.size).toBeGreaterThan(0);
  });

  it("a failing source: its error and its fix, the source's secret redacted", async () => {
    const { code, stdout } = await doctor(config({ plugins: ["{ type: refusing, api_key: '${METRICS_KEY}' }"] }));
    expect(code).toBe(1);
    expect(stdout).toContain(
      "FAIL  source refusing (refusing → web): DYNO_PLUGIN_FAILED: the metrics API refused the key [redacted] (401)",
    );
    expect(stdout).toContain("fix: create a read-only key in the metrics service's settings");
    expect(stdout).not.toContain(SOURCE_KEY);
  });

  it("a process type the app does not have: exits 1 naming it", async () => {
    const { code, stdout } = await doctor(
      config({
        plugins: ["{ type: steady, value: 250 }"],
        processes: "processes:\n  web: {}\n  sidekiq: { min_dynos: 0 }\n",
      }),
    );
    expect(code).toBe(1);
    expect(stdout).toContain(
      'FAIL  heroku shop (formation): HEROKU_NOT_FOUND: app shop has no process type "sidekiq" in its formation (it has: web, worker)',
    );
    expect(stdout).toContain(
      "fix: each process type the config scales must be in the app's released Procfile (`heroku ps -a shop`)",
    );
  });

  it("a dry run skips Heroku and says so", async () => {
    const { code, stdout } = await doctor(config({ plugins: ["{ type: steady, value: 250 }"], dryRun: true }));
    expect(stdout).toContain("skip  heroku Heroku (formation): dry run: Heroku is not called");
    expect(stdout).toContain("all 2 checks passed");
    expect(code).toBe(0);
    expect(fake.count()).toBe(0);
  });

  it("--dry-run makes any config a dry run: no Heroku settings needed", async () => {
    const { code, stdout, stderr } = await doctor(
      config({ plugins: ["{ type: steady, value: 250 }"] }),
      ["--dry-run"],
      null,
    );
    expect(stderr).toBe("");
    expect(stdout).toContain("skip  heroku");
    expect(code).toBe(0);
    expect(fake.count()).toBe(0);
  });

  it("bad input exits 2: an unknown plugin option, a bad --timeout, --timeout outside doctor", async () => {
    const bad = await doctor(config({ plugins: ["{ type: steady, value: 250, vlaue: 3 }"] }));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("plugins[0]");
    expect(fake.count()).toBe(0);
    expect((await doctor(config({ plugins: ["{ type: steady, value: 1 }"] }), ["--timeout", "soon"])).stderr).toMatch(
      /--timeout must be a number of seconds > 0, not "soon"/,
    );
    const run = await runCli(["c.yaml", "--timeout", "5"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--timeout applies to `dynosaur doctor` only");
  });
});

describe("dynosaur run --once / --ticks", () => {
  it("exits 1 when no source ever gave a reading, and says so", async () => {
    const dir = pluginDir({
      "plugins.mjs": PLUGINS,
      "c.yaml": config({ plugins: ["{ type: refusing, api_key: '${METRICS_KEY}' }"], dryRun: true }),
    });
    for (const args of [["--once"], ["--ticks", "2"]]) {
      const { code, stdout } = await runCli(["c.yaml", ...args], { cwd: dir, env: { METRICS_KEY: SOURCE_KEY } });
      expect(stdout).toContain("estimate ? (no readings yet)");
      expect(stdout).toMatch(
        /ERROR no source gave a reading in \d ticks? \(see the failures above\); `dynosaur doctor c\.yaml` checks each source and Heroku/,
      );
      expect(code).toBe(1);
    }
  });

  it("exits 0 when one source read, even if another failed", async () => {
    const dir = pluginDir({
      "plugins.mjs": PLUGINS,
      "c.yaml": config({
        plugins: ["{ type: refusing, api_key: '${METRICS_KEY}' }", "{ type: steady, value: 250 }"],
        dryRun: true,
      }),
    });
    const { code, stdout } = await runCli(["c.yaml", "--once"], { cwd: dir, env: { METRICS_KEY: SOURCE_KEY } });
    expect(stdout).toContain("winner steady");
    expect(code).toBe(0);
  });
});
