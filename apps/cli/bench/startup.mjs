// Benchmarks the dynosaur CLI as a user runs it (built dist, a fresh process each run):
//  - start to first decision: from spawn to the first tick line on stdout (ms), next to a bare
//    `node -e 0` measured the same way in the same run (what no code of ours can go below)
//  - resident memory: peak RSS over 100 dry-run ticks with the random plugin, and with all three
//    first-party metric plugins loaded (random, New Relic, Google Analytics)
//  - the libraries' floor, measured the same way: a process that only loads what Dynosaur cannot
//    start without (zod and yaml, bundled as the CLI bundles them, with the compile cache on), and
//    for memory also undici and Google's client libraries. No code of ours runs in it, so the gap
//    between a figure and its floor is what our code costs.
// Usage: node bench/startup.mjs [--runs N] [--json]
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: { runs: { type: "string", default: "9" }, json: { type: "boolean", default: false } },
});
const runs = Number(values.runs);
const bin = fileURLToPath(new URL("../dist/bin.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "dynosaur-bench-"));
// The config lives in the repo's examples/ so plugins resolve as in the Quick start.
const examples = fileURLToPath(new URL("../../../examples/", import.meta.url));
const config = join(examples, ".bench-config.yaml");
writeFileSync(
  config,
  "use: [random]\nscaler: {dry_run: true, interval: 0.01, blackout: 0, stats_file: " +
    JSON.stringify(join(dir, "stats.txt")) +
    "}\nplugins: [{type: random, seed: 1, interval: 0.01}]\n",
);
// All three plugins loaded, created and polled on the first tick, as a real start does; New Relic's
// endpoint and Google's token URL are a closed loopback port, so no request leaves the machine
// (each fails fast and is logged; their HTTP stacks are loaded all the same).
const allConfig = join(examples, ".bench-config-all.yaml");
writeFileSync(
  allConfig,
  `use: [random, newrelic, google-analytics]
scaler: {dry_run: true, interval: 0.01, blackout: 0, stats_file: ${JSON.stringify(join(dir, "stats-all.txt"))}}
plugins:
  - {type: random, seed: 1, interval: 0.01}
  - {type: newrelic, api_key: NRAK-bench, account_id: 1, app_name: bench, rpm_per_dyno: 100, interval: 3600, endpoint: "http://127.0.0.1:9/graphql"}
  - {type: google-analytics, property_id: "1", key_file: ${JSON.stringify(join(dir, "key.json"))}, users_per_dyno: 50, interval: 3600, token_url: "http://127.0.0.1:9/token"}
`,
);
const { generateKeyPairSync } = await import("node:crypto");
const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
writeFileSync(
  join(dir, "key.json"),
  JSON.stringify({
    type: "service_account",
    client_email: "bench@example.iam.gserviceaccount.com",
    private_key: privateKey.export({ type: "pkcs8", format: "pem" }),
  }),
);

/** Milliseconds from spawn to exit of `node <args>` (bare: `node -e 0`). */
function bareNode(args = ["-e", "0"]) {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    spawn(process.execPath, args, { stdio: "ignore" }).on("close", () =>
      resolve(Number(process.hrtime.bigint() - started) / 1e6),
    );
  });
}

// The floor: zod and yaml in one bundle, as bin.js gets them (zod's translations left out, as
// bundle.mjs leaves them out), validating one parsed document.
const { build } = await import("esbuild");
const cliDir = fileURLToPath(new URL("..", import.meta.url));
const floorBundle = join(dir, "floor-libraries.js");
// As in the CLI's dist: an ES module by its package.json, so Node need not sniff its syntax.
writeFileSync(join(dir, "package.json"), '{ "type": "module" }\n');
await build({
  stdin: {
    contents:
      'import { z } from "zod"; import { parse } from "yaml"; z.object({ a: z.number() }).parse(parse("a: 1"));',
    resolveDir: cliDir,
  },
  bundle: true,
  format: "esm",
  platform: "node",
  outfile: floorBundle,
  minifyWhitespace: true,
  minifySyntax: true,
  banner: { js: 'import { createRequire } from "node:module"; const require = createRequire(import.meta.url);' },
  logLevel: "warning",
  plugins: [
    {
      name: "zod-english-only",
      setup(b) {
        b.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, ({ path }) => ({
          contents: 'export { default as en } from "./en.js";',
          loader: "js",
          resolveDir: path.replace(/[\\/][^\\/]*$/, ""),
        }));
      },
    },
  ],
});
const floorStart = join(dir, "floor-start.mjs");
writeFileSync(
  floorStart,
  `import { enableCompileCache } from "node:module";\nenableCompileCache();\nawait import(${JSON.stringify(floorBundle)});\n`,
);
// Memory: the same, then undici with one request (New Relic's and Google's calls go through it)
// and Google's client libraries, resolved where their plugins resolve them.
const resolveFrom = (pkg, name) =>
  createRequire(fileURLToPath(new URL(`../../../packages/${pkg}/package.json`, import.meta.url))).resolve(name);
