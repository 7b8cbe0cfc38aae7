import pg from "pg";

/**
 * What each queue library keeps in PostgreSQL, and the one query that reads it.
 *
 * Every query is a plain SELECT (no FOR UPDATE / SKIP LOCKED: it never waits on or blocks a
 * worker), takes `$1` = the queue names or NULL for all, and returns one row:
 * `depth` (jobs waiting to run: ready now, plus scheduled and retry jobs already due),
 * `latency` (seconds the oldest of them has waited since it became due; 0 when none) and
 * `busy` (jobs running). Ages come from the database's own clock, never from ours.
 */
export interface Library {
  /** The plugin type, e.g. `good-job`. */
  type: string;
  /** e.g. `GoodJob 4.x`: the version whose schema the query reads. */
  name: string;
  description: string;
  /** The option `schema` defaults to this, for libraries that let you move their tables. */
  defaultSchema?: string;
  /** What to do when the tables are not there. */
  missingHint: string;
  sql(schema: string | undefined): string;
}

const ident = (schema: string | undefined, fallback: string) => pg.escapeIdentifier(schema ?? fallback);

// Seconds from a timestamp to now, never negative (a clock a little ahead on the writer).
const age = (oldest: string) => `COALESCE(GREATEST(0, EXTRACT(EPOCH FROM now() - ${oldest})), 0)::float8`;
const forQueues = (column: string) => `($1::text[] IS NULL OR ${column} = ANY($1::text[]))`;

/**
 * GoodJob 4.x (`good_jobs`). A job waits while unfinished, not yet performed and not
 * locked, once `scheduled_at` has come (GoodJob 4 sets it on every job; retries reuse the row
 * with a later `scheduled_at` and `performed_at` reset). It runs while `performed_at` or
 * `locked_by_id` is set and `finished_at` is not.
 */
export const goodJob: Library = {
  type: "good-job",
  name: "GoodJob 4.x",
  description: "Jobs waiting in GoodJob (Ruby, good_jobs table); depth or latency, plus running jobs.",
  missingHint:
    "table good_jobs not found: check that url is the database of the Rails app that runs GoodJob, and that GoodJob's migrations ran (bin/rails g good_job:update && bin/rails db:migrate)",
  sql: () => {
    const waiting = "performed_at IS NULL AND locked_by_id IS NULL AND COALESCE(scheduled_at, created_at) <= now()";
    return `SELECT
  count(*) FILTER (WHERE ${waiting})::float8 AS depth,
  ${age(`min(COALESCE(scheduled_at, created_at)) FILTER (WHERE ${waiting})`)} AS latency,
  count(*) FILTER (WHERE performed_at IS NOT NULL OR locked_by_id IS NOT NULL)::float8 AS busy
FROM good_jobs
WHERE finished_at IS NULL AND ${forQueues("queue_name")}`;
  },
};

/**
 * Solid Queue 1.x. A job waits as a row of `solid_queue_ready_executions` (since its
 * `created_at`, when it became ready) or of `solid_queue_scheduled_executions` whose
 * `scheduled_at` has come but the dispatcher has not moved yet. Blocked executions (held
 * by a concurrency limit) are left out: more dynos would not run them. A job runs while
 * it has a `solid_queue_claimed_executions` row.
 */
export const solidQueue: Library = {
  type: "solid-queue",
  name: "Solid Queue 1.x",
  description:
    "Jobs waiting in Solid Queue (Ruby, solid_queue_* tables); depth or latency, plus claimed (running) jobs.",
  missingHint:
    "table solid_queue_ready_executions not found: url must be the database Solid Queue writes to (with Rails 8 often a separate queue database, config.solid_queue.connects_to), and its schema must be loaded (bin/rails db:prepare)",
  sql: () => `SELECT
  (ready.n + due.n)::float8 AS depth,
  ${age("LEAST(ready.oldest, due.oldest)")} AS latency,
  claimed.n::float8 AS busy
FROM
  (SELECT count(*) AS n, min(created_at) AS oldest FROM solid_queue_ready_executions WHERE ${forQueues("queue_name")}) AS ready,
  (SELECT count(*) AS n, min(scheduled_at) AS oldest FROM solid_queue_scheduled_executions
    WHERE scheduled_at <= now() AND ${forQueues("queue_name")}) AS due,
  (SELECT count(*) AS n FROM solid_queue_claimed_executions AS c JOIN solid_queue_jobs AS j ON j.id = c.job_id
    WHERE ${forQueues("j.queue_name")}) AS claimed`,
};

