import { inputError, z } from "@dynosaur/core";

/*
 * The option names are shared with @dynosaur/plugin-redis-queue (url, queues, metric,
 * jobs_per_dyno, latency_target): a user moving a queue between stores keeps their config.
 */

const url = z
  .string()
  .min(1)
  .describe(
    "PostgreSQL URL of the database the jobs live in, e.g. `${DATABASE_URL}` (Heroku sets it). A secret: it carries the password. " +
      "Hosts other than localhost get TLS without certificate verification (as Heroku Postgres needs) unless the URL has its own `sslmode`.",
  );

const metric = z
  .enum(["depth", "latency"])
  .default("depth")
  .describe(
    "What drives the estimate. `depth`: jobs waiting to run (ready now, including scheduled and retry jobs that are due), " +
      "estimate ceil(depth / jobs_per_dyno). `latency`: seconds the oldest waiting job has waited, kept near latency_target by adding " +
      "or removing dynos relative to those running now.",
  );

const jobsPerDyno = z
  .number()
  .positive()
  .optional()
  .describe(
    "With metric: depth (required then): waiting jobs one dyno clears in time. The estimate is ceil(depth / jobs_per_dyno).",
  );

const latencyTarget = z
  .number()
  .positive()
  .optional()
  .describe(
    "With metric: latency (required then): seconds a job may wait. Above it: at least one dyno more than now, and " +
      "ceil(dynos now x latency / latency_target) when far above. At or below it: as many as now. Below half of it: one fewer. " +
      "Any waiting job with no dyno running asks for 1.",
  );

/** The options of the five library types. */
export const queueOptionsSchema = z.object({
  url,
  queues: z
    .array(z.string().min(1))
    .min(1)
    .optional()
    .describe("Names of the queues to count. Default: every queue of the library in this database."),
  metric,
  jobs_per_dyno: jobsPerDyno,
  latency_target: latencyTarget,
});

/** Like `queueOptionsSchema`, plus `schema` for the libraries that let you move their tables. */
export function withSchemaOption(defaultSchema: string) {
  return queueOptionsSchema.extend({
    schema: z
      .string()
      .min(1)
      .max(63)
      .default(defaultSchema)
      .describe(
        `PostgreSQL schema the library's tables live in (its own \`schema\` setting). Default: ${defaultSchema}.`,
      ),
  });
}

/** The options of the `sql` type: a query of your own instead of `queues`. */
export const sqlOptionsSchema = z.object({
  url,
  query: z
    .string()
    .min(1)
    .describe(
      "One read-only SELECT returning one row: a number column `value` (jobs with metric: depth, seconds with metric: latency) " +
        "and optionally a number column `busy` (running jobs). It runs in a READ ONLY transaction; anything else is refused.",
    ),
  metric,
  jobs_per_dyno: jobsPerDyno,
  latency_target: latencyTarget,
});

export type QueueOptions = z.output<typeof queueOptionsSchema> & { schema?: string };
export type SqlOptions = z.output<typeof sqlOptionsSchema>;

/** How a reading becomes dynos: the option each metric needs, checked together. */
export type Rule = { metric: "depth"; jobsPerDyno: number } | { metric: "latency"; latencyTarget: number };

/**
 * Checks what a schema cannot: each metric needs its own option and refuses the other's
 * (a config that sets both is a mistake about which one applies).
 */
export function resolveRule(options: {
  metric: "depth" | "latency";
  jobs_per_dyno?: number | undefined;
  latency_target?: number | undefined;
}): Rule {
  if (options.metric === "depth") {
    if (options.latency_target !== undefined) {
      throw inputError("DYNO_CONFIG_INVALID", "latency_target applies only with metric: latency, but metric is depth", {
        path: "latency_target",
        hint: "set metric: latency to scale on how long jobs wait, or remove latency_target and set jobs_per_dyno",
      });
    }
    if (options.jobs_per_dyno === undefined) {
      throw inputError(
        "DYNO_CONFIG_INVALID",
        "jobs_per_dyno: required with metric: depth (how many waiting jobs one dyno clears in time)",
        {
          path: "jobs_per_dyno",
          hint: "e.g. jobs_per_dyno: 50; or set metric: latency with latency_target (seconds)",
        },
      );
    }
    return { metric: "depth", jobsPerDyno: options.jobs_per_dyno };
  }
  if (options.jobs_per_dyno !== undefined) {
    throw inputError("DYNO_CONFIG_INVALID", "jobs_per_dyno applies only with metric: depth, but metric is latency", {
      path: "jobs_per_dyno",
      hint: "remove jobs_per_dyno (metric: latency uses latency_target), or set metric: depth",
    });
  }
  if (options.latency_target === undefined) {
    throw inputError(
      "DYNO_CONFIG_INVALID",
      "latency_target: required with metric: latency (seconds a job may wait before more dynos start)",
      {
        path: "latency_target",
        hint: "e.g. latency_target: 30",
      },
    );
  }
  return { metric: "latency", latencyTarget: options.latency_target };
}
