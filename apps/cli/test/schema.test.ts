import { generateKeyPairSync } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { runCli, tempDir } from "./helpers.js";

/*
 * `dynosaur schema` accepts what `dynosaur check` accepts: every example config, the
 * README's config blocks and the configs the CLI tests run are validated against the schema
 * printed for that config, with a real JSON Schema validator (Ajv, draft 2020-12, formats
 * checked); configs `check` rejects are rejected by the schema too. `check --dry-run` is
 * the fair comparison: a JSON Schema cannot know the command line, so it never requires the
 * Heroku keys a dry run does without.
 */
const REPO = fileURLToPath(new URL("../../../", import.meta.url));
// ajv-formats is CommonJS: an ESM default import is its module.exports, whose `default` is the plugin.
const addFormats = addFormatsModule.default;
const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
addFormats(ajv);

const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
/** What the configs' `${VAR}`s need for `check` to create their sources. */
const ENV = {
  GA_PRIVATE_KEY: keys.privateKey.export({ type: "pkcs8", format: "pem" }) as string,
  GA_CLIENT_EMAIL: "dynosaur@shop-analytics.iam.gserviceaccount.com",
  NEW_RELIC_API_KEY: "NRAK-test-schema-000000000000",
  STATUS_TOKEN: "status-token-0000",
  LIBRATO_TOKEN: "librato-token-0000",
  // Read by the queue plugins at their first poll only: check connects to nothing.
  REDIS_URL: "redis://:redis-password-0000@127.0.0.1:6379/0",
  DATABASE_URL: "postgres://app:pg-password-0000@127.0.0.1:5432/app",
  QUEUE_DATABASE_URL: "postgres://app:pg-password-0000@127.0.0.1:5432/queue",
  // Numbers and booleans kept in config vars (heroku config:set MAX_DYNOS=6).
  DRY_RUN: "true",
  MAX_DYNOS: "6",
  RANDOM_SEED: "7",
};

async function schemaOf(dir: string, file: string): Promise<object> {
  const { code, stdout, stderr } = await runCli(["schema", file], { cwd: dir, env: ENV });
  expect(stderr).toBe("");
  expect(code).toBe(0);
  return JSON.parse(stdout) as object;
}

/** Ajv's verdict on `raw`: null when valid, else its errors, one per line. */
function schemaErrors(schema: object, raw: unknown): string | null {
  const validate = ajv.compile(schema);
  return validate(raw) ? null : ajv.errorsText(validate.errors, { separator: "\n" });
}

async function check(dir: string, file: string) {
  return runCli(["check", "--dry-run", file], { cwd: dir, env: ENV });
}

/** Both verdicts on a config file that `check` accepts. */
async function expectBothAccept(dir: string, file: string) {
  const checked = await check(dir, file);
  expect(checked.stderr, `check ${file}`).toBe("");
  expect(checked.code).toBe(0);
  expect(
    schemaErrors(await schemaOf(dir, file), parse(readFileSync(join(dir, file), "utf8"))),
    `schema on ${file}`,
  ).toBeNull();
}

/** ```yaml blocks of a Markdown file that are configs: a `plugins:` list, no entry left out ("# ..."). */
function configBlocks(markdown: string): string[] {
  const blocks = [...markdown.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? "");
  return blocks
    .filter((text) => {
      const raw = parse(text) as unknown;
      return typeof raw === "object" && raw !== null && "plugins" in raw && !/^\s+# \.\.\./m.test(text);
    })
    .map((text) => ((parse(text) as Record<string, unknown>).scaler ? text : `${text}\nscaler: { dry_run: true }\n`));
}

