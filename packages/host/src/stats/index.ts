import {
  type ChannelDeps,
  createExternalReporter,
  type ReporterLoader,
  type StatsReporter,
  type StatsReporterConfigInput,
} from "@dynosaur/core";
import { createConsoleReporter } from "./console.js";
import { createFileReporter } from "./file.js";
import { createLibratoReporter } from "./librato.js";

export { createConsoleReporter, statsLine } from "./console.js";
export { createStatsDispatcher, type StatsDispatcher } from "./dispatcher.js";
export { createFileReporter, type FileReporterOptions } from "./file.js";
export { createLibratoReporter, libratoGauges } from "./librato.js";

export interface StatsDeps extends ChannelDeps {
  /**
   * Loads the reporter package of a type in `REPORTER_PACKAGES` (`otlp`); `path` is the
   * entry's `stats[i].type`, for errors. Without it, such an entry fails with the package to
   * install. The CLI looks the package up as it does plugins.
   */
  loadReporter?: ReporterLoader;
  /** Names of the config's sources: a CSV file gets all their columns from its first row. */
  sources?: readonly string[];
}

/**
 * Builds the reporters of `stats:` (entries already validated by `statsConfigSchema`, or
 * their input form). Types of `REPORTER_PACKAGES` come from their package, through
 * `deps.loadReporter`, only when an entry names them.
 */
export async function createStatsReporters(
  configs: readonly StatsReporterConfigInput[],
  deps: StatsDeps,
): Promise<StatsReporter[]> {
  const types = configs.map((c) => c.type);
  // Two reporters of one type need names that tell their log lines apart.
  const nameOf = (type: string, index: number) =>
    types.filter((t) => t === type).length > 1 ? `${type}[${index}]` : type;
  const reporters: StatsReporter[] = [];
  for (const [index, config] of configs.entries()) {
    const name = nameOf(config.type, index);
    const logger = deps.logger.child({ reporter: name });
    switch (config.type) {
      case "librato":
        logger.warn("Librato (AppOptics) reached end of service in January 2026; its API may refuse these figures", {
          hint: "use the otlp reporter (OpenTelemetry) instead: https://opentelemetry.io/docs/collector/",
        });
        reporters.push(
          createLibratoReporter(
            {
              email: config.email,
              apiKey: config.api_key,
              endpoint: config.endpoint,
              timeoutMs: (config.timeout ?? 10) * 1000,
            },
            { app: deps.app, http: deps.http, name },
          ),
        );
        break;
      case "otlp":
        reporters.push(
          await createExternalReporter(config, index, deps.loadReporter, {
            app: deps.app,
            name,
            logger,
            http: deps.http,
            env: deps.env,
            clock: deps.clock,
          }),
        );
        break;
      case "console":
        reporters.push(createConsoleReporter(config, { logger, name }));
        break;
      case "file":
        reporters.push({ ...createFileReporter({ path: config.path ?? "stats.csv", sources: deps.sources }), name });
        break;
      default: {
        const unknown: never = config;
        throw new Error(`unknown stats reporter type ${JSON.stringify((unknown as { type: unknown }).type)}`);
      }
    }
  }
  return reporters;
}
