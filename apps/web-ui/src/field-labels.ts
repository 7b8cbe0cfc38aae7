/*
 * The Advanced form's labels in plain words, each with its config key beside it: the form
 * library labels a field with its key ("min_dynos") and a list's entry with the list's key and
 * a count ("use-1"), which only someone who knows the config's keys can read.
 */

/** Plain words for the config's keys (core's and the first-party plugins'). */
const WORDS: Record<string, string> = {
  use: "Plugin packages",
  scaler: "Scaling",
  plugins: "Sources",
  processes: "Process types",
  process: "Process type",
  process_type: "Process type",
  min_dynos: "Fewest dynos",
  max_dynos: "Most dynos",
  min: "Fewest dynos (old name)",
  max: "Most dynos (old name)",
  headroom: "Spare capacity",
  dry_run: "Dry run (do not change the formation)",
  interval: "Seconds between ticks",
  schedule: "Schedule",
  blackout: "Quiet periods",
  heroku_timeout: "Heroku timeout",
  scale_down_step: "Most dynos removed at once",
  hold_while_busy: "Hold while busy",
  alerts: "Alerts",
  stats: "Statistics",
  name: "Name",
  type: "Type",
  app: "Heroku app",
  url: "URL",
  api_key: "API key",
  key: "Key",
  queues: "Queues",
  per_dyno: "Per dyno",
  jobs_per_dyno: "Jobs per dyno",
  rpm_per_dyno: "Requests a minute per dyno",
  users_per_dyno: "Users per dyno",
  latency_target: "Latency target",
  latency: "Latency",
  database: "Database",
  timezone: "Time zone",
  timeout: "Timeout",
  window_minutes: "Window (minutes)",
  property_id: "Property id",
  client_email: "Client email",
  nrql: "NRQL query",
  metric: "Metric",
  library: "Queue library",
  seed: "Random seed",
  email: "Email to",
  from: "Email from",
  sendgrid_api_key: "SendGrid API key",
  sendgrid_endpoint: "SendGrid endpoint",
  min_interval: "Least seconds between emails",
  heartbeat_url: "Heartbeat URL",
  heartbeat_interval: "Least seconds between heartbeats",
  hysteresis_period: "Seconds before scaling down",
  json_pointer: "JSON pointer",
  min_value: "Lowest reading",
  max_value: "Highest reading",
};

/** What one entry of a list is called: `use-1` is "Package 1". */
const ENTRY: Record<string, string> = {
  use: "Package",
  plugins: "Source",
  processes: "Process type",
  queues: "Queue",
  schedule: "Period",
  blackout: "Quiet period",
  alerts: "Alert",
};

export interface PlainLabel {
  /** In words, e.g. "Fewest dynos", "Package 1". */
  words: string;
  /** The key as the config writes it, e.g. `min_dynos`, `use[0]`. */
  key: string;
}

/**
 * The plain label of a field the form library labelled `label` (a key, or `key-N` for a list's
 * Nth entry); null when it is not a key (a heading the pages wrote).
 */
export function plainLabel(label: string): PlainLabel | null {
  const entry = /^([a-z][a-z0-9_]*)-(\d+)$/.exec(label);
  if (entry) {
    const [, list = "", n = "1"] = entry;
    const noun = ENTRY[list] ?? `${WORDS[list] ?? spaced(list)}: entry`;
    return { words: `${noun} ${n}`, key: `${list}[${Number(n) - 1}]` };
  }
  if (!/^[a-z][a-z0-9_]*$/.test(label)) return null;
  return { words: WORDS[label] ?? spaced(label), key: label };
}

/** `jobs_per_dyno` → "Jobs per dyno". */
const spaced = (key: string) => {
  const text = key.replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
};
