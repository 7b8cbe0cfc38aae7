import { z } from "@dynosaur/core";
import { earliest, parseJson, type QueueLibrary, sum } from "./library.js";

/*
 * Sidekiq's keys, as Sidekiq 7.3 and 8.0 write them (lib/sidekiq/client.rb `atomic_push`,
 * lib/sidekiq/api.rb, lib/sidekiq/launcher.rb):
 *   queues                  set of queue names (SADD on every push)
 *   queue:<name>            list of job JSON, LPUSH on push, BRPOP by workers: oldest at index -1
 *   schedule, retry         sorted sets of job JSON scored by the run-at time (float epoch seconds);
 *                           a running Sidekiq moves due ones to their queue every few seconds
 *   processes               set of process identities; <identity>:work is a hash of the jobs
 *                           running there (thread id -> JSON with "queue"), expiring with the process
 *   <identity>:workers      the same hash as Sidekiq 6 (6.4, lib/sidekiq/launcher.rb `❤`) names it;
 *                           7.0 renamed it to :work. Both are read, so a 6.x process counts as busy
 * `enqueued_at` is float epoch seconds in Sidekiq <= 7 and integer epoch milliseconds in 8.
 */

const shape = {
  namespace: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Key prefix of a Sidekiq <= 6 app using redis-namespace (`namespace: myapp` reads `myapp:queues`, ...). Sidekiq 7+ has no namespaces.",
    ),
};

type Options = { namespace?: string | undefined };

// Due scheduled/retry jobs are parsed to see their queue only when queues are filtered; past
// this many, the count is a floor, which still wakes the workers.
const DUE_SCAN_LIMIT = 1000;

const prefix = (o: Options) => (o.namespace ? `${o.namespace}:` : "");

/** Epoch ms of a Sidekiq timestamp: float seconds (<= 7) or integer ms (8). */
export function sidekiqTimeMs(value: unknown): number | null {
  if (typeof value !== "number" || !Number.isFinite(value)) return null;
  // 1e11 s is the year 5138; 1e11 ms is 1973: the two formats cannot be confused.
  return value < 1e11 ? value * 1000 : value;
}

export const sidekiq: QueueLibrary<Options> = {
  type: "sidekiq",
  description:
    "Sidekiq (Ruby) queues in Redis: waiting jobs plus due scheduled/retry jobs, or the oldest job's wait; busy = jobs running in live processes.",
  shape,
  registry: (o) => `Sidekiq's \`${prefix(o)}queues\` set`,
  latency: true,

  async discover(redis, o) {
    return (await redis.sMembers(`${prefix(o)}queues`)).map(String).sort();
  },

  async known(redis, queues, o) {
    const flags = await redis.smIsMember(`${prefix(o)}queues`, queues);
    return new Set(queues.filter((_, i) => flags[i] === 1));
  },

  async read(redis, queues, nowMs, o, all) {
    const p = prefix(o);
    const now = String(nowMs / 1000);
    const wanted = new Set(queues);
    const [lengths, heads, due, processes] = await Promise.all([
      Promise.all(queues.map((q) => redis.lLen(`${p}queue:${q}`))),
      Promise.all(queues.map((q) => redis.lIndex(`${p}queue:${q}`, -1))),
      Promise.all(
        ["schedule", "retry"].map((set) =>
          redis.zRangeWithScores(`${p}${set}`, "-inf", now, {
            BY: "SCORE",
            LIMIT: { offset: 0, count: DUE_SCAN_LIMIT },
          }),
        ),
      ),
      redis.sMembers(`${p}processes`),
    ]);
    // A process has one of the two (6.x `:workers`, 7+ `:work`); reading both costs one more HVALS.
    const works = await Promise.all(
      processes.flatMap((identity) => [redis.hVals(`${p}${identity}:work`), redis.hVals(`${p}${identity}:workers`)]),
    );

    let dueCount = 0;
    let dueSince: number | null = null;
    for (const entries of due) {
      for (const { value, score } of entries) {
        const queue = parseJson(String(value))?.queue;
        if (!all && !(typeof queue === "string" && wanted.has(queue))) continue;
        dueCount++;
        dueSince = earliest([dueSince, score * 1000]);
      }
    }
    const enqueued = heads.map((head) => {
      const job = parseJson(head);
      return job ? sidekiqTimeMs(job.enqueued_at ?? job.created_at) : null;
    });
    const busy = sum(
      works.map(
        (values) =>
          values.filter((v) => {
            const queue = parseJson(String(v))?.queue;
            return all || (typeof queue === "string" && wanted.has(queue));
          }).length,
      ),
    );
    return { depth: sum(lengths.map(Number)) + dueCount, oldestRunnableMs: earliest([...enqueued, dueSince]), busy };
  },
};
