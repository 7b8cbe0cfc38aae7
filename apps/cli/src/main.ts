import { existsSync } from "node:fs";
import { resolve } from "node:path";
import {
  closest,
  DynosaurError,
  describeError,
  type ErrorCode,
  inputError,
  type LogLevel,
  Redactor,
} from "@dynosaur/core";
import { parseFlags, refuseExtraArguments } from "./args.js";
import { type CliFlags, type CliIO, loadSchemaPlugins, loadSetup, version } from "./setup.js";

export type { CliFlags, CliIO, Setup } from "./setup.js";

const USAGE = `Usage:
  dynosaur <config>            run until SIGTERM/SIGINT (same as: dynosaur run <config>)
  dynosaur check <config>      validate the config and its plugins; print what would run
  dynosaur doctor <config>     read every source and Heroku's formation once (never scaling);
                               print what each answered, or what failed and how to fix it
  dynosaur schema [<config>]   print the config's JSON Schema (with the options of its plugins)
  dynosaur simulate <config> --trace <file.csv>
                               replay a recorded load through the engine and score it
                               (no Heroku, no network; see dynosaur simulate --help)
  dynosaur tune <config> --trace <file.csv>
                               pick scaler.headroom on a recorded load: the cost/shortfall
                               frontier and the cheapest headroom within a shortfall target

Options:
  --once                 run a single tick, then exit
  --ticks <n>            run n ticks, then exit
  --dry-run              decide, but never talk to Heroku (formation simulated in memory)
  --log-format text|json one human line per tick (default), or one JSON object per line
  --log-level debug|info|warn|error   (default info)
  --timeout <s>          doctor: seconds each check may take (default 10)
  -h, --help             this help
  -v, --version          print the version

Environment: DATABASE_URL (optional) makes Dynosaurs of one app and process type share a
PostgreSQL advisory lock, so only one of them scales.

Exit codes: 0 clean stop, 1 unrecoverable failure, 2 bad input (config, plugins, environment).`;

