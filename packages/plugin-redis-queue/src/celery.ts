import type { Redis } from "./connection.js";
import { type QueueLibrary, scanKeys, sum } from "./library.js";

/*
 * Celery's queues, as kombu 5.5's Redis transport writes them for Celery 5.5
 * (kombu/transport/redis.py):
 *   <queue>                 list of message JSON, LPUSH by producers, BRPOP by workers
 *   <queue>\x06\x16<n>      the same queue at priority step n (3, 6, 9; priority_steps [0, 3, 6, 9])
 *   _kombu.binding.<exch>   set of "<routing key>\x06\x16<pattern>\x06\x16<queue>": the queues
 *                           bound to an exchange; the only registry of queues kombu keeps
 * A message carries no enqueue time (the protocol-2 envelope has headers, properties and the
 * body, but no sent-at), and a worker's running tasks are not recorded in Redis.
 */

const SEP = "\x06\x16";
const PRIORITY_STEPS = [3, 6, 9];
const BINDING_PREFIX = "_kombu.binding.";

const shape = {};
type Options = Record<string, never>;

async function boundQueues(redis: Redis, signal: AbortSignal): Promise<string[]> {
  const keys = await scanKeys(redis, `${BINDING_PREFIX}*`, signal);
  const members = await Promise.all(keys.map((k) => redis.sMembers(k)));
  const queues = new Set<string>();
  for (const member of members.flat()) {
    const queue = String(member).split(SEP).at(-1);
    if (queue) queues.add(queue);
  }
  return [...queues].sort();
}

export const celery: QueueLibrary<Options> = {
  type: "celery",
  description:
    "Celery (Python) queues in Redis through kombu: messages waiting, priority sub-queues included. Depth only: messages carry no enqueue time.",
  shape,
  registry: () => "kombu's `_kombu.binding.*` sets",
  latency: {
    refusal: "Celery messages carry no enqueue time in Redis, so the age of the oldest waiting task cannot be read",
  },

  discover: (redis, _o, signal) => boundQueues(redis, signal),

  async known(redis, queues, _o, signal) {
    const bound = new Set(await boundQueues(redis, signal));
    return new Set(queues.filter((q) => bound.has(q)));
  },

  async read(redis, queues) {
    const lengths = await Promise.all(
      queues.flatMap((q) => [q, ...PRIORITY_STEPS.map((step) => `${q}${SEP}${step}`)].map((k) => redis.lLen(k))),
    );
    return { depth: sum(lengths), oldestRunnableMs: null, busy: undefined };
  },
};
