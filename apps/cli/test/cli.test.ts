import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type HerokuFake, startHerokuFake } from "@dynosaur/fakes/heroku";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, spawnCli, tempDir } from "./helpers.js";

const DRY = `
use: [random]
scaler:
  dry_run: true
  min_dynos: 2
  max_dynos: 6
  interval: 1
plugins:
  - name: rnd
    type: random
    seed: 7
`;

describe("dynosaur run", () => {
  it("runs one dry-run tick with --once, prints it and appends it to the stats file", async () => {
    const dir = tempDir({ "c.yaml": DRY });
    const { code, stdout, stderr } = await runCli([join(dir, "c.yaml"), "--once"], { cwd: dir });
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toMatch(/\[dry run\] web 2→\d estimate \d \(.+\) winner rnd \| rnd: \d+ random units → \d+ ok/);
    const csv = readFileSync(join(dir, "stats.txt"), "utf8").trim().split("\n");
    expect(csv[0]).toBe(
      "time,app,process_type,dry_run,before,after,estimate,winner,reason,rnd.value,rnd.estimate,rnd.health",
    );
    expect(csv).toHaveLength(2);
  });

  it("a later dry run with other sources in the same directory starts its rows under its own header", async () => {
    const dir = tempDir({ "c.yaml": DRY, "d.yaml": DRY.replace("name: rnd", "name: other") });
    expect((await runCli(["c.yaml", "--once"], { cwd: dir })).code).toBe(0);
    expect((await runCli(["d.yaml", "--once"], { cwd: dir })).code).toBe(0);
    const csv = readFileSync(join(dir, "stats.txt"), "utf8").trim().split("\n");
    expect(csv.map((line) => (line.startsWith("time,") ? line.split(",").slice(9).join(",") : "row"))).toEqual([
      "rnd.value,rnd.estimate,rnd.health",
      "row",
      "other.value,other.estimate,other.health",
      "row",
    ]);
  });

  it("the same seed gives the same decisions", async () => {
    const dir = tempDir({ "c.yaml": DRY });
    const a = await runCli(["run", "c.yaml", "--once", "--log-format", "json"], { cwd: dir });
    const b = await runCli(["run", "c.yaml", "--once", "--log-format", "json"], { cwd: dir });
    const tick = (out: string) =>
      out
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l))
        .find((l) => l.event === "tick");
    expect(tick(a.stdout).sources[0].value).toEqual(tick(b.stdout).sources[0].value);
    expect(tick(a.stdout).after).toEqual(tick(b.stdout).after);
  });

  it("--log-format json prints one object per tick with the documented fields", async () => {
    const dir = tempDir({ "c.yaml": DRY });
    const { stdout } = await runCli(["c.yaml", "--once", "--log-format", "json"], { cwd: dir });
    const lines = stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const tick = lines.find((l) => l.event === "tick");
    expect(tick).toMatchObject({ before: 2, winner: "rnd", level: "info" });
    expect(typeof tick.after).toBe("number");
    expect(typeof tick.estimate).toBe("number");
    expect(new Date(tick.time).toISOString()).toBe(tick.time);
    expect(tick.sources[0]).toEqual(
      expect.objectContaining({
        name: "rnd",
        unit: "random units",
        health: "ok",
        value: expect.any(Number),
        estimate: expect.any(Number),
      }),
    );
  });

  it("runs the seed's layout: no use list, type RandomPlugin, seed key names", async () => {
    const dir = tempDir({
      "seed.yaml":
        "scaler:\n  heroku_app_name: shop\n  heroku_api_key: x\n  min_web_dynos: 1\n  max_web_dynos: 3\n  dry_run: true\n  interval: 5\n  blackout: 300\nplugins:\n  - name: rand\n    type: RandomPlugin\n    interval: 60\n",
    });
    const { code, stdout } = await runCli(["seed.yaml", "--once"], { cwd: dir });
    expect(code).toBe(0);
    expect(stdout).toContain("winner rand");
  });

  it("--dry-run forces a dry run, so no Heroku credentials are needed", async () => {
    const dir = tempDir({ "c.yaml": "use: [random]\nscaler: {}\nplugins: [{type: random, seed: 1}]\n" });
    expect((await runCli(["c.yaml", "--once"], { cwd: dir })).code).toBe(2);
    const { code, stdout } = await runCli(["c.yaml", "--once", "--dry-run"], { cwd: dir });
    expect(code).toBe(0);
    expect(stdout).toContain("[dry run]");
  });
});