/** Configs the CLI tests run (cli, plugins-e2e, stats-alerts-e2e), as they write them. */
const CLI_TEST_CONFIGS: Record<string, string> = {
  "cli: dry run":
    "use: [random]\nscaler:\n  dry_run: true\n  min_dynos: 2\n  max_dynos: 6\n  interval: 1\nplugins:\n  - name: rnd\n    type: random\n    seed: 7\n",
  "cli: the seed's layout":
    "scaler:\n  heroku_app_name: shop\n  heroku_api_key: x\n  min_web_dynos: 1\n  max_web_dynos: 3\n  dry_run: true\n  interval: 5\n  blackout: 300\nplugins:\n  - name: rand\n    type: RandomPlugin\n    interval: 60\n",
  "cli: short names":
    "use: [random]\nscaler: {app: shop, api_key: '${HEROKU_API_KEY}', min: 1, max: 4}\nplugins: [{type: random, seed: 3}]\n",
  "plugins-e2e: seed-era Google Analytics and New Relic": `scaler: {dry_run: true, max_dynos: 40}
plugins:
  - name: ga
    type: GoogleAnalyticsPlugin
    property_id: "123456789"
    client_email: dynosaur@shop-analytics.iam.gserviceaccount.com
    key: \${GA_PRIVATE_KEY}
    users_per_dyno: 10
    api_root: http://127.0.0.1:9/
    token_url: http://127.0.0.1:9/token
  - name: nr
    type: NewRelicPlugin
    key: \${NEW_RELIC_API_KEY}
    account_id: 1234567
    app_name: shop
    rpm_per_dyno: 150
    endpoint: http://127.0.0.1:9/graphql
`,
  "stats-alerts-e2e: stats and alerts": `scaler:
  heroku_app_name: shop
  heroku_api_key: \${HEROKU_API_KEY}
  heroku_api_url: http://127.0.0.1:9
  max_dynos: 10
  interval: 0.2
  librato_email: ops@shop.example
  librato_api_key: \${LIBRATO_TOKEN}
stats:
  - type: librato
    email: ops@shop.example
    api_key: \${LIBRATO_TOKEN}
    endpoint: http://127.0.0.1:9
  - type: otlp
    headers: { x-api-key: secret }
  - { type: console, output: stdout }
  - { type: file, path: ticks.csv }
alerts:
  email: [oncall@shop.example, ops@shop.example]
  sendgrid_endpoint: http://127.0.0.1:9
  heartbeat_url: https://hc-ping.com/0000
  min_interval: 60
plugins:
  - {name: dice, type: random, seed: 5, interval: 0.2, max_value: 100}
`,
};

describe("dynosaur schema accepts what check accepts", () => {
  it("every example config", async () => {
    const files = readdirSync(join(REPO, "examples")).filter((f) => f.endsWith(".yaml"));
    expect(files).toEqual(expect.arrayContaining(["dry-run.yaml", "backtest.yaml"]));
    for (const file of files) await expectBothAccept(join(REPO, "examples"), file);
  });

  it("the config blocks of the README and of the plugins' READMEs", async () => {
    const docs = [
      "README.md",
      "packages/plugin-google-analytics/README.md",
      "packages/plugin-newrelic/README.md",
      "packages/plugin-random/README.md",
      "packages/plugin-redis-queue/README.md",
      "packages/plugin-postgres-queue/README.md",
    ];
    const blocks = docs.flatMap((doc) =>
      configBlocks(readFileSync(join(REPO, doc), "utf8")).map((text, i) => ({
        name: `${doc.replaceAll("/", "_")}-${i}.yaml`,
        text,
      })),
    );
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    const dir = tempDir(Object.fromEntries(blocks.map((b) => [b.name, b.text])));
    for (const { name } of blocks) await expectBothAccept(dir, name);
  });

  it("the queue plugins' config per library, each in a worker process type", async () => {
    const docs = {
      "redis-queue": "packages/plugin-redis-queue/README.md",
      "postgres-queue": "packages/plugin-postgres-queue/README.md",
    };
    // Their per-library blocks are `plugins:` entries ("  - type: sidekiq ..."): each goes in a config of its own.
    const entries = Object.entries(docs).flatMap(([pkg, doc]) =>
      [...readFileSync(join(REPO, doc), "utf8").matchAll(/^```yaml\n( {2}- type: [\s\S]*?)^```$/gm)].map((m, i) => ({
        name: `${pkg}-entry-${i}.yaml`,
        pkg,
        entry: m[1] ?? "",
      })),
    );
    const types = entries.map((e) => /type: ([\w-]+)/.exec(e.entry)?.[1]);
    expect(types).toEqual([
      "sidekiq",
      "bullmq",
      "rq",
      "celery",
      "good-job",
      "solid-queue",
      "pg-boss",
      "graphile-worker",
      "delayed-job",
      "sql",
    ]);
    const wrap = (pkg: string, entry: string) =>
      `use: [${pkg}]\nscaler: { dry_run: true }\nprocesses:\n  web: {}\n  worker: { min_dynos: 0, hold_while_busy: true }\nplugins:\n${entry}`;
    const dir = tempDir(Object.fromEntries(entries.map((e) => [e.name, wrap(e.pkg, e.entry)])));
    for (const { name } of entries) await expectBothAccept(dir, name);
  });

  it("numbers and booleans from environment variables, each a key's whole value", async () => {
    const dir = tempDir({
      "env.yaml":
        "use: [random]\nscaler: {dry_run: '${DRY_RUN}', max_dynos: '${MAX_DYNOS}', interval: '${INTERVAL:-2}'}\n" +
        "plugins: [{type: random, seed: '${RANDOM_SEED}', max_value: '${MAX_VALUE:-50}'}]\n",
    });
    await expectBothAccept(dir, "env.yaml");
  });

  it("the configs the CLI tests run", async () => {
    const dir = tempDir(
      Object.fromEntries(
        Object.entries(CLI_TEST_CONFIGS).map(([name, text]) => [`${name.replace(/\W+/g, "-")}.yaml`, text]),
      ),
    );
    for (const name of Object.keys(CLI_TEST_CONFIGS)) await expectBothAccept(dir, `${name.replace(/\W+/g, "-")}.yaml`);
  });
});

