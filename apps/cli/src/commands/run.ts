import { relative } from "node:path";
// The subpath, not the package entry: a run loads the Heroku client and the locks only when it uses them.
import { createHostRuntime } from "@dynosaur/host/runtime";
import { createCliLogger } from "../log-writer.js";
import type { CliFlags, CliIO, Setup } from "../setup.js";
import { version } from "../setup.js";

/** On SIGTERM/SIGINT: finish the tick, flush, exit. Heroku kills a dyno 30 s after SIGTERM. */
const STOP_GRACE_MS = 8_000;

export async function runCommand(io: CliIO, setup: Setup, flags: CliFlags): Promise<number> {
  const { config, redactor } = setup;
  const settings = config.scaler;
  const logger = createCliLogger({
    format: flags.logFormat,
    level: flags.logLevel,
    redactor,
    write: (line) => io.stdout.write(`${line}\n`),
  });

  let ticks = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const limit = flags.once ? 1 : flags.ticks;
  const runtime = await createHostRuntime(config, {
    plugins: setup.plugins,
    env: io.env,
    cwd: io.cwd,
    logger,
    redactor,
    loadReporter: setup.loadReporter,
    userAgent: `dynosaur-cli/${version()}`,
    onTick: () => {
      ticks++;
      if (limit !== null && ticks >= limit) done();
    },
  });

  const app = settings.heroku_app_name ?? "dry-run";
  const sources = [...new Set(setup.plugins.map((p) => `${p.packageName}${p.version ? `@${p.version}` : ""}`))].join(
    ", ",
  );
  logger.info(
    `dynosaur ${version()} scaling ${settings.dry_run ? "(dry run) " : ""}${app} ${Object.entries(config.processes)
      .map(([type, p]) => `${type} ${p.min_dynos}..${p.max_dynos}`)
      .join(", ")} dynos every ${settings.interval} s; sources: ${sources}`,
    { event: "start" },
  );
  let signalled: string | null = null;
  const onSignal = (name: string) => () => {
    signalled = name;
    logger.info(`${name} received: finishing the tick and stopping`, { event: "stop" });
    done();
  };
  const onTerm = onSignal("SIGTERM");
  const onInt = onSignal("SIGINT");
  io.signals?.once("SIGTERM", onTerm);
  io.signals?.once("SIGINT", onInt);

  runtime.start();
  await finished;
  await runtime.stop({ graceMs: STOP_GRACE_MS });
  io.signals?.off?.("SIGTERM", onTerm);
  io.signals?.off?.("SIGINT", onInt);
  logger.info(`stopped after ${ticks} tick${ticks === 1 ? "" : "s"}${signalled ? ` (${signalled})` : ""}`, {
    event: "stopped",
    ticks,
    rss_bytes: process.memoryUsage.rss(),
    max_rss_bytes: process.resourceUsage().maxRSS * 1024,
  });

  if (signalled !== null) return 0;
  // A run that never reached Heroku has failed, whatever else happened.
  const unreached = runtime.lastReports.some((r) => r.before === null);
  if (!settings.dry_run && unreached) return 1;
  // --once and --ticks are how a config is tried out: with no reading from any source, it did not work.
  if (limit !== null && runtime.status().sources.every((s) => s.lastRetrieval === null)) {
    logger.error(
      `no source gave a reading in ${ticks} tick${ticks === 1 ? "" : "s"} (see the failures above); \`dynosaur doctor ${relative(io.cwd, setup.file) || setup.file}\` checks each source and Heroku`,
      {
        event: "no-readings",
      },
    );
    return 1;
  }
  return 0;
}
