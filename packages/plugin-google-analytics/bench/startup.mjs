#!/usr/bin/env node
// Start-up cost of the plugin: the time and memory (RSS) to import the built plugin and create
// an instance, next to a baseline that imports @dynosaur/core only.
//
// Each sample is a fresh node process, since a warm module cache would hide what a `dynosaur`
// process pays at start. Creating an instance checks the key and builds the clients; it sends
// no request (tokens are fetched on the first reading).
//
// Run after building (core and this package): node bench/startup.mjs [--runs N] [--json]
import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const args = process.argv.slice(2);
const runsArg = args.indexOf("--runs");
const RUNS = runsArg >= 0 ? Number(args[runsArg + 1]) : 9;
const JSON_OUTPUT = args.includes("--json");
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error("--runs takes a whole number >= 1");

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const pluginUrl = pathToFileURL(join(packageDir, "dist/index.js")).href;
const key = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" });

// Runs in the child: measures from before the first import to after `create`.
const child = `
const started = performance.now();
const core = await import("@dynosaur/core");
if (process.env.BENCH_MODE === "plugin") {
  const { default: plugin } = await import(process.env.BENCH_PLUGIN_URL);
  const options = plugin.options.parse({
    property_id: 123456789,
    client_email: "bench@example.iam.gserviceaccount.com",
    key: process.env.BENCH_KEY,
    users_per_dyno: 50,
  });
  const noNetwork = { request() { throw new Error("the start-up bench sends no request"); } };
  const instance = await plugin.create(
    { name: "ga", type: "google-analytics", hysteresis_period: 0, outage_after: 300, timeout: 30, ...options },
    { name: "ga", logger: core.silentLogger, http: noNetwork, signal: new AbortController().signal, clock: core.systemClock },
  );
  await instance.close?.();
}
const ms = performance.now() - started;
process.stdout.write(JSON.stringify({ ms, rss: process.memoryUsage().rss }));
`;

function sample(mode) {
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", child], {
    cwd: packageDir, // bare `@dynosaur/core` resolves from the package, as it would for a user
    env: { ...process.env, BENCH_MODE: mode, BENCH_PLUGIN_URL: pluginUrl, BENCH_KEY: key },
    encoding: "utf8",
  });
  return JSON.parse(out);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

function measure(mode) {
  sample(mode); // warm the OS file cache; not counted
  const samples = Array.from({ length: RUNS }, () => sample(mode));
  return {
    ms: median(samples.map((s) => s.ms)),
    msMin: Math.min(...samples.map((s) => s.ms)),
    rssMB: median(samples.map((s) => s.rss)) / 2 ** 20,
  };
}

const baseline = measure("baseline");
const plugin = measure("plugin");
const result = {
  runs: RUNS,
  node: process.version,
  baseline,
  plugin,
  added: { ms: plugin.ms - baseline.ms, rssMB: plugin.rssMB - baseline.rssMB },
};

if (JSON_OUTPUT) {
  console.log(JSON.stringify(result, null, 2));
} else {
  const row = (name, r) =>
    `${name.padEnd(34)}${r.ms.toFixed(1).padStart(10)}${(r.msMin ?? r.ms).toFixed(1).padStart(10)}${r.rssMB.toFixed(1).padStart(12)}`;
  console.log(`@dynosaur/plugin-google-analytics start-up, median of ${RUNS} fresh processes (${process.version})`);
  console.log(`${"".padEnd(34)}${"ms".padStart(10)}${"min ms".padStart(10)}${"RSS MiB".padStart(12)}`);
  console.log(row("baseline: import @dynosaur/core", baseline));
  console.log(row("import plugin + create instance", plugin));
  console.log(
    row("added by the plugin", {
      ms: result.added.ms,
      msMin: plugin.msMin - baseline.msMin,
      rssMB: result.added.rssMB,
    }),
  );
}