const floorMemory = join(dir, "floor-memory.mjs");
writeFileSync(
  floorMemory,
  `import { enableCompileCache } from "node:module";
enableCompileCache();
await import(${JSON.stringify(floorBundle)});
const { request } = await import(${JSON.stringify(resolveFrom("core", "undici"))});
await request("http://127.0.0.1:9/").catch(() => {});
await import(${JSON.stringify(resolveFrom("plugin-google-analytics", "@googleapis/analyticsdata"))});
await import(${JSON.stringify(resolveFrom("plugin-google-analytics", "google-auth-library"))});
process.stdout.write(String(process.resourceUsage().maxRSS * 1024));
`,
);
/** Peak RSS (bytes) of a process that only loads the libraries (floor-memory.mjs). */
function floorRss() {
  return new Promise((resolve, reject) => {
    let out = "";
    const child = spawn(process.execPath, [floorMemory], { stdio: ["ignore", "pipe", "inherit"] });
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.on("close", (code) => (code === 0 ? resolve(Number(out)) : reject(new Error(`floor exited ${code}`))));
  });
}

function run(args, file = config) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [bin, file, "--log-format", "json", ...args], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let firstDecision = null;
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      if (firstDecision === null && out.includes('"event":"tick"'))
        firstDecision = Number(process.hrtime.bigint() - started) / 1e6;
    });
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`dynosaur exited ${code}`));
      const stopped = out
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l))
        .find((l) => l.event === "stopped");
      resolve({
        firstDecision,
        rss: stopped?.max_rss_bytes ?? stopped?.rss_bytes ?? null,
        ticks: stopped?.ticks ?? null,
      });
    });
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const starts = [];
const bare = [];
const floor = [];
const floorMem = [];
const rss = [];
const rssAll = [];
// One warm-up of each, so Node's compile cache holds the CLI (as after a user's first run).
await run(["--once"]);
await run(["--once"], allConfig);
await bareNode([floorStart]);
for (let i = 0; i < runs; i++) {
  bare.push(await bareNode());
  floor.push(await bareNode([floorStart]));
  starts.push((await run(["--once"])).firstDecision);
}
for (let i = 0; i < Math.max(3, Math.floor(runs / 3)); i++) {
  for (const [file, into] of [
    [config, rss],
    [allConfig, rssAll],
  ]) {
    const r = await run(["--ticks", "100"], file);
    if (r.ticks !== 100) throw new Error(`expected 100 ticks, got ${r.ticks}`);
    into.push(r.rss);
  }
  floorMem.push(await floorRss());
}
const stats = (xs) => ({
  median: Math.round(median(xs)),
  min: Math.round(Math.min(...xs)),
  max: Math.round(Math.max(...xs)),
  runs: xs.length,
});
const mib = (xs) => ({ median: +(median(xs) / 2 ** 20).toFixed(1), runs: xs.length });
const result = {
  start_to_first_decision_ms: stats(starts),
  bare_node_ms: stats(bare),
  floor_node_zod_yaml_ms: stats(floor),
  peak_rss_random_mib: mib(rss),
  peak_rss_all_plugins_mib: mib(rssAll),
  floor_rss_libraries_mib: mib(floorMem),
};
if (values.json) console.log(JSON.stringify(result));
else {
  const s = result.start_to_first_decision_ms;
  console.log(
    `CLI start to first decision: median ${s.median} ms (min ${s.min}, max ${s.max}, ${runs} runs); bare node -e 0: median ${result.bare_node_ms.median} ms; floor (node + zod + yaml, no code of ours): median ${result.floor_node_zod_yaml_ms.median} ms`,
  );
  console.log(
    `peak RSS over 100 ticks (dry run): random plugin ${result.peak_rss_random_mib.median} MiB; all three plugins loaded ${result.peak_rss_all_plugins_mib.median} MiB (${rss.length} runs each); floor (node + zod + yaml + undici + Google's libraries, no code of ours): ${result.floor_rss_libraries_mib.median} MiB`,
  );
}
rmSync(config, { force: true });
rmSync(allConfig, { force: true });
rmSync(dir, { recursive: true, force: true });
