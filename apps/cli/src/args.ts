import { extname } from "node:path";
import { type ParseArgsOptionsConfig, parseArgs } from "node:util";
import { inputError } from "@dynosaur/core";

/**
 * Parses a command's flags strictly; an unknown or malformed flag is a usage error (exit 2)
 * pointing at `help`, e.g. "dynosaur --help".
 */
export function parseFlags<const O extends ParseArgsOptionsConfig>(argv: string[], options: O, help: string) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw inputError("DYNO_USAGE", (e as Error).message, { hint: `see ${help}` });
  }
}

/** Refuses positional arguments left over once a command took what it needs. */
export function refuseExtraArguments(rest: readonly string[], help: string): void {
  if (rest.length)
    throw inputError("DYNO_USAGE", `unexpected argument${rest.length > 1 ? "s" : ""}: ${rest.join(" ")}`, {
      hint: `see ${help}`,
    });
}

/**
 * What `simulate` and `tune` take alike: a config file, `--trace <file.csv>` (required), and a
 * `--chart` file of one of `charts`' extensions. The command reads its other flags itself.
 */
export function traceArguments(
  command: "simulate" | "tune",
  purpose: string,
  positionals: readonly string[],
  values: { trace?: string; chart?: string },
  charts: readonly string[],
): { configPath: string; trace: string } {
  const help = `dynosaur ${command} --help`;
  const [configPath, ...rest] = positionals;
  if (configPath === undefined)
    throw inputError("DYNO_USAGE", `\`dynosaur ${command}\` needs a config file`, {
      hint: `e.g. dynosaur ${command} examples/backtest.yaml --trace examples/traces/aws-elb-requests.csv`,
    });
  refuseExtraArguments(rest, help);
  if (values.trace === undefined)
    throw inputError("DYNO_USAGE", `\`dynosaur ${command}\` needs --trace <file.csv>: ${purpose}`, {
      hint: "e.g. --trace examples/traces/aws-elb-requests.csv (see dynosaur simulate --help for the format)",
    });
  if (values.chart !== undefined && !charts.includes(extname(values.chart).toLowerCase()))
    throw inputError("DYNO_USAGE", `--chart ${values.chart}: the file must end in ${charts.slice(0, 2).join(" or ")}`);
  return { configPath, trace: values.trace };
}

/** A number flag, at least 0 (above 0 unless `zeroOk`); a usage error saying `what` it must be. */
export function numberFlag(text: string | undefined, flag: string, what: string, zeroOk = true): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n < 0 || (!zeroOk && n === 0))
    throw inputError("DYNO_USAGE", `${flag} must be ${what}, not "${text}"`);
  return n;
}
