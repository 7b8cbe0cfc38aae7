import { relative } from "node:path";
import { formatDoctorReport, runDoctor } from "../doctor.js";
import type { CliIO, Setup } from "../setup.js";
import { version } from "../setup.js";

/**
 * Reads every source and Heroku's formation once (never scaling), prints what each
 * answered or what failed and how to fix it. Exit 0 when every check passed, else 1.
 */
export async function doctorCommand(io: CliIO, setup: Setup, timeout: number): Promise<number> {
  const { config } = setup;
  const app = config.scaler.dry_run ? "a dry run" : `app ${config.scaler.heroku_app_name}`;
  io.stdout.write(`checking ${relative(io.cwd, setup.file) || setup.file} (${app}), each check within ${timeout} s\n`);
  const report = await runDoctor(config, {
    plugins: setup.plugins,
    env: io.env,
    redactor: setup.redactor,
    timeout,
    userAgent: `dynosaur-cli/${version()}`,
  });
  io.stdout.write(`${setup.redactor.scrub(formatDoctorReport(report))}\n`);
  return report.ok ? 0 : 1;
}
