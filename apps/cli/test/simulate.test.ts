import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runCli, spawnCli, tempDir } from "./helpers.js";

// The random plugin needs ceil(value / 2) dynos: this trace needs 1, 3, 3, then 1 dyno.
const CONFIG = `
use: [random]
scaler:
  min_dynos: 1
  max_dynos: 10
  blackout: 300
  scale_down_step: 1
plugins:
  - name: rnd
    type: random
`;
const TRACE = `minute,value\n${[2, 6, 6, 1, 1, 1, 1, 1, 1, 1].map((v, i) => `${i},${v}`).join("\n")}\n`;
const REPO = fileURLToPath(new URL("../../../", import.meta.url));

function dir(files: Record<string, string> = {}) {
  return tempDir({ "c.yaml": CONFIG, "t.csv": TRACE, ...files });
}

describe("dynosaur simulate", () => {
  it("replays the trace and prints the metrics worked out by hand", async () => {
    const { code, stdout, stderr } = await runCli(["simulate", "c.yaml", "--trace", "t.csv"], { cwd: dir() });
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toContain("Replayed 10 minutes (0.0 days) of t.csv through c.yaml");
    expect(stdout).toContain('rnd (random, random units) fed from column "value"');
    expect(stdout).toContain("the engine ticks every 60 s");
    expect(stdout).toMatch(/^ +configured$/m);
    expect(stdout).toMatch(/^ +dyno-minutes +23$/m);
    expect(stdout).toMatch(/^ +oracle dyno-minutes +14$/m);
    expect(stdout).toMatch(/^ +shortfall dyno-minutes +4$/m);
    expect(stdout).toMatch(/^ +under-provisioned minutes +2$/m);
  });

  it("a config whose numbers come from environment variables replays as if they were written in place", async () => {
    const withEnv = CONFIG.replace("max_dynos: 10", "max_dynos: ${MAX_DYNOS}").replace(
      "type: random\n",
      "type: random\n    interval: ${RND_INTERVAL}\n",
    );
    expect(withEnv).toContain("interval: ${RND_INTERVAL}");
    const { code, stdout, stderr } = await runCli(["simulate", "c.yaml", "--trace", "t.csv"], {
      cwd: dir({ "c.yaml": withEnv }),
      env: { MAX_DYNOS: "10", RND_INTERVAL: "60" },
    });
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toMatch(/^ +dyno-minutes +23$/m);
    expect(stdout).toMatch(/^ +shortfall dyno-minutes +4$/m);
  });

  it("--json prints one object with the documented fields", async () => {
    const { code, stdout } = await runCli(["simulate", "c.yaml", "--trace", "t.csv", "--json"], { cwd: dir() });
    expect(code).toBe(0);
    expect(stdout.trim().split("\n")).toHaveLength(1);
    const json = JSON.parse(stdout);
    expect(json).toMatchObject({
      trace: "t.csv",
      config: "c.yaml",
      policy: "configured",
      minutes: 10,
      dyno_minutes: 23,
      oracle_dyno_minutes: 14,
      cost_ratio: 1.6429,
      shortfall_dyno_minutes: 4,
      shortfall_percent: 28.57,
      under_provisioned_minutes: 2,
      scale_events: 2,
      tick_seconds: 60,
      boot_seconds: 60,
    });
    expect(json.compare).toBeUndefined();
  });

  it("--compare replays the anchors (seed, follow, hysteresis, hpa) and the config side by side", async () => {
    const d = dir();
    const text = await runCli(["simulate", "c.yaml", "--trace", "t.csv", "--compare"], { cwd: d });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^ +seed +follow +hysteresis +hpa +configured$/m);
    expect(text.stdout).toMatch(/^ +policy \(scaler.policy\) +seed +seed +hysteresis +hpa +forecast$/m);
    const { stdout } = await runCli(
      ["simulate", "c.yaml", "--trace", "t.csv", "--compare", "--json", "--boot-seconds", "0"],
      { cwd: d },
    );
    const json = JSON.parse(stdout);
    expect(json.compare.map((c: { policy: string }) => c.policy)).toEqual([
      "seed",
      "follow",
      "hysteresis",
      "hpa",
      "configured",
    ]);
    expect(json.compare.map((c: { rule: string }) => c.rule)).toEqual([
      "seed",
      "seed",
      "hysteresis",
      "hpa",
      "forecast",
    ]);
    expect(json.boot_seconds).toBe(0);
    expect(json.shortfall_dyno_minutes).toBe(2);
  });

  it("--tick-seconds and --source are passed to the replay", async () => {
    const d = dir({ "two.yaml": `${CONFIG}  - name: other\n    type: random\n` });
    const { code, stdout } = await runCli(
      ["simulate", "two.yaml", "--trace", "t.csv", "--json", "--tick-seconds", "5", "--source", "other"],
      { cwd: d },
    );
    expect(code).toBe(0);
    const json = JSON.parse(stdout);
    expect(json.tick_seconds).toBe(5);
    expect(json.sources).toEqual([{ name: "other", type: "random", unit: "random units", column: "value" }]);
    expect(json.ignored_sources).toEqual(["rnd"]);
    expect(json.dyno_minutes).toBe(23);
  });

  it("writes an SVG or HTML chart", async () => {
    const d = dir();
    const svg = await runCli(["simulate", "c.yaml", "--trace", "t.csv", "--chart", "out.svg"], { cwd: d });
    expect(svg.code).toBe(0);
    expect(svg.stdout).toContain("chart: out.svg");
    expect(readFileSync(join(d, "out.svg"), "utf8")).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    const html = await runCli(["simulate", "c.yaml", "--trace", "t.csv", "--chart", "out.html", "--json"], { cwd: d });
    expect(JSON.parse(html.stdout).chart).toBe("out.html");
    expect(readFileSync(join(d, "out.html"), "utf8")).toMatch(/^<!doctype html>/);
  });

  it("exits 2 on a malformed trace, naming the file and line", async () => {
    const d = dir({ "bad.csv": "minute,value\n0,1\n1,2\n2,lots\n" });
    const { code, stdout, stderr } = await runCli(["simulate", "c.yaml", "--trace", "bad.csv"], { cwd: d });
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain('error DYNO_TRACE_INVALID: bad.csv:4: value "lots" is not a number');
    expect(stderr).toContain("hint: a trace is CSV with a header `minute,value`");
  });

  it("exits 2 on usage errors", async () => {
    const d = dir();
    const cases: [string[], RegExp][] = [
      [["simulate", "c.yaml"], /DYNO_USAGE: `dynosaur simulate` needs --trace/],
      [["simulate", "--trace", "t.csv"], /DYNO_USAGE: `dynosaur simulate` needs a config file/],
      [
        ["simulate", "c.yaml", "--trace", "t.csv", "--chart", "out.png"],
        /--chart out.png: the file must end in .svg or .html/,
      ],
      [
        ["simulate", "c.yaml", "--trace", "t.csv", "--boot-seconds", "soon"],
        /--boot-seconds must be a number of seconds >= 0, not "soon"/,
      ],
      [
        ["simulate", "c.yaml", "--trace", "t.csv", "--tick-seconds", "0"],
        /--tick-seconds must be a number of seconds > 0/,
      ],
      [
        ["simulate", "c.yaml", "--trace", "t.csv", "--source", "rndm"],
        /--source rndm: the config has no source of that name \(did you mean "rnd"\?\)/,
      ],
      [["simulate", "c.yaml", "--trace", "missing.csv"], /DYNO_TRACE_NOT_FOUND: trace file missing.csv does not exist/],
      [["simulate", "c.yaml", "--trace", "t.csv", "--once"], /DYNO_USAGE: Unknown option '--once'/],
    ];
    for (const [argv, message] of cases) {
      const { code, stderr } = await runCli(argv, { cwd: d });
      expect(code, argv.join(" ")).toBe(2);
      expect(stderr).toMatch(message);
    }
  });

  it("needs no Heroku credentials and never prints a secret from the config", async () => {
    const d = dir({
      "secret.yaml": `use: [random]\nscaler:\n  heroku_app_name: shop\n  heroku_api_key: \${HEROKU_API_KEY}\n  max_dynos: 10\nplugins:\n  - type: random\n`,
    });
    const env = { HEROKU_API_KEY: "hk-secret-0123456789" };
    for (const flags of [[], ["--json", "--compare"]]) {
      const { code, stdout, stderr } = await runCli(["simulate", "secret.yaml", "--trace", "t.csv", ...flags], {
        cwd: d,
        env,
      });
      expect(code).toBe(0);
      expect(stdout + stderr).not.toContain("hk-secret-0123456789");
    }
  });

  it("--help prints the simulate usage; dynosaur --help lists the command", async () => {
    const help = await runCli(["simulate", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("dynosaur simulate <config> --trace <file.csv> [options]");
    expect(help.stdout).toContain("--boot-seconds <s>");
    const main = await runCli(["--help"]);
    expect(main.stdout).toContain("dynosaur simulate <config> --trace <file.csv>");
  });

  it("the built CLI replays the example trace with the example config, needing no New Relic key", async () => {
    expect(existsSync(join(REPO, "apps/cli/dist/bin.js")), "run the build first").toBe(true);
    // No NEW_RELIC_API_KEY: the example's placeholder key parses, and nothing is called.
    const { code, stdout, stderr } = await spawnCli(
      ["simulate", "examples/backtest.yaml", "--trace", "examples/traces/aws-elb-requests.csv", "--compare", "--json"],
      { cwd: REPO },
    ).exited;
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const json = JSON.parse(stdout);
    expect(json).toMatchObject({
      minutes: 20_200,
      oracle_dyno_minutes: 60_630,
      sources: [{ name: "throughput", type: "newrelic", unit: "requests/min" }],
      ticks: 20_199,
    });
    expect(json.compare).toHaveLength(5);
    for (const run of json.compare) {
      expect(run.warnings).toBe(0);
      expect(run.cost_ratio).toBeGreaterThan(0.9);
    }
  });
});