describe("bad input gets a clear answer and exit code 2", () => {
  const cases: {
    name: string;
    config: string | null;
    args?: string[];
    env?: Record<string, string>;
    expect: RegExp[];
  }[] = [
    {
      name: "missing heroku_app_name / heroku_api_key outside dry run",
      config: "use: [random]\nscaler: {}\nplugins: [{type: random}]\n",
      expect: [
        /DYNO_CONFIG_INVALID/,
        /scaler\.heroku_app_name: required unless dry_run is true/,
        /scaler\.heroku_api_key: required/,
      ],
    },
    {
      name: "min > max",
      config: "use: [random]\nscaler: {dry_run: true, min_dynos: 5, max_dynos: 2}\nplugins: [{type: random}]\n",
      expect: [/scaler\.min_dynos: min_dynos \(5\) is greater than max_dynos \(2\)/],
    },
    {
      name: "a schedule window's max_dynos below the min_dynos in force during it",
      config:
        "use: [random]\nscaler: {dry_run: true, min_dynos: 2, max_dynos: 3}\nprocesses:\n  web:\n    schedule: [{from: '08:00', to: '18:00', max_dynos: 1}]\nplugins: [{type: random}]\n",
      expect: [
        /processes\.web\.schedule\[0\]\.max_dynos: 1 is below min_dynos \(2, from scaler\.min_dynos\)/,
        /hint: raise the window's max_dynos to at least 2/,
      ],
    },
    {
      name: "an alerts.email that is not an email address",
      config: "use: [random]\nscaler: {dry_run: true}\nalerts: {email: not-an-email}\nplugins: [{type: random}]\n",
      expect: [/alerts\.email: "not-an-email" is not an email address: write an address such as ops@example\.com/],
    },
    {
      name: "a DYNOSAUR_ADMIN_EMAIL that is not an email address",
      config: "use: [random]\nscaler: {dry_run: true}\nplugins: [{type: random}]\n",
      env: { SENDGRID_API_KEY: "SG.x", DYNOSAUR_ADMIN_EMAIL: "ops" },
      expect: [/DYNOSAUR_ADMIN_EMAIL: "ops" is not an email address/, /hint: set DYNOSAUR_ADMIN_EMAIL to an address/],
    },
    {
      name: "negative interval",
      config: "use: [random]\nscaler: {dry_run: true, interval: -1}\nplugins: [{type: random}]\n",
      expect: [/scaler\.interval/],
    },
    {
      name: "non-numeric plugin interval",
      config: "use: [random]\nscaler: {dry_run: true}\nplugins: [{type: random, interval: soon}]\n",
      expect: [/plugins\[0\]\.interval: expected a number, got the string "soon"$/m],
    },
    {
      name: "unknown plugin type lists the known ones",
      config: "use: [random]\nscaler: {dry_run: true}\nplugins: [{type: random}, {type: randon}]\n",
      expect: [
        /DYNO_PLUGIN_UNKNOWN_TYPE/,
        /plugins\[1\]\.type: unknown plugin type "randon" \(did you mean "random"\?\); known types: random/,
      ],
    },
    {
      name: "duplicate plugin name",
      config: "use: [random]\nscaler: {dry_run: true}\nplugins: [{type: random}, {type: random}]\n",
      expect: [/plugins\[1\]\.name: "random" is already the name of plugins\[0\]/],
    },
    {
      name: "a use entry that is not installed",
      config: "use: [random, google-analytics-typo]\nscaler: {dry_run: true}\nplugins: [{type: random}]\n",
      expect: [
        /DYNO_PLUGIN_NOT_FOUND/,
        /use\[1\]: plugin "google-analytics-typo" is not installed \(did you mean google-analytics\?\)/,
        /hint: write use: \[google-analytics\] if you meant it; .*npm install dynosaur-plugin-google-analytics-typo/,
      ],
    },
    {
      name: "unset ${VAR}",
      config:
        "use: [random]\nscaler: {heroku_app_name: a, heroku_api_key: '${HEROKU_API_KEY}'}\nplugins: [{type: random}]\n",
      expect: [/DYNO_ENV_MISSING/, /scaler\.heroku_api_key: environment variable HEROKU_API_KEY is not set/],
    },
    {
      name: "YAML syntax error",
      config: "scaler:\n  dry_run: true\n plugins:\n",
      expect: [/DYNO_CONFIG_SYNTAX/, /line 3, column \d+/],
    },
    { name: "empty file", config: "", expect: [/DYNO_CONFIG_EMPTY/, /is empty/] },
    { name: "missing file", config: null, expect: [/DYNO_CONFIG_NOT_FOUND/, /does not exist/] },
    {
      name: "unknown option",
      config: "use: [random]\nscaler: {dry_run: true}\nplugins: [{type: random}]\n",
      args: ["--fast"],
      expect: [/DYNO_USAGE/, /--fast/],
    },
    {
      name: "typo in a plugin option",
      config: "use: [random]\nscaler: {dry_run: true}\nplugins: [{type: random, sed: 3}]\n",
      expect: [/plugins\[0\]: unknown key "sed" \(did you mean "seed"\?\)/],
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const dir = tempDir(c.config === null ? {} : { "c.yaml": c.config });
      const { code, stderr, stdout } = await runCli(["c.yaml", "--once", ...(c.args ?? [])], { cwd: dir, env: c.env });
      expect(code).toBe(2);
      for (const re of c.expect) expect(stderr).toMatch(re);
      expect(stderr).toMatch(/hint: /);
      expect(stdout).toBe("");
    });
  }

  it("a mistyped command is named as one, with the command meant (QA: `chek x.yaml` said `unexpected argument`)", async () => {
    const dir = tempDir({ "x.yaml": DRY });
    const typo = await runCli(["chek", "x.yaml"], { cwd: dir });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain(
      "error DYNO_USAGE: unknown command chek (did you mean check?)\n  hint: e.g. dynosaur check x.yaml",
    );
    expect((await runCli(["doctr"], { cwd: dir })).stderr).toContain("unknown command doctr (did you mean doctor?)");
    // A config file of that name is still run.
    expect((await runCli(["chek", "--once"], { cwd: tempDir({ chek: DRY }) })).code).toBe(0);
  });

  it("a config naming google-analytics without the package gives the npm install line", async () => {
    const dir = tempDir({
      "c.yaml": "use: [nonexistent-ga]\nscaler: {dry_run: true}\nplugins: [{type: GoogleAnalyticsPlugin}]\n",
    });
    const { stderr } = await runCli(["c.yaml"], { cwd: dir });
    expect(stderr).toContain("hint: npm install dynosaur-plugin-nonexistent-ga");
  });
});

