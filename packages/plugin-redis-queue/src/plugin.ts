import { definePlugin, PluginError, type PluginInstance, type SourceOptions, z } from "@dynosaur/core";
import { createConnection, type Redis } from "./connection.js";
import { estimateDynos } from "./estimate.js";
import type { QueueLibrary } from "./library.js";
import { type CommonOptions, commonOptionsShape, parseRedisUrl, resolveEstimateRule } from "./options.js";

/** A latency reading while a job waits is never 0, so 0 always means "nothing waits". */
const MIN_LATENCY = 0.001;

/**
 * Builds the plugin of one queue library: its options are the common ones plus the library's
 * own; `url` is secret.
 */
export function queuePlugin<Options>(library: QueueLibrary<Options>) {
  const options = z.object({ ...commonOptionsShape, ...library.shape });
  return definePlugin({
    type: library.type,
    // Static for the type; with metric: latency a reading is seconds (said at start-up).
    unit: "jobs",
    description: library.description,
    secrets: ["url"],
    options,
    create(parsed, ctx): PluginInstance {
      // The library's own keys are in `parsed` too: the schema is the union of both shapes.
      const opts = parsed as unknown as CommonOptions & SourceOptions;
      const libOptions = parsed as unknown as Options;
      const rule = resolveEstimateRule(opts, {
        type: library.type,
        latency: library.latency === true,
        latencyRefusal: library.latency === true ? undefined : library.latency.refusal,
      });
      const target = parseRedisUrl(opts.url);
      if (opts.tls_verify && !target.tls) {
        ctx.logger.warn("tls_verify has no effect: url is redis://, not rediss://");
      }
      if (rule.metric === "latency") {
        ctx.logger.info(
          `metric latency: readings are the seconds the oldest runnable job has waited (target ${rule.target} s, low water ${rule.lowWater} s)`,
        );
      }
      const connection = createConnection({
        target,
        tlsVerify: opts.tls_verify,
        connectTimeoutMs: Math.max(1, opts.timeout) * 1000,
      });
      const configured = opts.queues ? [...new Set(opts.queues)] : undefined;
      // Queues seen in the library's registry, and unknown ones already warned about.
      const confirmed = new Set<string>();
      const warned = new Set<string>();
      let warnedEmpty = false;

      async function queuesToRead(redis: Redis, signal: AbortSignal): Promise<string[]> {
        if (!configured) {
          const all = await library.discover(redis, libOptions, signal);
          if (all.length === 0 && !warnedEmpty) {
            warnedEmpty = true;
            ctx.logger.warn(
              `no queues found in ${library.registry(libOptions)} at ${target.display}: reading 0 until one appears. ` +
                "Check the database number in url and the prefix/namespace options, or list them in `queues`",
            );
          }
          return all;
        }
        const pending = configured.filter((q) => !confirmed.has(q) && !warned.has(q));
        if (pending.length > 0) {
          const known = await library.known(redis, pending, libOptions, signal);
          for (const q of known) confirmed.add(q);
          const unknown = pending.filter((q) => !known.has(q));
          if (confirmed.size === 0 && unknown.length > 0) {
            // Reading 0 from misspelled queues would let the workers go down to zero.
            const existing = (await library.discover(redis, libOptions, signal)).slice(0, 20);
            throw new PluginError(
              `none of the queues ${configured.map((q) => JSON.stringify(q)).join(", ")} is in ${library.registry(libOptions)} at ${target.display}, so their 0 cannot be trusted`,
              {
                hint: `${existing.length > 0 ? `known queues: ${existing.join(", ")}; ` : "no queue is registered there; "}check the spelling in \`queues\`, the database number in url and the prefix/namespace options (a queue appears once a job was enqueued)`,
              },
            );
          }
          for (const q of unknown) {
            warned.add(q);
            ctx.logger.warn(
              `queue "${q}" is not in ${library.registry(libOptions)} (yet): it reads 0. Check its spelling if it should have jobs`,
            );
          }
        }
        return configured;
      }

      return {
        retrieve(signal) {
          const combined = AbortSignal.any([signal, ctx.signal]);
          return connection.run(combined, async (redis) => {
            const queues = await queuesToRead(redis, combined);
            const nowMs = ctx.clock.now();
            const reading = await library.read(redis, queues, nowMs, libOptions, configured === undefined);
            let value = reading.depth;
            if (rule.metric === "latency") {
              const waited = reading.oldestRunnableMs === null ? 0 : (nowMs - reading.oldestRunnableMs) / 1000;
              value = reading.depth > 0 ? Math.max(waited, MIN_LATENCY) : 0;
            }
            return reading.busy === undefined ? { value } : { value, busy: reading.busy };
          });
        },
        estimateDynos: (value, context) => estimateDynos(rule, value, context),
        close: () => connection.close(),
      };
    },
  });
}
