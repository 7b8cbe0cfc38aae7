export { type AlertsConfig, alertsConfigSchema } from "./schema.js";
export { type AlertDeps, type AlertSinkHandle, createAlertSink } from "./sink.js";
