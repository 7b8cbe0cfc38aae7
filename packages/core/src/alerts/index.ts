export { createHeartbeat, type Heartbeat, type HeartbeatOptions } from "./heartbeat.js";
export { type AlertsConfig, type AlertsConfigInput, alertsConfigSchema } from "./schema.js";
export { createSendGridMailer, type Email, type Mailer, type SendGridOptions } from "./sendgrid.js";
export { type AlertDeps, type AlertSinkHandle, createAlertSink } from "./sink.js";
