// @dynosaur/host: what a Dynosaur runtime needs of the outside world. Core (@dynosaur/core)
// is the engine and its ports; these are the adapters behind them.
export { type AlertDeps, type AlertSinkHandle, createAlertSink } from "./alerts/index.js";
export {
  type AccountUse,
  ApiBudgets,
  type ApiBudgetsOptions,
  accountOf,
  type BudgetMember,
  type BudgetNotice,
  type BudgetShare,
  budgetedFormation,
  HEROKU_RATE_LIMIT,
} from "./api-budget.js";
export { configJsonSchema, withEnvReferences } from "./config-schema.js";
export { type Formation, HerokuClient, type HerokuClientOptions, HerokuError } from "./heroku-client.js";
export { createDispatcher } from "./http.js";
export {
  AdvisorySession,
  appLockKey,
  describeDatabase,
  herokuPostgresSsl,
  instanceLockKey,
  type LeaderLock,
  type LeaderLockOptions,
  localOwnership,
  lockKey,
  type Ownership,
  type PgOwnershipOptions,
  pgOwnership,
  startLeaderLock,
} from "./locks.js";
export {
  createNotifier,
  memoryOutbox,
  type Notifier,
  type NotifierDeps,
  type NotifyEvent,
  type NotifyOutbox,
  type PendingNotification,
  targetKeys,
} from "./notify/index.js";
export {
  candidateNames,
  inferUse,
  installName,
  type LoadedPlugin,
  loadPlugins,
  loadReporter,
  PluginLoader,
  type PluginLookup,
  useOf,
} from "./plugins.js";
export { createHostRuntime, type HostRuntimeOptions } from "./runtime.js";
export {
  createConsoleReporter,
  createFileReporter,
  createLibratoReporter,
  createStatsDispatcher,
  createStatsReporters,
  type FileReporterOptions,
  libratoGauges,
  type StatsDeps,
  type StatsDispatcher,
  statsLine,
} from "./stats/index.js";