describe("dynosaur check and schema", () => {
  it("check validates and prints what would run, secrets redacted", async () => {
    const dir = tempDir({
      "c.yaml":
        "use: [random]\nscaler: {heroku_app_name: shop, heroku_api_key: '${HEROKU_API_KEY}', max_dynos: 4}\nplugins: [{type: random, seed: 3}]\n",
    });
    const { code, stdout } = await runCli(["check", "c.yaml"], {
      cwd: dir,
      env: { HEROKU_API_KEY: "hk-super-secret-123" },
    });
    expect(code).toBe(0);
    expect(stdout).toContain("is valid");
    expect(stdout).toContain("shop web via https://api.heroku.com");
    expect(stdout).toContain("random: random from @dynosaur/plugin-random@");
    expect(stdout).toMatch(/heroku_api_key: "?'?\[redacted\]/);
    expect(stdout).not.toContain("hk-super-secret-123");
    expect(stdout).toContain("alerts: logged only");
    const emailing = await runCli(["check", "c.yaml"], {
      cwd: dir,
      env: {
        HEROKU_API_KEY: "hk-super-secret-123",
        SENDGRID_API_KEY: "SG.x",
        DYNOSAUR_ADMIN_EMAIL: "ops@shop.example",
      },
    });
    expect(emailing.stdout).toContain("alerts: emailed to ops@shop.example through SendGrid");
  });

  it("check blanks the passwords and keys inside URLs, in the summary and in the config dump (QA)", async () => {
    const dir = tempDir({
      "c.yaml":
        "use: [random]\nscaler: {heroku_app_name: shop, heroku_api_key: hk-123456, heroku_api_url: 'https://bob:proxypass123@proxy.example.com'}\n" +
        "plugins: [{type: random}]\nstats: [{type: otlp, endpoint: 'https://otlp.example.com/?api_key=x'}]\n",
    });
    const { code, stdout } = await runCli(["check", "c.yaml"], { cwd: dir });
    expect(code).toBe(0);
    expect(stdout).toContain("scales: shop web via https://bob:[redacted]@proxy.example.com\n");
    expect(stdout).toContain("heroku_api_url: https://bob:[redacted]@proxy.example.com\n");
    expect(stdout).toContain("endpoint: https://otlp.example.com/?api_key=[redacted]\n");
    expect(stdout).not.toContain("proxypass123");
    expect(stdout).not.toContain("api_key=x");
  });

  it("schema prints the JSON Schema including the options of the config's plugins", async () => {
    const dir = tempDir({ "c.yaml": DRY });
    const { code, stdout } = await runCli(["schema", "c.yaml"], { cwd: dir });
    expect(code).toBe(0);
    const schema = JSON.parse(stdout);
    // A number, or a whole ${VAR} that holds one (check reads the variable's text as a number).
    expect(schema.properties.scaler.properties.headroom).toMatchObject({
      default: 0.2,
      anyOf: [
        { type: "number", minimum: 0 },
        { type: "string", pattern: expect.stringContaining("\\$\\{") },
      ],
    });
    expect(schema.properties.scaler.properties.policy).toMatchObject({
      enum: ["forecast", "seed", "hysteresis", "hpa"],
      default: "forecast",
    });
    // Its default depends on the policy: the description says which.
    expect(schema.properties.scaler.properties.blackout.description).toContain("Default 300 under `policy: seed`");
    const item = schema.properties.plugins.items;
    expect(item.properties.seed).toBeDefined();
    expect(item.properties.type.enum).toEqual(["random", "RandomPlugin"]);
    expect(item.additionalProperties).toBe(false);
  });

  it("schema without a config still describes the scaler section", async () => {
    const { code, stdout } = await runCli(["schema"]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout).properties.scaler.properties.min_dynos.default).toBe(1);
  });
});

