import { writeFile } from "node:fs/promises";
import { extname, resolve } from "node:path";
import {
  backtestJson,
  COMPARE_POLICIES,
  formatBacktest,
  readTrace,
  renderBacktestHtml,
  renderBacktestSvg,
  runBacktest,
} from "@dynosaur/backtest";
import { inputError } from "@dynosaur/core";
import { numberFlag, parseFlags, traceArguments } from "../args.js";
import type { CliIO, Setup } from "../setup.js";
import { compareConclusion } from "./compare-conclusion.js";

export const SIMULATE_USAGE = `Usage:
  dynosaur simulate <config> --trace <file.csv> [options]

Replays a recorded load through the same engine as a live run (sources, hysteresis,
policy, blackout, clamp) on a virtual clock, with the formation simulated: no Heroku
call, no plugin polled, no network. Scores it against an oracle that runs exactly the
dynos each minute needs.

Options:
  --trace <file.csv>    the recorded load: header \`minute,value\` (minute 0, 1, 2, ...)
                        or \`time,value\` (ISO times at a fixed step); required
  --source <name>       the source the \`value\` column feeds (default: the config's first
                        plugin); columns named after sources feed those, and sources
                        without a column are left out of the replay
  --boot-seconds <s>    from a scale-up to the new dynos serving (default: the config's
                        scaler.boot_seconds, 60 unless set); the replayed engine plans
                        with it too; a scale-down takes effect at once
  --tick-seconds <s>    between two engine ticks (default: at each minute's end, or the
                        config's interval if longer); e.g. 5 replays at the engine's pace
  --compare             also replay the anchors side by side: seed (the seed's rule),
                        follow (the last reading), hysteresis (the largest of the last 5
                        readings) and hpa (Kubernetes' HPA), each through the same engine
  --json                print one JSON object instead of the table
  --chart <file>        write a chart: .svg, or .html (overview plus one chart per day)
  -h, --help            this help

Model: each minute's value is read at its end; dynos needed in a minute =
the plugin's estimate of its value, within [min_dynos, max_dynos]; the formation
starts at min_dynos.`;

export interface SimulateOptions {
  trace: string;
  source: string | undefined;
  bootSeconds: number | undefined;
  tickSeconds: number | undefined;
  compare: boolean;
  json: boolean;
  chart: string | undefined;
}

/** Parses `dynosaur simulate ...` (the arguments after `simulate`). */
export function parseSimulateArgs(
  argv: string[],
): { help: true } | { help: false; configPath: string; options: SimulateOptions } {
  const { values, positionals } = parseFlags(argv, FLAGS, "dynosaur simulate --help");
  if (values.help) return { help: true };
  const { configPath, trace } = traceArguments("simulate", "the recorded load to replay", positionals, values, [
    ".svg",
    ".html",
    ".htm",
  ]);
  return {
    help: false,
    configPath,
    options: {
      trace,
      source: values.source,
      bootSeconds: numberFlag(values["boot-seconds"], "--boot-seconds", "a number of seconds >= 0"),
      tickSeconds: numberFlag(values["tick-seconds"], "--tick-seconds", "a number of seconds > 0", false),
      compare: values.compare ?? false,
      json: values.json ?? false,
      chart: values.chart,
    },
  };
}

const FLAGS = {
  trace: { type: "string" },
  source: { type: "string" },
  "boot-seconds": { type: "string" },
  "tick-seconds": { type: "string" },
  compare: { type: "boolean" },
  json: { type: "boolean" },
  chart: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Replays the trace, prints the report (table or JSON) and writes the chart. */
export async function simulateCommand(io: CliIO, setup: Setup, options: SimulateOptions): Promise<number> {
  const trace = await readTrace(resolve(io.cwd, options.trace), options.trace);
  const backtest = await runBacktest({
    config: setup.config,
    plugins: setup.plugins.map((p) => p.plugin),
    trace,
    source: options.source,
    bootSeconds: options.bootSeconds,
    tickSeconds: options.tickSeconds,
    policies: options.compare ? COMPARE_POLICIES : ["configured"],
  });
  if (options.chart) {
    const html = extname(options.chart).toLowerCase() !== ".svg";
    const file = resolve(io.cwd, options.chart);
    try {
      await writeFile(file, html ? renderBacktestHtml(backtest) : renderBacktestSvg(backtest));
    } catch (e) {
      throw inputError(
        "DYNO_USAGE",
        `cannot write the chart to ${options.chart} (${(e as { code?: string }).code ?? String(e)})`,
        { hint: "check that its directory exists and is writable" },
      );
    }
  }
  const context = { config: relativeOrSame(io.cwd, setup.file), chart: options.chart };
  const conclusion = options.json ? null : compareConclusion(backtest);
  const out = options.json
    ? `${JSON.stringify(backtestJson(backtest, context))}\n`
    : `${formatBacktest(backtest, context)}${conclusion ? `\n${conclusion}\n` : ""}`;
  io.stdout.write(setup.redactor.scrub(out));
  return 0;
}

function relativeOrSame(cwd: string, file: string): string {
  const prefix = cwd.endsWith("/") ? cwd : `${cwd}/`;
  return file.startsWith(prefix) ? file.slice(prefix.length) : file;
}