describe("dynosaur schema rejects what check rejects", () => {
  const BASE = "use: [random]\nscaler: {dry_run: true, max_dynos: 6}\nplugins: [{name: rnd, type: random, seed: 7}]\n";
  const cases: { name: string; config: string; check: RegExp }[] = [
    {
      name: "a misspelt section",
      config: BASE.replace("scaler:", "scalar:"),
      check: /\(top level\): unknown key "scalar" \(did you mean "scaler"\?\)/,
    },
    {
      name: "a misspelt scaler key",
      config: BASE.replace("max_dynos", "max_dynoz"),
      check: /scaler: unknown key "max_dynoz"/,
    },
    {
      name: "a string for a number",
      config: BASE.replace("max_dynos: 6", 'interval: "abc"'),
      check: /scaler\.interval: expected a number, got the string "abc"/,
    },
    {
      name: "an alias of the wrong type",
      config: BASE.replace("max_dynos: 6", "max_web_dynos: many"),
      check: /scaler\.max_dynos: expected a number/,
    },
    { name: "a fraction of dynos", config: BASE.replace("max_dynos: 6", "max_dynos: 2.5"), check: /scaler\.max_dynos/ },
    {
      name: "a misspelt plugin option",
      config: BASE.replace("seed: 7", "sed: 7"),
      check: /plugins\[0\]: unknown key "sed" \(did you mean "seed"\?\)/,
    },
    {
      name: "a bad common source option",
      config: BASE.replace("seed: 7", "timeout: 0"),
      check: /plugins\[0\]\.timeout/,
    },
    {
      name: "an unknown plugin type",
      config: BASE.replace("type: random", "type: randon"),
      check: /plugins\[0\]\.type: unknown plugin type "randon"/,
    },
    {
      name: "no plugins",
      config: BASE.replace(/plugins: .*/, "plugins: []"),
      check: /plugins: list at least one plugin/,
    },
    { name: "an unknown stats reporter", config: `${BASE}stats: [{type: statsd}]\n`, check: /stats\[0\]/ },
    { name: "a bad alerts key", config: `${BASE}alerts: {min_interval: -1}\n`, check: /alerts\.min_interval/ },
    {
      name: "text around a variable where a number belongs",
      config: BASE.replace("max_dynos: 6", "max_dynos: '${MAX_DYNOS}0'"),
      check: /scaler\.max_dynos: expected a number, got the string "60"/,
    },
    { name: "an unknown top-level key", config: `${BASE}extra: 1\n`, check: /\(top level\): unknown key "extra"/ },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const dir = tempDir({ "base.yaml": BASE, "bad.yaml": c.config });
      const checked = await check(dir, "bad.yaml");
      expect(checked.code).toBe(2);
      expect(checked.stderr).toMatch(c.check);
      expect(schemaErrors(await schemaOf(dir, "base.yaml"), parse(c.config))).not.toBeNull();
    });
  }
});