/**
 * pg-boss 12 (`<schema>.job`, `name` = queue). A job waits in state created or retry, not
 * blocked by a parent, once `start_after` has come: the `ready` condition of pg-boss's own
 * queue statistics (plans.js getQueueStats), with its age from GREATEST(created_on,
 * start_after) as pg-boss measures its oldest ready job. It runs in state active.
 */
export const pgBoss: Library = {
  type: "pg-boss",
  name: "pg-boss 12",
  description: "Jobs waiting in pg-boss (Node.js, pgboss.job table); depth or latency, plus active jobs.",
  defaultSchema: "pgboss",
  missingHint:
    "pg-boss's job table not found: check url, and `schema` if pg-boss runs with its own schema option; pg-boss creates its tables when it starts (await boss.start()); this plugin reads the schema of pg-boss 12",
  sql: (schema) => {
    const waiting = "state IN ('created', 'retry') AND NOT blocked AND start_after <= now()";
    return `SELECT
  count(*) FILTER (WHERE ${waiting})::float8 AS depth,
  ${age(`min(GREATEST(created_on, start_after)) FILTER (WHERE ${waiting})`)} AS latency,
  count(*) FILTER (WHERE state = 'active')::float8 AS busy
FROM ${ident(schema, "pgboss")}.job
WHERE state IN ('created', 'retry', 'active') AND ${forQueues("name")}`;
  },
};

/**
 * graphile-worker >= 0.16, through its public `jobs` view. A job waits while unlocked with
 * attempts left, once `run_at` has come (a failed job is rescheduled by moving `run_at`,
 * so due retries count too); the same condition its own job fetch uses (is_available and
 * run_at <= now()). It runs while `locked_at` is set. Jobs outside a named queue have a
 * NULL queue_name: they count only when `queues` is not set.
 */
export const graphileWorker: Library = {
  type: "graphile-worker",
  name: "graphile-worker 0.16+",
  description:
    "Jobs waiting in graphile-worker (Node.js, graphile_worker schema); depth or latency, plus locked (running) jobs.",
  defaultSchema: "graphile_worker",
  missingHint:
    "graphile-worker's jobs view not found: check url, and `schema` if the worker runs with its own schema option; graphile-worker creates it when it first starts (0.16 or later is needed)",
  sql: (schema) => {
    const waiting = "locked_at IS NULL AND attempts < max_attempts AND run_at <= now()";
    return `SELECT
  count(*) FILTER (WHERE ${waiting})::float8 AS depth,
  ${age(`min(run_at) FILTER (WHERE ${waiting})`)} AS latency,
  count(*) FILTER (WHERE locked_at IS NOT NULL)::float8 AS busy
FROM ${ident(schema, "graphile_worker")}.jobs
WHERE (locked_at IS NOT NULL OR attempts < max_attempts) AND ${forQueues("queue_name")}`;
  },
};

/**
 * Delayed Job with delayed_job_active_record 4.1 (`delayed_jobs`). A job waits while not
 * failed and not locked, once `run_at` has come (a retry moves `run_at` later); it runs while
 * `locked_at` is set. Jobs enqueued without a queue have a NULL `queue`: they count only when
 * `queues` is not set.
 */
export const delayedJob: Library = {
  type: "delayed-job",
  name: "Delayed Job (delayed_job_active_record 4.1)",
  description: "Jobs waiting in Delayed Job (Ruby, delayed_jobs table); depth or latency, plus locked (running) jobs.",
  missingHint:
    "table delayed_jobs not found: check that url is the database of the app that runs Delayed Job, and that its migration ran (rails generate delayed_job:active_record && rails db:migrate)",
  sql: () => {
    const waiting = "locked_at IS NULL AND run_at <= now()";
    return `SELECT
  count(*) FILTER (WHERE ${waiting})::float8 AS depth,
  ${age(`min(run_at) FILTER (WHERE ${waiting})`)} AS latency,
  count(*) FILTER (WHERE locked_at IS NOT NULL)::float8 AS busy
FROM delayed_jobs
WHERE failed_at IS NULL AND ${forQueues("queue")}`;
  },
};

export const libraries: readonly Library[] = [goodJob, solidQueue, pgBoss, graphileWorker, delayedJob];