export async function main(io: CliIO): Promise<number> {
  // Secrets are only known once the config is read; errors before that carry none.
  let redactor = new Redactor();
  try {
    // Each command's module is imported only when it runs: `run` is what starts on every dyno
    // boot, and simulate/tune bring the backtest package with them.
    if (io.argv[0] === "simulate") {
      const { parseSimulateArgs, SIMULATE_USAGE, simulateCommand } = await import("./commands/simulate.js");
      // Its own flags (--trace, --compare, ...): parsed apart from the run flags.
      const args = parseSimulateArgs(io.argv.slice(1));
      if (args.help) {
        io.stdout.write(`${SIMULATE_USAGE}\n`);
        return 0;
      }
      // A replay sends no stats: a reporter package need not be installed.
      const setup = await loadSetup(args.configPath, io, { dryRun: true, reporters: false });
      redactor = setup.redactor;
      return await simulateCommand(io, setup, args.options);
    }
    if (io.argv[0] === "tune") {
      const { parseTuneArgs, TUNE_USAGE, tuneCommand } = await import("./commands/tune.js");
      const args = parseTuneArgs(io.argv.slice(1));
      if (args.help) {
        io.stdout.write(`${TUNE_USAGE}\n`);
        return 0;
      }
      const setup = await loadSetup(args.configPath, io, { dryRun: true, reporters: false });
      redactor = setup.redactor;
      return await tuneCommand(io, setup, args.options);
    }
    const { command, configPath, flags } = parseCommandLine(io.argv, io.cwd);
    if (command === "help") {
      io.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (command === "version") {
      io.stdout.write(`${version()}\n`);
      return 0;
    }
    if (command === "schema") {
      // The schema only needs the config's plugins: not its secrets, Heroku's settings nor its reporters.
      const plugins = configPath ? await loadSchemaPlugins(configPath, io) : [];
      return (await import("./commands/schema.js")).schemaCommand(io, plugins);
    }
    if (!configPath)
      throw inputError("DYNO_USAGE", `\`dynosaur ${command === "run" ? "" : `${command} `}\` needs a config file`, {
        hint: "e.g. dynosaur examples/dry-run.yaml (see --help)",
      });
    // Doctor sends no stats: a reporter package need not be installed to check the connections.
    const setup = await loadSetup(configPath, io, { ...flags, reporters: command !== "doctor" });
    redactor = setup.redactor;
    if (command === "check") return await (await import("./commands/check.js")).checkCommand(io, setup);
    if (command === "doctor") {
      const [{ doctorCommand }, { DOCTOR_TIMEOUT_S }] = await Promise.all([
        import("./commands/doctor.js"),
        import("./doctor.js"),
      ]);
      return await doctorCommand(io, setup, flags.timeout ?? DOCTOR_TIMEOUT_S);
    }
    return await (await import("./commands/run.js")).runCommand(io, setup, flags);
  } catch (e) {
    io.stderr.write(`${redactor.scrub(formatError(e))}\n`);
    return e instanceof DynosaurError ? e.exitCode : 1;
  }
}

/** What only the CLI can add to core's hint: its own commands, flags and example files. */
const CLI_TIPS: Partial<Record<ErrorCode, string>> = {
  DYNO_CONFIG_INVALID: "`dynosaur schema` prints every key",
  DYNO_CONFIG_EMPTY: "start from examples/dry-run.yaml",
  DYNO_CONFIG_NOT_FOUND: "e.g. `dynosaur examples/dry-run.yaml`",
  DYNO_USAGE: "see dynosaur --help",
};

function formatError(e: unknown): string {
  if (e instanceof DynosaurError) {
    const tip = CLI_TIPS[e.code];
    return `error ${e.format()}${tip ? `\n  ${tip}` : ""}`;
  }
  return `error: unexpected failure: ${describeError(e)}${e instanceof Error && e.stack ? `\n${e.stack}` : ""}`;
}

/** Every command, for the "did you mean" of a mistyped one. */
const COMMANDS = ["run", "check", "doctor", "schema", "simulate", "tune"];

function parseCommandLine(
  argv: string[],
  cwd: string,
): {
  command: string;
  configPath: string | undefined;
  flags: CliFlags & { timeout: number | null };
} {
  const { values, positionals } = parseFlags(argv, FLAGS, "dynosaur --help");
  if (values.help) return { command: "help", configPath: undefined, flags: defaultFlags() };
  if (values.version) return { command: "version", configPath: undefined, flags: defaultFlags() };
  let [command, configPath, ...rest] = positionals;
  if (command === undefined)
    throw inputError("DYNO_USAGE", "no config file given", {
      hint: "e.g. dynosaur examples/dry-run.yaml (see --help)",
    });
  if (!["run", "check", "schema", "doctor"].includes(command)) {
    // `dynosaur chek x.yaml`: a typo of a command, not a config file, is said to be one.
    const near = closest(command, COMMANDS);
    if (near && !existsSync(resolve(cwd, command)))
      throw inputError("DYNO_USAGE", `unknown command ${command} (did you mean ${near}?)`, {
        hint: `e.g. dynosaur ${near}${configPath === undefined ? "" : ` ${configPath}`}; the commands are ${COMMANDS.join(", ")}`,
      });
    rest = configPath === undefined ? [] : [configPath, ...rest];
    configPath = command;
    command = "run";
  }
  refuseExtraArguments(rest, "dynosaur --help");
  const format = values["log-format"] ?? "text";
  if (format !== "text" && format !== "json")
    throw inputError("DYNO_USAGE", `--log-format must be text or json, not "${format}"`);
  const level = values["log-level"] ?? "info";
  if (!["debug", "info", "warn", "error"].includes(level))
    throw inputError("DYNO_USAGE", `--log-level must be debug, info, warn or error, not "${level}"`);
  let ticks: number | null = null;
  if (values.ticks !== undefined) {
    ticks = Number(values.ticks);
    if (!Number.isInteger(ticks) || ticks < 1)
      throw inputError("DYNO_USAGE", `--ticks must be a whole number >= 1, not "${values.ticks}"`);
  }
  let timeout: number | null = null;
  if (values.timeout !== undefined) {
    if (command !== "doctor")
      throw inputError("DYNO_USAGE", "--timeout applies to `dynosaur doctor` only", {
        hint: "a source's `timeout` and `scaler.heroku_timeout` set a run's timeouts",
      });
    timeout = Number(values.timeout);
    if (!Number.isFinite(timeout) || timeout <= 0)
      throw inputError("DYNO_USAGE", `--timeout must be a number of seconds > 0, not "${values.timeout}"`, {
        hint: "e.g. dynosaur doctor config.yaml --timeout 5",
      });
  }
  return {
    command,
    configPath,
    flags: {
      once: values.once ?? false,
      ticks,
      dryRun: values["dry-run"] ?? false,
      logFormat: format,
      logLevel: level as LogLevel,
      timeout,
    },
  };
}

const FLAGS = {
  once: { type: "boolean" },
  ticks: { type: "string" },
  "dry-run": { type: "boolean" },
  "log-format": { type: "string" },
  "log-level": { type: "string" },
  timeout: { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "v" },
} as const;

function defaultFlags(): CliFlags & { timeout: null } {
  return { once: false, ticks: null, dryRun: false, logFormat: "text", logLevel: "info", timeout: null };
}
