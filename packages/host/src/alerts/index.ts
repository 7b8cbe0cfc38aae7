export { type AlertDeps, type AlertSinkHandle, createAlertSink } from "./sink.js";
