import { defineReporter, otlpStatsSchema } from "@dynosaur/core";
import { createOtlpReporter } from "./otlp.js";

export {
  createOtlpReporter,
  type OtlpReporterOptions,
  type OtlpTarget,
  parseKeyValueList,
  resolveOtlpTarget,
} from "./otlp.js";

/**
 * The `otlp` stats reporter: `stats: [{ type: otlp }]`. Its entry's schema is core's
 * (`otlpStatsSchema`), so a config is checked the same with or without this package.
 */
export default defineReporter({
  type: "otlp",
  options: otlpStatsSchema,
  create: (options, ctx) =>
    createOtlpReporter(options, { app: ctx.app, env: ctx.env, logger: ctx.logger, name: ctx.name }),
});
