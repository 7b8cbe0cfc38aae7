export { type NotifyEvent, signedHeaders, slackMessage, summary, webhookBody } from "./messages.js";
export { createNotifier, DEAD_AFTER, KEEP_MS, MIN_GAP_MS, type Notifier, type NotifierDeps } from "./notifier.js";
export { memoryOutbox, type NotifyOutbox, type PendingNotification, targetKeys } from "./outbox.js";
