export { type Clock, ManualClock, systemClock } from "./clock.js";
export { DynosaurError, type DynosaurErrorOptions, describeError, type ErrorCode, inputError, isDynosaurError, PluginError } from "./errors.js";
export { createLogger, type Logger, type LogFields, type LogLevel, type LogRecord, memoryLogger, silentLogger } from "./logger.js";
export {
  definePlugin,
  PLUGIN_API_VERSION,
  type PluginContext,
  type PluginDefinition,
  type PluginDefinitionInput,
  type PluginInstance,
  type PluginOptionsSchema,
  type SourceOptions,
  sourceOptionsSchema,
} from "./plugin.js";
export type { AlertSink, Problem, SourceHealth, SourceStatus, StatsReporter, TickReport } from "./report.js";
export { createFileReporter, type FileReporterOptions } from "./stats/file.js";
