import { delayedJob, goodJob, graphileWorker, pgBoss, solidQueue } from "./libraries.js";
import { queuePlugin, sqlPlugin } from "./plugins.js";

export { checkReadOnlyQuery } from "./custom-query.js";
export { estimateDynos } from "./estimate.js";
export { type Library, libraries } from "./libraries.js";
export { queueOptionsSchema, type Rule, resolveRule, sqlOptionsSchema } from "./options.js";

/** GoodJob 4.x (Ruby): the good_jobs table. */
export const goodJobPlugin = queuePlugin(goodJob);
/** Solid Queue 1.x (Ruby): the solid_queue_* tables. */
export const solidQueuePlugin = queuePlugin(solidQueue);
/** pg-boss 12 (Node.js): the pgboss.job table. */
export const pgBossPlugin = queuePlugin(pgBoss);
/** graphile-worker 0.16+ (Node.js): the graphile_worker.jobs view. */
export const graphileWorkerPlugin = queuePlugin(graphileWorker);
/** Delayed Job with delayed_job_active_record 4.1 (Ruby): the delayed_jobs table. */
export const delayedJobPlugin = queuePlugin(delayedJob);
export { sqlPlugin };

/**
 * Every plugin of the package (contract v2 lets a package export several): `use:
 * [postgres-queue]` makes the types good-job, solid-queue, pg-boss, graphile-worker,
 * delayed-job and sql available.
 */
export default [goodJobPlugin, solidQueuePlugin, pgBossPlugin, graphileWorkerPlugin, delayedJobPlugin, sqlPlugin];
