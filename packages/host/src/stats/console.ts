import type { Logger, StatsReporter, TickReport } from "@dynosaur/core";

export interface ConsoleReporterOptions {
  /** `log`: through the logger at info level; `stdout`: a plain line on `write`. @default "log" */
  output?: "log" | "stdout";
}

/** One line per tick: the combined estimate, the dynos asked for, and each source's figures. */
export function createConsoleReporter(
  options: ConsoleReporterOptions,
  deps: { logger: Logger; write?: (line: string) => void; name?: string },
): StatsReporter {
  const write = deps.write ?? ((line: string) => process.stdout.write(line));
  return {
    name: deps.name ?? "console",
    async report(tick) {
      const line = statsLine(tick);
      if ((options.output ?? "log") === "stdout") write(`${new Date(tick.time).toISOString()} ${line}\n`);
      else deps.logger.info(line, statsFields(tick));
    },
  };
}

/** e.g. `my-app web: estimate 5, actual 4 -> 5 (scale up), winner ga | ga 312 active users -> 5 ok | nr 40 rpm -> 3 stale` */
export function statsLine(tick: TickReport): string {
  const fig = (v: number | null) => (v === null ? "-" : String(v));
  const head = `${tick.app} ${tick.processType}${tick.dryRun ? " (dry run)" : ""}: estimate ${fig(tick.estimate)}, actual ${fig(tick.before)} -> ${fig(tick.after)} (${tick.reason}), winner ${tick.winner ?? "-"}`;
  const sources = tick.sources.map((s) => `${s.name} ${fig(s.value)} ${s.unit} -> ${fig(s.estimate)} ${s.health}`);
  return [head, ...sources].join(" | ");
}

function statsFields(tick: TickReport): Record<string, unknown> {
  return {
    app: tick.app,
    estimate: tick.estimate,
    before: tick.before,
    after: tick.after,
    winner: tick.winner,
    sources: Object.fromEntries(
      tick.sources.map((s) => [s.name, { value: s.value, estimate: s.estimate, health: s.health }]),
    ),
  };
}
