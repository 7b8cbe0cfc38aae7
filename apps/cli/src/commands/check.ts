import { redactConfig } from "@dynosaur/core";
import { stringify } from "yaml";
import type { CliIO, Setup } from "../setup.js";

/**
 * Validates the config and every plugin's options (creating the sources, which checks
 * e.g. keys, without any network call), then prints what would run, secrets redacted.
 */
export async function checkCommand(io: CliIO, setup: Setup): Promise<number> {
  const { config, plugins } = setup;
  const { createScaler, SimulatedFormation, systemClock } = await import("@dynosaur/core");
  const scaler = await createScaler(config, {
    plugins: plugins.map((p) => p.plugin),
    // Checking never talks to Heroku.
    formation: (s) => new SimulatedFormation(s.min_dynos, systemClock),
  });
  await scaler.stop();
  const s = config.scaler;
  const lines = [
    `config ${setup.file} is valid`,
    `scales: ${s.dry_run ? "nothing (dry run: formation simulated, ticks appended to " + s.stats_file + ")" : `${s.heroku_app_name} ${s.process_type} via ${s.heroku_api_url}`}`,
    `dynos: ${s.min_dynos}..${s.max_dynos}, tick every ${s.interval} s, blackout ${s.blackout} s, scale-down step ${s.scale_down_step === 0 ? "to the estimate" : s.scale_down_step}`,
    "sources:",
    ...config.plugins.map((p) => {
      const loaded = plugins.find((l) => l.plugin.type === p.type || l.plugin.aliases?.includes(p.type));
      const from = loaded ? `${loaded.packageName}${loaded.version ? `@${loaded.version}` : ""}` : "?";
      return `  - ${p.name ?? p.type}: ${loaded?.plugin.type ?? p.type} from ${from}, every ${p.interval ?? 60} s`;
    }),
    `stats: ${config.stats.length ? config.stats.map((r) => r.type).join(", ") : "none"}`,
    `alerts: ${describeAlerts(config, io.env)}`,
    "",
    "# the config as it will run (secrets redacted):",
    stringify(redactConfig(config)).trimEnd(),
  ];
  io.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}

/** Whether alerts would be emailed, and to whom, as the alert sink decides it. */
function describeAlerts(config: Setup["config"], env: CliIO["env"]): string {
  const key = config.alerts?.sendgrid_api_key ?? env.SENDGRID_API_KEY;
  const to = config.alerts?.email ?? env.DYNOSAUR_ADMIN_EMAIL;
  const heartbeat = config.alerts?.heartbeat_url ? "; heartbeat pinged" : "";
  if (key && to) return `emailed to ${Array.isArray(to) ? to.join(", ") : to} through SendGrid${heartbeat}`;
  return `logged only (set SENDGRID_API_KEY and DYNOSAUR_ADMIN_EMAIL to email them)${heartbeat}`;
}