type JsonSchema = {
  description?: string;
  deprecated?: boolean;
  properties?: Record<string, JsonSchema>;
  [key: string]: unknown;
};

/** `path: key` of every property in the schema that has no description. */
function undescribed(node: unknown, path = ""): string[] {
  if (Array.isArray(node)) return node.flatMap((n, i) => undescribed(n, `${path}[${i}]`));
  if (typeof node !== "object" || node === null) return [];
  const out: string[] = [];
  for (const [key, value] of Object.entries(node)) {
    if (key === "properties") {
      for (const [name, property] of Object.entries(value as Record<string, JsonSchema>))
        if (!property.description) out.push(`${path}.${name}`);
    }
    out.push(...undescribed(value, `${path}.${key}`));
  }
  return out;
}

describe("the schema documents every key", () => {
  it("without a config: every core key has a description", async () => {
    const { code, stdout } = await runCli(["schema"]);
    expect(code).toBe(0);
    const schema = JSON.parse(stdout) as JsonSchema;
    expect(undescribed(schema)).toEqual([]);
    // A plugins[] entry lists the options every source has.
    const entry = schema.properties?.plugins?.items as JsonSchema | undefined;
    expect(Object.keys(entry?.properties ?? {})).toEqual([
      "name",
      "type",
      "process",
      "interval",
      "hysteresis_period",
      "outage_after",
      "timeout",
    ]);
  });

  it("with a config: the plugin's own options too", async () => {
    const dir = tempDir({ "c.yaml": "use: [random]\nscaler: {dry_run: true}\nplugins: [{type: random}]\n" });
    expect(undescribed(await schemaOf(dir, "c.yaml"))).toEqual([]);
  });

  it("with a config whose ${VAR}s are unset: an editor's schema needs none of its secrets (QA)", async () => {
    const { code, stdout, stderr } = await runCli(["schema", "examples/app.yaml"], { cwd: REPO, env: {} });
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const entry = (JSON.parse(stdout) as JsonSchema).properties?.plugins?.items as JsonSchema | undefined;
    expect(entry?.properties).toHaveProperty("rpm_per_dyno");
    // A config error is still one, set or not.
    const dir = tempDir({ "c.yaml": "use: [random]\nscalar: {}\nplugins: [{type: random, seed: '${SEED}'}]\n" });
    const bad = await runCli(["schema", "c.yaml"], { cwd: dir, env: { SEED: "1" } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown key "scalar"');
  });

  it("lists the seed-era and short scaler names as deprecated, naming the key to write", async () => {
    const scaler = ((JSON.parse((await runCli(["schema"])).stdout) as JsonSchema).properties?.scaler?.properties ??
      {}) as Record<string, JsonSchema>;
    const aliases = {
      min_web_dynos: "min_dynos",
      max_web_dynos: "max_dynos",
      min: "min_dynos",
      max: "max_dynos",
      app: "heroku_app_name",
      api_key: "heroku_api_key",
    };
    for (const [alias, key] of Object.entries(aliases)) {
      expect(scaler[alias], alias).toMatchObject({
        deprecated: true,
        description: `Deprecated: an older name of \`${key}\`; write \`${key}\` instead.`,
      });
      // An alias advertises no default of its own: an editor must not insert it next to its key.
      expect(scaler[alias]).not.toHaveProperty("default");
      expect(scaler[key]?.deprecated).toBeUndefined();
    }
  });
});
