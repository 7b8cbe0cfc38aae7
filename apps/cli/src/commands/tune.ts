import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { formatTune, readTrace, renderTuneSvg, runTune, TUNE_HEADROOMS, tuneJson } from "@dynosaur/backtest";
import { inputError } from "@dynosaur/core";
import { numberFlag, parseFlags, traceArguments } from "../args.js";
import type { CliIO, Setup } from "../setup.js";

export const TUNE_USAGE = `Usage:
  dynosaur tune <config> --trace <file.csv> [options]

Picks scaler.headroom for the forecast policy on your own traffic: replays the trace
through the engine once per headroom (${TUNE_HEADROOMS.join(", ")}) and once per
anchor (seed, hysteresis, hpa), as \`dynosaur simulate\` does (no Heroku call,
no network), prints each one's cost, shortfall and scale events (in all and per
day), the cost/shortfall frontier, and recommends the cheapest headroom whose
shortfall stays within the target, with its cost, shortfall and scale events.

Options:
  --trace <file.csv>        the recorded load (as for simulate); required
  --max-shortfall <percent> the most shortfall accepted, in % of the dyno-minutes
                            needed (default: the seed rule's shortfall on this trace)
  --headrooms <list>        the headrooms to try, comma-separated (e.g. 0,0.1,0.2,0.5)
  --source <name>           the source the \`value\` column feeds (as for simulate)
  --boot-seconds <s>        from a scale-up to the dynos serving (default: the
                            config's scaler.boot_seconds, 60 unless set)
  --json                    print one JSON object instead of the table
  --chart <file.svg>        draw the frontier
  -h, --help                this help`;

export interface TuneCliOptions {
  trace: string;
  source: string | undefined;
  bootSeconds: number | undefined;
  maxShortfall: number | undefined;
  headrooms: number[] | undefined;
  json: boolean;
  chart: string | undefined;
}

const FLAGS = {
  trace: { type: "string" },
  source: { type: "string" },
  "boot-seconds": { type: "string" },
  "max-shortfall": { type: "string" },
  headrooms: { type: "string" },
  json: { type: "boolean" },
  chart: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Parses `dynosaur tune ...` (the arguments after `tune`). */
export function parseTuneArgs(
  argv: string[],
): { help: true } | { help: false; configPath: string; options: TuneCliOptions } {
  const { values, positionals } = parseFlags(argv, FLAGS, "dynosaur tune --help");
  if (values.help) return { help: true };
  const { configPath, trace } = traceArguments("tune", "the recorded load to tune on", positionals, values, [".svg"]);
  return {
    help: false,
    configPath,
    options: {
      trace,
      source: values.source,
      bootSeconds: numberFlag(values["boot-seconds"], "--boot-seconds", "a number of seconds >= 0"),
      maxShortfall: numberFlag(
        values["max-shortfall"]?.replace(/%$/, ""),
        "--max-shortfall",
        "a percentage >= 0, e.g. 2 or 0.5",
      ),
      headrooms:
        values.headrooms === undefined
          ? undefined
          : values.headrooms
              .split(",")
              .map(
                (h) => numberFlag(h, "--headrooms", "a comma-separated list of numbers >= 0, e.g. 0,0.1,0.2") as number,
              ),
      json: values.json ?? false,
      chart: values.chart,
    },
  };
}

/** Sweeps, prints the frontier (table or JSON), writes the chart. */
export async function tuneCommand(io: CliIO, setup: Setup, options: TuneCliOptions): Promise<number> {
  const trace = await readTrace(resolve(io.cwd, options.trace), options.trace);
  const tune = await runTune({
    config: setup.config,
    plugins: setup.plugins.map((p) => p.plugin),
    trace,
    source: options.source,
    bootSeconds: options.bootSeconds,
    maxShortfall: options.maxShortfall,
    headrooms: options.headrooms,
  });
  if (options.chart) {
    try {
      await writeFile(resolve(io.cwd, options.chart), renderTuneSvg(tune));
    } catch (e) {
      throw inputError(
        "DYNO_USAGE",
        `cannot write the chart to ${options.chart} (${(e as { code?: string }).code ?? String(e)})`,
        { hint: "check that its directory exists and is writable" },
      );
    }
  }
  const cwd = io.cwd.endsWith("/") ? io.cwd : `${io.cwd}/`;
  const context = {
    config: setup.file.startsWith(cwd) ? setup.file.slice(cwd.length) : setup.file,
    chart: options.chart,
  };
  const out = options.json ? `${JSON.stringify(tuneJson(tune, context))}\n` : formatTune(tune, context);
  io.stdout.write(setup.redactor.scrub(out));
  return 0;
}
