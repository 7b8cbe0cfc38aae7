import {
  type DynosaurConfig,
  limitsAt,
  nextChange,
  type ProcessConfig,
  redactConfig,
  systemClock,
} from "@dynosaur/core";
import { createHostRuntime } from "@dynosaur/host/runtime";
import { stringify } from "yaml";
import type { CliIO, Setup } from "../setup.js";

/**
 * Validates the config and every plugin's options (creating the sources, which checks
 * e.g. keys, without any network call), then prints what would run, secrets redacted:
 * per process type, the limits in force now and the next change of its schedule.
 */
export async function checkCommand(io: CliIO, setup: Setup): Promise<number> {
  const { config, plugins } = setup;
  const clock = io.clock ?? systemClock;
  const runtime = await createHostRuntime(config, {
    plugins,
    env: io.env,
    redactor: setup.redactor,
    clock,
    // Checking never talks to Heroku, a stats service or the lock's database.
    stats: { report() {} },
    leader: { isLeader: () => false, describe: () => "checking only" },
  });
  const alerts = runtime.describeAlerts();
  const sources = runtime.status().sources;
  await runtime.stop();
  const s = config.scaler;
  const types = Object.keys(config.processes);
  const now = clock.now();
  const lines = [
    `config ${setup.file} is valid`,
    `scales: ${s.dry_run ? `nothing (dry run: formation simulated, ticks appended to ${s.stats_file})` : `${s.heroku_app_name} ${types.join(", ")} via ${s.heroku_api_url}`}`,
    `tick every ${s.interval} s${types.some((t) => config.processes[t]?.schedule.length) ? `; schedules in ${s.timezone}` : ""}`,
    "processes:",
    ...types.flatMap((type) =>
      describeProcess(
        config,
        type,
        config.processes[type] as ProcessConfig,
        now,
        sources.filter((src) => src.process === type).map((src) => src.name),
      ),
    ),
    "sources:",
    ...sources.map((src) => {
      const from = src.package ? `${src.package}${src.version ? `@${src.version}` : ""}` : "?";
      return `  - ${src.name}: ${src.type} from ${from}, every ${src.interval} s${types.length > 1 ? `, drives ${src.process}` : ""}`;
    }),
    `stats: ${config.stats.length ? config.stats.map((r) => r.type).join(", ") : "none"}`,
    `alerts: ${alerts}`,
    "",
    "# the config as it will run (secrets redacted):",
    stringify(redactConfig(config)).trimEnd(),
  ];
  // Plugin-declared secrets (a Redis or database URL) have no secret-looking key name: scrub them by value.
  io.stdout.write(setup.redactor.scrub(`${lines.join("\n")}\n`));
  return 0;
}

/** `web: 2..10 dynos now (...)`, the next schedule change, and the sources that drive it. */
function describeProcess(
  config: DynosaurConfig,
  type: string,
  p: ProcessConfig,
  now: number,
  drivers: string[],
): string[] {
  const zone = config.scaler.timezone;
  const own = { min: p.min_dynos, max: p.max_dynos };
  const limits = limitsAt(own, p.schedule, zone, now);
  const pace = [
    `blackout ${p.blackout} s`,
    `scale-down step ${p.scale_down_step === 0 ? "to the estimate" : p.scale_down_step}`,
  ];
  if (p.hold_while_busy) pace.push("no scale-down while jobs run");
  const lines = [
    `  ${type}: ${limits.min}..${limits.max} dynos now${limits.window === null ? "" : ` (schedule[${limits.window}])`}, ${pace.join(", ")}`,
  ];
  if (p.schedule.length > 0) {
    const next = nextChange(own, p.schedule, zone, now);
    lines.push(
      next
        ? `    next change: ${localTime(next.at, zone)}: ${next.limits.min}..${next.limits.max} dynos${next.limits.window === null ? " (outside every window)" : ` (schedule[${next.limits.window}])`}`
        : "    next change: none within a week",
    );
  }
  // A process type no source drives would only ever sit at its minimum.
  lines.push(`    driven by: ${drivers.length ? drivers.join(", ") : "no source: only its limits move it"}`);
  return lines;
}

/** e.g. `Mon 2026-03-02 15:00 Europe/Helsinki (13:00 UTC)`. */
function localTime(time: number, timeZone: string): string {
  const parts = (zone: string, options: Intl.DateTimeFormatOptions) =>
    Object.fromEntries(
      new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", ...options })
        .formatToParts(time)
        .map((x) => [x.type, x.value]),
    );
  const l = parts(timeZone, {
    weekday: "short",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
  });
  const local = `${l.weekday} ${l.year}-${l.month}-${l.day} ${l.hour}:${l.minute} ${timeZone}`;
  if (timeZone === "UTC") return local;
  const u = parts("UTC", { hour: "2-digit", minute: "2-digit" });
  return `${local} (${u.hour}:${u.minute} UTC)`;
}
