import { definePlugin, PluginError } from "@dynosaur/core";
import { dynosForTime } from "./estimate.js";
import { drainFeed, type RouterFeed } from "./feed.js";
import { joinListener, listenerFeedKey } from "./listener.js";
import { checkOptions, herokuRouterOptionsSchema } from "./options.js";

export { type DeliveryResult, takeDelivery } from "./delivery.js";
export { dynosForTime } from "./estimate.js";
export {
  drainFeed,
  dropDrainFeed,
  type FeedLimits,
  findDrainFeed,
  percentile,
  RouterFeed,
  type WindowStats,
} from "./feed.js";
export {
  type DrainLine,
  processOf,
  type QueueSample,
  type QueueSummary,
  type RouterRequest,
  readDrainLine,
  readRouterLine,
} from "./lines.js";
export { joinListener, listenerFeedKey } from "./listener.js";
export {
  LOGPLEX_CONTENT_TYPE,
  logplexFrame,
  type ParsedBody,
  parseLogplexBody,
  parseSyslog,
  type SyslogMessage,
} from "./logplex.js";
export { type HerokuRouterOptions, herokuRouterOptionsSchema } from "./options.js";
export { currentPeers, type PeerMinute, peerServicePercentile, withPeers } from "./peers.js";

/** The plugin's `type`. */
export const HEROKU_ROUTER_TYPE = "heroku-router";

/**
 * Scales web dynos on what Heroku's router sees, read from the app's log drain: requests per
 * minute, or a percentile of request queue time (from the app's `dynosaur:queue_time` lines,
 * see @dynosaur/queue-time) or of service time. dynosaur-web feeds each app's source from the
 * app's drain; the CLI can take the drain itself with `listen`.
 */
export default definePlugin({
  type: HEROKU_ROUTER_TYPE,
  // One unit per plugin in the contract: the metric (requests/min or a time in ms) is in the source's options.
  unit: "rpm or ms",
  description:
    "Heroku router log drain: requests/min (ceil(rpm / requests_per_dyno) dynos), or queue/service time p95 against target_ms.",
  options: herokuRouterOptionsSchema,
  create(options, ctx) {
    checkOptions(options);
    const process = options.process ?? "web";
    const { metric, window } = options;
    let feed: RouterFeed | null = options.feed ? drainFeed(options.feed) : null;
    // The listener opens at the first reading, not in create(): `dynosaur check` must not bind ports.
    let listener: Promise<{ leave(): Promise<void> }> | null = null;
    let closed = false;

    const openListener = async (address: string) => {
      listener ??= joinListener(address, options.listen_path ?? null, ctx.clock);
      try {
        await listener;
      } catch (e) {
        listener = null;
        throw new PluginError(`cannot listen for the drain on ${address}: ${(e as Error).message}`, {
          hint: "pick a free port in listen (host:port)",
        });
      }
      feed ??= drainFeed(listenerFeedKey(address));
      return feed;
    };

    return {
      async retrieve(signal) {
        signal.throwIfAborted();
        if (closed) throw new PluginError("the heroku-router source is closed");
        const source = options.listen ? await openListener(options.listen) : feed;
        if (!source) {
          throw new PluginError("no log drain feeds this source", {
            hint:
              "run it in dynosaur-web, which feeds each app's heroku-router sources from the app's drain " +
              "(GET /api/apps/{name}/drain gives the heroku drains:add line), or with the CLI set listen: 127.0.0.1:PORT",
          });
        }
        const now = ctx.clock.now();
        const last = source.lastMessageAt;
        if (last === null || now - last > window * 1000) {
          throw new PluginError(
            last === null
              ? "the log drain has delivered nothing yet"
              : `the log drain has been silent for ${Math.round((now - last) / 1000)} s (window ${window} s)`,
            {
              hint: "check that the drain is added (heroku drains -a <app>) and that the app gets traffic or logs",
            },
          );
        }
        const stats = source.window(now, window, process);
        if (metric === "requests") return stats.requestsPerMinute;
        if (metric === "service_time") {
          // A live drain without router lines is an app without requests: nothing waits on a dyno.
          return source.servicePercentile(now, window, process, options.percentile) ?? 0;
        }
        if (!stats.queue) {
          throw new PluginError(`no queue-time lines from ${process} dynos in the last ${window} s`, {
            hint: "log request queue time from the app: @dynosaur/queue-time for Node, or the Rails/Python snippet in its README",
          });
        }
        return options.percentile === 100
          ? stats.queue.max
          : options.percentile === 50
            ? stats.queue.p50
            : stats.queue.p95;
      },
      estimateDynos(value, context) {
        if (metric === "requests") return Math.max(0, Math.ceil(value / (options.requests_per_dyno as number)));
        return dynosForTime(value, options.target_ms as number, context);
      },
      async close() {
        if (closed) return;
        closed = true;
        const open = listener;
        listener = null;
        if (open) await (await open.catch(() => null))?.leave();
      },
    };
  },
});
