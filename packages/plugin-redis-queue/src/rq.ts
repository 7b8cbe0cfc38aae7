import { earliest, type QueueLibrary, sum } from "./library.js";

/*
 * RQ's keys, as rq 2.x writes them (rq/queue.py, rq/job.py, rq/registry.py; same in 1.16):
 *   rq:queues               set of queue keys ("rq:queue:<name>"), SADD on every enqueue
 *   rq:queue:<name>         list of job ids, RPUSH on enqueue (LPUSH with at_front), LPOP by
 *                           workers: the oldest is at index 0
 *   rq:job:<id>             job hash; `enqueued_at` is UTC "%Y-%m-%dT%H:%M:%S.%fZ"
 *   rq:scheduled:<name>     ScheduledJobRegistry, scored by run-at epoch seconds; the scheduler
 *                           (worker --with-scheduler) moves due jobs to the queue
 *   rq:wip:<name>           StartedJobRegistry, members "<job id>:<execution id>" scored by
 *                           the epoch second their heartbeat expires (+inf: no timeout)
 */

const shape = {};
type Options = Record<string, never>;

const QUEUE_KEY_PREFIX = "rq:queue:";

/** Epoch ms of RQ's `utcformat` timestamp, e.g. 2026-01-01T12:00:00.123456Z. */
export function rqTimeMs(text: string | null | undefined): number | null {
  const m =
    typeof text === "string" ? /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?Z?$/.exec(text) : null;
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac = ""] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  return ms + Number(`0.${frac || "0"}`) * 1000;
}

export const rq: QueueLibrary<Options> = {
  type: "rq",
  description:
    "RQ (Python) queues in Redis: waiting jobs plus due scheduled ones, or the oldest job's wait; busy = started jobs.",
  shape,
  registry: () => "RQ's `rq:queues` set",
  latency: true,

  async discover(redis) {
    const keys = (await redis.sMembers("rq:queues")).map(String);
    return keys
      .filter((k) => k.startsWith(QUEUE_KEY_PREFIX))
      .map((k) => k.slice(QUEUE_KEY_PREFIX.length))
      .sort();
  },

  async known(redis, queues) {
    const flags = await redis.smIsMember(
      "rq:queues",
      queues.map((q) => QUEUE_KEY_PREFIX + q),
    );
    return new Set(queues.filter((_, i) => flags[i] === 1));
  },

  async read(redis, queues, nowMs) {
    const now = String(nowMs / 1000);
    const per = await Promise.all(
      queues.map(async (q) => {
        const [length, head, due, dueHead, started] = await Promise.all([
          redis.lLen(`${QUEUE_KEY_PREFIX}${q}`),
          redis.lIndex(`${QUEUE_KEY_PREFIX}${q}`, 0),
          redis.zCount(`rq:scheduled:${q}`, "-inf", now),
          redis.zRangeWithScores(`rq:scheduled:${q}`, "-inf", now, { BY: "SCORE", LIMIT: { offset: 0, count: 1 } }),
          // Entries whose heartbeat expired are abandoned jobs RQ's cleanup will fail: not busy.
          redis.zCount(`rq:wip:${q}`, now, "+inf"),
        ]);
        const enqueuedAt = head === null ? null : rqTimeMs(await redis.hGet(`rq:job:${head}`, "enqueued_at"));
        const dueSince = dueHead[0] ? dueHead[0].score * 1000 : null;
        return { depth: length + due, started, oldest: earliest([enqueuedAt, dueSince]) };
      }),
    );
    return {
      depth: sum(per.map((r) => r.depth)),
      oldestRunnableMs: earliest(per.map((r) => r.oldest)),
      busy: sum(per.map((r) => r.started)),
    };
  },
};
