import {
  createAlertSink,
  createFileReporter,
  createScaler,
  createStatsDispatcher,
  createStatsReporters,
  HerokuClient,
  type Scaler,
  systemClock,
} from "@dynosaur/core";
import { resolve } from "node:path";
import { createHttp } from "../http.js";
import { type LeaderLock, startLeaderLock, watchForeignChanges } from "../leader.js";
import { createCliLogger } from "../log-writer.js";
import type { CliFlags, CliIO, Setup } from "../setup.js";
import { version } from "../setup.js";

/** On SIGTERM/SIGINT: finish the tick, flush, exit. Heroku kills a dyno 30 s after SIGTERM. */
const STOP_GRACE_MS = 8_000;

export async function runCommand(io: CliIO, setup: Setup, flags: CliFlags): Promise<number> {
  const { config, redactor } = setup;
  const settings = config.scaler;
  const logger = createCliLogger({ format: flags.logFormat, level: flags.logLevel, redactor, write: (line) => io.stdout.write(`${line}\n`) });
  const http = createHttp(io.env);
  const clock = systemClock;
  const app = settings.heroku_app_name ?? "dry-run";

  const reporters = await createStatsReporters(config.stats, { app, logger, http, env: io.env, clock, loadReporter: setup.loadReporter });
  // A dry run always keeps its decisions in the stats file, as the seed's stats.txt did.
  if (settings.dry_run) reporters.push(createFileReporter({ path: resolve(io.cwd, settings.stats_file) }));
  const stats = createStatsDispatcher(reporters, { logger });
  const alerts = createAlertSink(config.alerts, { app, logger, http, env: io.env, clock });

  let ticks = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const limit = flags.once ? 1 : flags.ticks;

  // Two Dynosaurs for one app and process type: with a shared database only the lock holder scales.
  let leader: LeaderLock | undefined;
  const databaseUrl = io.env.DATABASE_URL;
  if (!settings.dry_run && databaseUrl) {
    redactor.add(databaseUrl);
    redactor.add(safePassword(databaseUrl));
    leader = await startLeaderLock({ databaseUrl, app, processType: settings.process_type, logger, instance: io.env.DYNO });
  }

  let scaler: Scaler;
  try {
    scaler = await createScaler(config, {
      plugins: setup.plugins.map((p) => p.plugin),
      clock,
      http,
      logger,
      stats,
      alerts,
      leader,
      formation: (s) =>
        watchForeignChanges(
          new HerokuClient({
            app: s.heroku_app_name!,
            apiKey: s.heroku_api_key!,
            processType: s.process_type,
            baseUrl: s.heroku_api_url,
            dispatcher: http,
            timeoutMs: s.heroku_timeout * 1000,
            clock,
            userAgent: `dynosaur-cli/${version()}`,
          }),
          { app: s.heroku_app_name!, processType: s.process_type, logger, clock, expectsToLead: () => leader?.isLeader() ?? true },
        ),
      onTick: () => {
        ticks++;
        if (limit !== null && ticks >= limit) done();
      },
    });
  } catch (e) {
    await Promise.allSettled([stats.close(), alerts.close(), http.close(), leader?.stop()]);
    throw e;
  }

  logger.info(
    `dynosaur ${version()} scaling ${settings.dry_run ? "(dry run) " : ""}${app} ${settings.process_type} between ${settings.min_dynos} and ${settings.max_dynos} dynos every ${settings.interval} s; sources: ${setup.plugins.map((p) => `${p.packageName}${p.version ? `@${p.version}` : ""}`).join(", ")}`,
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

  scaler.start();
  await finished;
  await scaler.stop({ graceMs: STOP_GRACE_MS });
  // Only after the last tick: a standby takes over as soon as the lock is free.
  await leader?.stop();
  io.signals?.off?.("SIGTERM", onTerm);
  io.signals?.off?.("SIGINT", onInt);
  await http.close().catch(() => {});
  logger.info(`stopped after ${ticks} tick${ticks === 1 ? "" : "s"}${signalled ? ` (${signalled})` : ""}`, { event: "stopped", ticks, rss_bytes: process.memoryUsage.rss() });

  // A run that never reached Heroku has failed, whatever else happened.
  const last = scaler.lastReport;
  if (!settings.dry_run && last && last.before === null && signalled === null) return 1;
  return 0;
}

function safePassword(url: string): string | undefined {
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}
