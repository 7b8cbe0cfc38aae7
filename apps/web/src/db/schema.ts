import type { Generated } from "kysely";

/*
 * The tables, as Kysely sees them. Times are milliseconds since the epoch (bigint in
 * PostgreSQL, integer in SQLite); JSON is stored as text in both, so one set of queries
 * serves both dialects; flags are 0/1 integers for the same reason.
 */

export interface AppsTable {
  id: Generated<number>;
  name: string;
  /** The version in force (the newest saved, or the one rolled back to). */
  version: number;
  paused: number;
  created_at: number;
  updated_at: number;
}

export interface ConfigVersionsTable {
  app_id: number;
  version: number;
  /** The config as JSON, with literal secrets sealed (see secrets.ts). */
  config: string;
  author: string;
  comment: string | null;
  created_at: number;
}

export interface TicksTable {
  app_id: number;
  time: number;
  process_type: string;
  /** The tick report (the `--log-format json` fields) as JSON. */
  report: string;
  /** 1: something happened (a change, a refusal, an error, a source not ok): kept 48 h, not only the recent window. */
  notable: Generated<number>;
}

export interface MinutesTable {
  app_id: number;
  process_type: string;
  /** Start of the minute. */
  minute: number;
  dynos: number | null;
  estimate: number | null;
  /** `[{ name, value, estimate, health }]` of the last tick in the minute, as JSON. */
  sources: string;
}

/**
 * A finished hour of one app's per-minute series, packed: the minute rows of the last hour
 * or so stay in `minutes`, the pruner packs older ones here (see store/minute-blocks.ts).
 */
export interface MinuteBlocksTable {
  app_id: number;
  process_type: string;
  /** Start of the hour. */
  start: number;
  /** The source names the minutes refer to by index, as JSON. */
  names: string;
  /** 60 entries as JSON: dynos of each minute, null where none. */
  dynos: string;
  /** 60 entries as JSON: the estimate of each minute, null where none. */
  estimate: string;
  /** 60 entries as JSON: null (no row that minute) or `[nameIndex, value, estimate, healthIndex, ...]`. */
  sources: string;
}

export interface LatestTable {
  app_id: number;
  process_type: string;
  time: number;
  /** The newest tick report of the process type, so listing apps needs no scan of the ticks. */
  report: string;
}

export interface EventsTable {
  id: Generated<number>;
  app_id: number;
  time: number;
  kind: string;
  message: string;
  /** Details (reason, winner, from, to, version...) as JSON. */
  data: string;
}

/** One app's events of one finished UTC day, packed (see store/event-days.ts). */
export interface EventDaysTable {
  app_id: number;
  /** Start of the UTC day. */
  day: number;
  /** How many events the block holds. */
  count: number;
  /** The events as a JSON array, deflated and base64-encoded. */
  packed: string;
}

export interface UsersTable {
  id: Generated<number>;
  name: string;
  password_hash: string;
  is_admin: number;
  created_at: number;
}

export interface SessionsTable {
  /** SHA-256 of the cookie value: a stolen database gives no usable session. */
  id_hash: string;
  user_id: number;
  csrf_token: string;
  created_at: number;
  expires_at: number;
}

export interface ApiTokensTable {
  id: Generated<number>;
  name: string;
  token_hash: string;
  created_by: number | null;
  created_at: number;
  last_used_at: number | null;
  /** After this time the token opens nothing; null: it never expires. */
  expires_at: number | null;
}

export interface InstancesTable {
  id: string;
  host: string;
  pid: number;
  started_at: number;
  seen_at: number;
  /** Names of the apps this instance scales, as JSON. */
  apps: string;
  /** Its fair share of the apps (ceil(apps / live instances)); null in rows of older versions. */
  share: number | null;
}

export interface DrainsTable {
  app_id: number;
  /** SHA-256 of the token in the drain URL: a delivery finds its app by it. */
  token_hash: string;
  /** The token, sealed with the server's key, so the URL can be shown again. */
  token_sealed: string;
  created_at: number;
}

export interface HerokuWebhooksTable {
  app_id: number;
  /** SHA-256 of the token in the webhook URL: a delivery finds its app by it. */
  token_hash: string;
  /** The token, sealed with the server's key, so the URL can be shown again. */
  token_sealed: string;
  /** The secret Heroku signs deliveries with, sealed; shown once, when made. */
  secret_sealed: string;
  created_at: number;
}

/** Events taken from an app's webhook (Heroku's event id): a retry or a replay counts once. */
export interface HerokuWebhookEventsTable {
  app_id: number;
  event_id: string;
  received_at: number;
}

export interface DrainMinutesTable {
  app_id: number;
  /** Start of the minute. */
  minute: number;
  /** The server process that took these deliveries (each aggregates its own). */
  instance: string;
  /** Web requests (router lines) in the minute. */
  requests: number;
  service_p50: number | null;
  service_p95: number | null;
  service_p99: number | null;
  service_max: number | null;
  connect_mean: number | null;
  /** Requests the app's queue-time lines summarised. */
  queue_n: number;
  queue_p50: number | null;
  queue_p95: number | null;
  queue_max: number | null;
  /** `{ "2xx": n, ... }` as JSON. */
  statuses: string;
  /** Router error codes, `{ "H12": n, ... }` as JSON. */
  errors: string;
  /** Every drain message of the minute. */
  messages: number;
}

/** One `notify:` event not yet delivered to one target (see host's NotifyOutbox). */
export interface NotifyOutboxTable {
  /** Insertion order: messages go out in it. */
  seq: Generated<number>;
  app_id: number;
  /** The notifier's id of the row. */
  event_id: string;
  /** The target's identity: a hash of its type, URL and secret, never the URL itself. */
  target: string;
  /** The event (kind, time, app, process type, from, to, reason, winner) as JSON. */
  event: string;
  /** The message it was last sent in (a retry keeps its webhook-id); null before a first try. */
  message_id: string | null;
  attempts: number;
  /** Not retried before this time. */
  next_at: number;
  created_at: number;
}

/** One server process's use of one Heroku key's API budget (issue 23), as last published. */
export interface ApiBudgetsTable {
  /** The server process (its instance id). */
  instance: string;
  /** A hash of the Heroku API key (host's `accountOf`), never the key. */
  account: string;
  /** Apps of this process on the key. */
  apps: number;
  /** Formation reads an hour their own poll intervals ask for. */
  wanted_per_hour: number;
  /** Requests their changes made in the last hour. */
  changes_per_hour: number;
  seen_at: number;
}

export interface Database {
  apps: AppsTable;
  config_versions: ConfigVersionsTable;
  ticks: TicksTable;
  minutes: MinutesTable;
  minute_blocks: MinuteBlocksTable;
  latest: LatestTable;
  events: EventsTable;
  event_days: EventDaysTable;
  users: UsersTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  instances: InstancesTable;
  drains: DrainsTable;
  drain_minutes: DrainMinutesTable;
  notify_outbox: NotifyOutboxTable;
  heroku_webhooks: HerokuWebhooksTable;
  heroku_webhook_events: HerokuWebhookEventsTable;
  api_budgets: ApiBudgetsTable;
}
