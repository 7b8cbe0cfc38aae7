import { createRuntime, redactConfig } from "@dynosaur/core";
import { stringify } from "yaml";
import type { CliIO, Setup } from "../setup.js";

/**
 * Validates the config and every plugin's options (creating the sources, which checks
 * e.g. keys, without any network call), then prints what would run, secrets redacted.
 */
export async function checkCommand(io: CliIO, setup: Setup): Promise<number> {
  const { config, plugins } = setup;
  const runtime = await createRuntime(config, {
    plugins,
    env: io.env,
    redactor: setup.redactor,
    // Checking never talks to Heroku, a stats service or the lock's database.
    stats: { report() {} },
    leader: { isLeader: () => false, describe: () => "checking only" },
  });
  const alerts = runtime.describeAlerts();
  await runtime.stop();
  const s = config.scaler;
  const lines = [
    `config ${setup.file} is valid`,
    `scales: ${s.dry_run ? `nothing (dry run: formation simulated, ticks appended to ${s.stats_file})` : `${s.heroku_app_name} ${s.process_type} via ${s.heroku_api_url}`}`,
    `dynos: ${s.min_dynos}..${s.max_dynos}, tick every ${s.interval} s, blackout ${s.blackout} s, scale-down step ${s.scale_down_step === 0 ? "to the estimate" : s.scale_down_step}`,
    "sources:",
    ...runtime.status().sources.map((src) => {
      const from = src.package ? `${src.package}${src.version ? `@${src.version}` : ""}` : "?";
      return `  - ${src.name}: ${src.type} from ${from}, every ${src.interval} s`;
    }),
    `stats: ${config.stats.length ? config.stats.map((r) => r.type).join(", ") : "none"}`,
    `alerts: ${alerts}`,
    "",
    "# the config as it will run (secrets redacted):",
    stringify(redactConfig(config)).trimEnd(),
  ];
  io.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}
