import { bullmq as bullmqLibrary } from "./bullmq.js";
import { celery as celeryLibrary } from "./celery.js";
import { queuePlugin } from "./plugin.js";
import { rq as rqLibrary } from "./rq.js";
import { sidekiq as sidekiqLibrary } from "./sidekiq.js";

export { estimateDynos } from "./estimate.js";
export {
  type CommonOptions,
  commonOptionsShape,
  type EstimateRule,
  parseRedisUrl,
  type RedisTarget,
} from "./options.js";
export { rqTimeMs } from "./rq.js";
export { sidekiqTimeMs } from "./sidekiq.js";

/** Scales on Sidekiq queues (Ruby). */
export const sidekiq = queuePlugin(sidekiqLibrary);
/** Scales on BullMQ queues (Node.js). */
export const bullmq = queuePlugin(bullmqLibrary);
/** Scales on RQ queues (Python). */
export const rq = queuePlugin(rqLibrary);
/** Scales on Celery queues (Python, kombu's Redis transport). Depth only. */
export const celery = queuePlugin(celeryLibrary);

/** The package's four plugins: one per queue library (contract v2 lets a package export several). */
const plugins = [sidekiq, bullmq, rq, celery];
export default plugins;
