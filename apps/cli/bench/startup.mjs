// Benchmarks the dynosaur CLI as a user runs it (built dist, a fresh process each run):
//  - start to first decision: from spawn to the first tick line on stdout (ms)
//  - resident memory (RSS) after 100 ticks with the random plugin, in a dry run
// Usage: node bench/startup.mjs [--runs N] [--json]
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { runs: { type: "string", default: "9" }, json: { type: "boolean", default: false } } });
const runs = Number(values.runs);
const bin = fileURLToPath(new URL("../dist/bin.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "dynosaur-bench-"));
// The config lives in the repo's examples/ so plugins resolve as in the Quick start.
const examples = fileURLToPath(new URL("../../../examples/", import.meta.url));
const config = join(examples, ".bench-config.yaml");
writeFileSync(config, "use: [random]\nscaler: {dry_run: true, interval: 0.01, blackout: 0, stats_file: " + JSON.stringify(join(dir, "stats.txt")) + "}\nplugins: [{type: random, seed: 1, interval: 0.01}]\n");

function run(args) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [bin, config, "--log-format", "json", ...args], { stdio: ["ignore", "pipe", "inherit"] });
    let firstDecision = null;
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      if (firstDecision === null && out.includes('"event":"tick"')) firstDecision = Number(process.hrtime.bigint() - started) / 1e6;
    });
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`dynosaur exited ${code}`));
      const stopped = out.split("\n").filter(Boolean).map((l) => JSON.parse(l)).find((l) => l.event === "stopped");
      resolve({ firstDecision, rss: stopped?.rss_bytes ?? null, ticks: stopped?.ticks ?? null });
    });
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const starts = [];
const rss = [];
for (let i = 0; i < runs; i++) starts.push((await run(["--once"])).firstDecision);
for (let i = 0; i < Math.max(3, Math.floor(runs / 3)); i++) {
  const r = await run(["--ticks", "100"]);
  if (r.ticks !== 100) throw new Error(`expected 100 ticks, got ${r.ticks}`);
  rss.push(r.rss);
}
const result = {
  start_to_first_decision_ms: { median: Math.round(median(starts)), min: Math.round(Math.min(...starts)), max: Math.round(Math.max(...starts)), runs },
  rss_after_100_ticks_mib: { median: +(median(rss) / 2 ** 20).toFixed(1), runs: rss.length },
};
if (values.json) console.log(JSON.stringify(result));
else {
  console.log(`CLI start to first decision: median ${result.start_to_first_decision_ms.median} ms (min ${result.start_to_first_decision_ms.min}, max ${result.start_to_first_decision_ms.max}, ${runs} runs)`);
  console.log(`RSS after 100 ticks (random plugin, dry run): median ${result.rss_after_100_ticks_mib.median} MiB (${rss.length} runs)`);
}
