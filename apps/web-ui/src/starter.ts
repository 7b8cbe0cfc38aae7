/*
 * The guided start of "Add an app": a few answers make a starter config, dry run on, written
 * out as YAML with comments so it can be read and edited before it is added.
 */

export interface StarterAnswers {
  herokuApp: string;
  web: { min: number; max: number; source: "random" | "newrelic" };
  /** A worker process type scaled on its queue; none when null. */
  worker: { min: number; max: number; source: "sidekiq" | "good-job" } | null;
}

/** Each source's lines under `plugins:`: the options it needs, secrets as `${VAR}` references. */
const SOURCES: Record<string, { use: string; lines: string[] }> = {
  random: {
    use: "random",
    lines: ["type: random", "name: site", "# made-up readings: swap for a real source once the limits look right"],
  },
  newrelic: {
    use: "newrelic",
    lines: [
      "type: newrelic",
      "name: site",
      "api_key: ${NEW_RELIC_API_KEY}   # a New Relic User key",
      "account_id: 1234567             # your New Relic account id",
      "app_name: my-app-web            # your app as New Relic shows it",
      "rpm_per_dyno: 500               # requests per minute one dyno serves",
    ],
  },
  sidekiq: {
    use: "redis-queue",
    lines: [
      "type: sidekiq",
      "name: jobs",
      "process: worker",
      "url: ${REDIS_URL}",
      "jobs_per_dyno: 50   # waiting jobs per worker dyno",
    ],
  },
  "good-job": {
    use: "postgres-queue",
    lines: [
      "type: good-job",
      "name: jobs",
      "process: worker",
      "url: ${DATABASE_URL}",
      "jobs_per_dyno: 50   # waiting jobs per worker dyno",
    ],
  },
};

export function starterYaml(a: StarterAnswers): string {
  const sources = [SOURCES[a.web.source], a.worker ? SOURCES[a.worker.source] : undefined].filter(
    (s): s is { use: string; lines: string[] } => s !== undefined,
  );
  const lines = [
    "# A starter config: dry run on (it decides, and changes no dyno) until you switch it off on the config page.",
    "use:",
    ...[...new Set(sources.map((s) => s.use))].map((u) => `  - ${u}`),
    "",
    "scaler:",
    "  dry_run: true",
    `  heroku_app_name: ${a.herokuApp || "my-app"}`,
    "  heroku_api_key: ${HEROKU_API_KEY}",
    "",
    "processes:",
    "  web:",
    `    min_dynos: ${a.web.min}`,
    `    max_dynos: ${a.web.max}`,
    ...(a.worker ? ["  worker:", `    min_dynos: ${a.worker.min}`, `    max_dynos: ${a.worker.max}`] : []),
    "",
    "plugins:",
    ...sources.flatMap((s) => s.lines.map((l, i) => `${i === 0 ? "  - " : "    "}${l}`)),
    "",
  ];
  return lines.join("\n");
}
