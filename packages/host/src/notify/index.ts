export { type NotifyEvent, signedHeaders, slackMessage, summary, webhookBody } from "./messages.js";
export { createNotifier, DEAD_AFTER, MIN_GAP_MS, type Notifier, type NotifierDeps } from "./notifier.js";
