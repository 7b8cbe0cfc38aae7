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