describe("the built binary", () => {
  let fake: HerokuFake;
  beforeAll(async () => {
    fake = await startHerokuFake({ apps: { shop: { formation: { web: { quantity: 1 } } } } });
  });
  afterAll(() => fake.close());

  it("stops cleanly on SIGTERM: finishes the tick, exits 0", async () => {
    const dir = tempDir({ "c.yaml": DRY });
    const run = spawnCli(["c.yaml"], { cwd: dir });
    await run.waitFor(/\[dry run\]/);
    run.child.kill("SIGTERM");
    const { code, stdout } = await run.exited;
    expect(code).toBe(0);
    expect(stdout).toMatch(/SIGTERM received: finishing the tick and stopping/);
    expect(stdout).toMatch(/stopped after \d+ ticks? \(SIGTERM\)/);
  });

  it("scales a real formation on the Heroku fake and never prints the key", async () => {
    const dir = tempDir({
      "c.yaml": `use: [random]\nscaler: {heroku_app_name: shop, heroku_api_key: '\${HEROKU_API_KEY}', heroku_api_url: '${fake.url}', max_dynos: 60}\nplugins: [{type: random, seed: 11, max_value: 100}]\n`,
    });
    const run = spawnCli(["c.yaml", "--once", "--log-level", "debug"], {
      cwd: dir,
      env: { HEROKU_API_KEY: fake.apiKey },
    });
    const { code, stdout, stderr } = await run.exited;
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const patch = fake.requests.find((r) => r.method === "PATCH");
    expect(patch?.headers.authorization).toBe(`Bearer ${fake.apiKey}`);
    const asked = (patch?.body as { updates: { quantity: number }[] } | undefined)?.updates[0]?.quantity;
    expect(asked).toBeGreaterThan(1);
    expect(fake.formation("shop", "web")?.quantity).toBe(asked);
    expect(stdout).not.toContain(fake.apiKey);
    expect(existsSync(join(dir, "stats.txt"))).toBe(false);
  });

  it("a dry run touches no network", async () => {
    const before = fake.count();
    const dir = tempDir({
      "c.yaml": DRY.replace(
        "dry_run: true",
        `dry_run: true\n  heroku_app_name: shop\n  heroku_api_key: k\n  heroku_api_url: '${fake.url}'`,
      ),
    });
    const { code } = await spawnCli(["c.yaml", "--ticks", "2"], { cwd: dir }).exited;
    expect(code).toBe(0);
    expect(fake.count()).toBe(before);
  });

  it("exits 1 when --once could not reach Heroku", async () => {
    const dir = tempDir({
      "c.yaml": `use: [random]\nscaler: {heroku_app_name: shop, heroku_api_key: wrong-key-000000, heroku_api_url: '${fake.url}'}\nplugins: [{type: random}]\n`,
    });
    const { code, stdout } = await spawnCli(["c.yaml", "--once"], { cwd: dir }).exited;
    expect(code).toBe(1);
    expect(stdout).toContain("HEROKU_UNAUTHORIZED");
    expect(stdout).not.toContain("wrong-key-000000");
  });
});
