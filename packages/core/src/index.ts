/** The zod that core validates options with: plugins build their option schemas with it. */
export { z } from "zod";
export { type AlertsConfigInput, alertsConfigSchema, checkEnvAddresses } from "./alerts/schema.js";
export { type Clock, ManualClock, systemClock } from "./clock.js";
export {
  configInputSchema,
  configSchema,
  type DynosaurConfig,
  defaultProcess,
  envReferencesFor,
  isParsed,
  type ProcessConfig,
  parseConfig,
  parseConfigText,
  readConfigFile,
  type ScalerConfig,
} from "./config.js";
export { escapeEnv, substituteEnv, WHOLE_REFERENCE } from "./env.js";
export {
  DynosaurError,
  describeError,
  ERROR_CATALOGUE,
  type ErrorCode,
  type ErrorProblem,
  errorProblems,
  inputError,
  isDynosaurError,
  must,
  PluginError,
} from "./errors.js";
export type { FormationHold, FormationNews, LeaderGate } from "./formation/controller.js";
export { WEBHOOK_SAFETY_READ_MS } from "./formation/controller.js";
export type { FormationApi, FormationState } from "./formation/simulated.js";
export { createLogger, type Logger, type LogLevel, type LogRecord, memoryLogger, silentLogger } from "./logger.js";
export {
  DEFAULT_NOTIFY_EVENTS,
  NOTIFY_EVENTS,
  type NotifyConfig,
  type NotifyEventKind,
  type NotifyTarget,
  notifyConfigSchema,
} from "./notify/schema.js";
export {
  definePlugin,
  type EstimateContext,
  PLUGIN_API_VERSION,
  type PluginContext,
  type PluginDefinition,
  type PluginInstance,
  parsePluginOptions,
  pluginOptionsSchema,
  type Reading,
  type SourceOptions,
  sourceOptionsSchema,
} from "./plugin.js";
export { BandPolicy, DEFAULT_HEADROOM, LevelBand } from "./policy/forecast.js";
export {
  type Combined,
  clamp,
  combine,
  type Decision,
  type DecisionInput,
  decide,
  type PolicySettings,
} from "./policy.js";
export { Redactor, redact, redactConfig } from "./redact.js";
export { checkPluginShape, PluginRegistry } from "./registry.js";
export type {
  AlertSink,
  ChannelDeps,
  EngineEvent,
  Problem,
  SourceHealth,
  SourceStatus,
  StatsReporter,
  TickReport,
} from "./report.js";
export { createRuntime, type Runtime, type RuntimeOptions, type RuntimeStatus } from "./runtime.js";
export { limitsAt, nextChange } from "./schedule.js";
export { Source } from "./source.js";
export {
  createExternalReporter,
  defineReporter,
  HttpFailure,
  quoteBody,
  REPORTER_PACKAGES,
  type ReporterContext,
  type ReporterDefinition,
  type ReporterLoader,
  safeOrigin,
} from "./stats/external.js";
export { otlpStatsSchema, type StatsReporterConfigInput, statsConfigSchema } from "./stats/schema.js";
export { formatTick } from "./tick-format.js";
export { withTimeout } from "./timeout.js";
export { closest } from "./validate.js";
