/** The zod that core validates options with: plugins build their option schemas with it. */
export { z } from "zod";
export {
  type AlertDeps,
  type AlertSinkHandle,
  type AlertsConfig,
  alertsConfigSchema,
  createAlertSink,
} from "./alerts/index.js";
export { type Clock, ManualClock, systemClock } from "./clock.js";
export {
  configInputSchema,
  configSchema,
  type DynosaurConfig,
  defaultProcess,
  envReferencesFor,
  isParsed,
  type ParsedConfig,
  type PluginEntry,
  type ProcessConfig,
  parseConfig,
  parseConfigText,
  readConfigFile,
  type ScalerConfig,
} from "./config.js";
export { escapeEnv, substituteEnv, WHOLE_REFERENCE } from "./env.js";
export {
  DynosaurError,
  type DynosaurErrorOptions,
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
export {
  type ApplyResult,
  FormationController,
  type FormationControllerOptions,
  type FormationRead,
  type LeaderGate,
} from "./formation/controller.js";
export { type Formation, HerokuClient, type HerokuClientOptions, HerokuError } from "./formation/heroku-client.js";
export {
  describeDatabase,
  herokuPostgresSsl,
  type LeaderLock,
  type LeaderLockOptions,
  lockKey,
  startLeaderLock,
} from "./formation/leader-lock.js";
export { type FormationApi, type FormationState, SimulatedFormation } from "./formation/simulated.js";
export { createDispatcher } from "./http.js";
export {
  createLogger,
  type LogFields,
  type Logger,
  type LogLevel,
  type LogRecord,
  memoryLogger,
  silentLogger,
} from "./logger.js";
export { Loop, type LoopParts, type TickListener } from "./loop.js";
export {
  definePlugin,
  type EstimateContext,
  PLUGIN_API_VERSION,
  type PluginContext,
  type PluginDefinition,
  type PluginDefinitionInput,
  type PluginInstance,
  type PluginOptionsSchema,
  parsePluginOptions,
  pluginOptionsSchema,
  type Reading,
  type SourceOptions,
  sourceOptionsSchema,
} from "./plugin.js";
export {
  createForecaster,
  DEFAULT_HEADROOM,
  plannedEstimate,
  plannedValue,
} from "./policy/forecast.js";
export { Forecaster, type ForecasterOptions } from "./policy/forecaster.js";
export {
  type Combined,
  clamp,
  combine,
  type Decision,
  type DecisionInput,
  decide,
  type PolicySettings,
} from "./policy.js";
export { Redactor, redactConfig } from "./redact.js";
export { checkPluginShape, PluginRegistry } from "./registry.js";
export type {
  AlertSink,
  EngineEvent,
  Problem,
  SourceHealth,
  SourceStatus,
  StatsReporter,
  TickReport,
} from "./report.js";
export { createRuntime, type Runtime, type RuntimeOptions, type RuntimePlugin, type RuntimeStatus } from "./runtime.js";
export {
  type Limits,
  limitsAt,
  nextChange,
  type ScheduleWindow,
  scheduleWindowSchema,
} from "./schedule.js";
export { Source } from "./source.js";
export {
  createConsoleReporter,
  createFileReporter,
  createLibratoReporter,
  createStatsDispatcher,
  createStatsReporters,
  defineReporter,
  type FileReporterOptions,
  HttpFailure,
  otlpStatsSchema,
  quoteBody,
  REPORTER_PACKAGES,
  type ReporterContext,
  type ReporterDefinition,
  type ReporterLoader,
  type StatsDeps,
  type StatsDispatcher,
  type StatsReporterConfig,
  safeOrigin,
  statsConfigSchema,
} from "./stats/index.js";
export { formatTick } from "./tick-format.js";
export { closest } from "./validate.js";
