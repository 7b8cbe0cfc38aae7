export {
  MAX_QUEUE_MS,
  queueTimeFromHeader,
  queueTimeOf,
  REQUEST_START_HEADER,
  type RequestLike,
  requestStartHeader,
  requestStartMs,
} from "./parse.js";
export { type QueueTime, type QueueTimeOptions, queueTime } from "./recorder.js";
export { MAX_SAMPLES, QueueTimeSummary, SUMMARY_PREFIX, summaryLine } from "./summary.js";
