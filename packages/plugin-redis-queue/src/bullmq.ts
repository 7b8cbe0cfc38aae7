import { z } from "@dynosaur/core";
import { earliest, type QueueLibrary, scanKeys, sum } from "./library.js";

/*
 * BullMQ's keys, as bullmq 6.7 writes them (src/classes/queue-keys.ts, src/commands/*.lua),
 * each under `<prefix>:<queue>:`:
 *   wait          list of job ids, LPUSH (FIFO; RPUSH for lifo jobs), taken from index -1
 *   paused        list used by BullMQ < 5 while paused (v5+ keeps jobs in wait and sets meta.paused)
 *   prioritized   sorted set, score priority * 2^32 + counter: lowest runs first
 *   delayed       sorted set, score = run-at epoch ms * 0x1000 + a 12-bit counter; workers move
 *                 due jobs to wait, so with no worker running due jobs stay here
 *   active        list of jobs being processed
 *   meta, id      hash of queue settings and the job-id counter: exist once a job was added
 *   <id>          job hash: `timestamp` (creation, epoch ms), `delay`, `processedOn`
 */

const shape = {
  prefix: z.string().min(1).default("bull").describe("BullMQ's key prefix (the Queue's `prefix` option)."),
};

type Options = { prefix: string };

const DELAY_SCORE_FACTOR = 0x1000;

const key = (o: Options, queue: string, type: string) => `${o.prefix}:${queue}:${type}`;

export const bullmq: QueueLibrary<Options> = {
  type: "bullmq",
  description:
    "BullMQ (Node.js) queues in Redis: waiting, prioritized and due delayed jobs, or the oldest one's wait; busy = active jobs.",
  shape,
  registry: (o) => `BullMQ's \`${o.prefix}:<queue>:meta\` / \`:id\` keys`,
  latency: true,

  async discover(redis, o, signal) {
    // BullMQ keeps no list of queues: every queue that ever had a job has a meta hash.
    const keys = await scanKeys(redis, `${escapeGlob(o.prefix)}:*:meta`, signal);
    const names = keys
      .map((k) => k.slice(o.prefix.length + 1, -":meta".length))
      .filter((name) => name !== "" && !name.includes(":"));
    return [...new Set(names)].sort();
  },

  async known(redis, queues, o) {
    const found = await Promise.all(
      queues.map(async (q) => ({ q, keys: await redis.exists([key(o, q, "meta"), key(o, q, "id")]) })),
    );
    return new Set(found.filter(({ keys }) => keys > 0).map(({ q }) => q));
  },

  async read(redis, queues, nowMs, o) {
    // A delayed job is due when its run-at ms <= now, i.e. score < (now + 1) * 0x1000.
    const dueMax = String((Math.floor(nowMs) + 1) * DELAY_SCORE_FACTOR - 1);
    const per = await Promise.all(
      queues.map(async (q) => {
        const [wait, paused, prioritized, due, active, waitHead, pausedHead, prioritizedHead, dueHead] =
          await Promise.all([
            redis.lLen(key(o, q, "wait")),
            redis.lLen(key(o, q, "paused")),
            redis.zCard(key(o, q, "prioritized")),
            redis.zCount(key(o, q, "delayed"), "-inf", dueMax),
            redis.lLen(key(o, q, "active")),
            redis.lIndex(key(o, q, "wait"), -1),
            redis.lIndex(key(o, q, "paused"), -1),
            redis.zRange(key(o, q, "prioritized"), 0, 0),
            redis.zRangeWithScores(key(o, q, "delayed"), "-inf", dueMax, {
              BY: "SCORE",
              LIMIT: { offset: 0, count: 1 },
            }),
          ]);
        const ids = [waitHead, pausedHead, prioritizedHead[0]].filter((id): id is string => typeof id === "string");
        const jobs = await Promise.all(
          ids.map((id) => redis.hmGet(`${o.prefix}:${q}:${id}`, ["timestamp", "delay", "processedOn"])),
        );
        const since = jobs.map(([timestamp, delay, processedOn]) => {
          const created = Number(timestamp);
          if (!Number.isFinite(created) || timestamp === null) return null;
          // A job waits from creation + delay; a retried one at least since its last attempt.
          // BullMQ zeroes `delay` when it promotes a delayed job, so such a job counts from its creation.
          return Math.max(created + (Number(delay) || 0), Number(processedOn) || 0);
        });
        const dueSince = dueHead[0] ? Math.floor(dueHead[0].score / DELAY_SCORE_FACTOR) : null;
        return { depth: wait + paused + prioritized + due, active, oldest: earliest([...since, dueSince]) };
      }),
    );
    return {
      depth: sum(per.map((r) => r.depth)),
      oldestRunnableMs: earliest(per.map((r) => r.oldest)),
      busy: sum(per.map((r) => r.active)),
    };
  },
};

/** Escapes SCAN MATCH's glob characters in a literal. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}
