/** What the scaler reports after every tick: to the log, stats reporters and the status API. */
import type { Dispatcher } from "undici";
import type { Clock } from "./clock.js";
import type { Logger } from "./logger.js";

/** `ok`: last reading succeeded within its interval; `stale`: newest good reading is older
 * than that; `outage`: no good reading for `outage_after` seconds. */
export type SourceHealth = "ok" | "stale" | "outage";

export interface SourceStatus {
  name: string;
  type: string;
  unit: string;
  /** Reading that drives the estimate (largest in the hysteresis window); null before the first good one. */
  value: number | null;
  /** Dynos this source asks for; null before the first good reading. */
  estimate: number | null;
  health: SourceHealth;
  /** Work running at the newest good reading (e.g. jobs being processed); null when the plugin does not say. */
  busy: number | null;
  /** Time (ms) of the newest good reading. */
  lastRetrieval: number | null;
  /** The last failure, if the newest attempt failed (secret-free). */
  lastError: string | null;
}

export interface TickReport {
  /** Time of the tick (ms since the epoch). */
  time: number;
  app: string;
  processType: string;
  dryRun: boolean;
  /** Formation quantity before the tick, null when Heroku could not be read. */
  before: number | null;
  /** Quantity after the tick (what was asked of Heroku, or kept). */
  after: number | null;
  /** Combined estimate after clamping to [min, max]; null when no source has a reading. */
  estimate: number | null;
  /** Name of the source whose estimate won, null when none. */
  winner: string | null;
  /** Why the quantity changed or did not, in a few words (e.g. `blackout`, `scale up`). */
  reason: string;
  sources: SourceStatus[];
  /** Notable things that happened during the tick (scales, manual changes, Heroku errors...). */
  events: EngineEvent[];
}

/** Something worth a log line of its own, an event in the web app, maybe an alert. */
export interface EngineEvent {
  kind:
    | "scale"
    | "manual-change"
    | "foreign-scaler"
    | "heroku-refused"
    | "heroku-refusal-lifted"
    | "heroku-error"
    | "heroku-recovered";
  level: "info" | "warn" | "error";
  /** Human text, secret-free. */
  message: string;
  /** The process type it is about; null for the app as a whole (e.g. Heroku not answering). */
  processType: string | null;
  /** Figures for structured logs (`from`, `to`, `code`...). */
  fields: Record<string, unknown>;
}

/** What the engine hands the stats reporters and the alert channels. */
export interface ChannelDeps {
  /** Heroku app name: in every metric name and email. */
  app: string;
  /** Never log a secret. */
  logger: Logger;
  /** Every HTTP call goes through it (the OpenTelemetry SDK excepted: it uses Node's http). */
  http: Dispatcher;
  /** Environment to read settings from (`OTEL_*`, `SENDGRID_API_KEY`...), never `process.env` directly. */
  env: Record<string, string | undefined>;
  /** Dedup windows and heartbeat spacing are measured on it. */
  clock: Clock;
}

/** A stats reporter (`stats:` in the config). */
export interface StatsReporter {
  /** For logs, e.g. `librato`. */
  readonly name: string;
  /**
   * Sends one tick's figures. The scaler does not wait for it: a slow or failing reporter
   * never delays a scaling decision. Reject on failure; the caller logs it once per problem.
   */
  report(tick: TickReport): Promise<void>;
  /** Flushes what is pending and releases resources. */
  close?(): Promise<void>;
}

/** A problem worth telling a human about. `key` identifies it for deduplication. */
export interface Problem {
  key: string;
  kind: "source-outage" | "all-sources-out" | "heroku-refused" | "heroku-error" | "unexpected";
  /** Human text, secret-free. */
  message: string;
}

/** Receives problems and recoveries from the scaler (`alerts:` in the config). */
export interface AlertSink {
  /** A problem is happening (called again on every repeat: the sink deduplicates). */
  raise(problem: Problem): void;
  /** The problem with this key has cleared. */
  clear(key: string): void;
  /** Called after every tick, with whether it was healthy (for heartbeats). */
  tick?(report: TickReport, healthy: boolean): void;
  close?(): Promise<void>;
}
