import { inputError, z } from "@dynosaur/core";

export const herokuRouterOptionsSchema = z.object({
  metric: z
    .enum(["requests", "queue_time", "service_time"])
    .default("requests")
    .describe(
      "What to scale on: `requests` (router requests per minute, with `requests_per_dyno`), `queue_time` " +
        "(how long requests waited for a dyno, from the app's `dynosaur:queue_time` or HireFire lines) or " +
        "`service_time` (how long dynos took to answer, from the router), both with `target_ms`.",
    ),
  requests_per_dyno: z
    .number()
    .positive()
    .optional()
    .describe("With `metric: requests`: requests per minute one dyno handles; the estimate is ceil(rpm / this)."),
  target_ms: z
    .number()
    .positive()
    .optional()
    .describe(
      "With `metric: queue_time` or `service_time`: the time (ms) to keep the percentile under. Above it: dynos " +
        "in proportion (current x time / target). Between half of it and it: no change. Under half of it: one fewer.",
    ),
  percentile: z
    .number()
    .min(1)
    .max(100)
    .default(95)
    .describe(
      "With a time metric: which percentile of the window to read. `queue_time` reads the app's summaries, which " +
        "carry 50, 95 and 100 (the max) only.",
    ),
  window: z
    .number()
    .int()
    .min(10)
    .max(900)
    .default(60)
    .describe(
      "Seconds of drain lines one reading covers. With no line from the drain for this long, the reading fails " +
        "(stale), so silence never scales down.",
    ),
  feed: z
    .string()
    .min(1)
    .optional()
    .describe("The drain feed to read, by name. dynosaur-web sets it to the app's own drain; leave it out there."),
  listen: z
    .string()
    .regex(/^[^:\s]+:\d{1,5}$/, "expected host:port, e.g. 127.0.0.1:8514")
    .optional()
    .describe(
      "With the CLI: host:port of a small HTTP listener that takes the Logplex drain (POST /<drain_token_path>). " +
        "Put it behind an HTTPS proxy; dynosaur-web needs none of this.",
    ),
  listen_path: z
    .string()
    .regex(/^\/\S*$/, "expected a path starting with /")
    .optional()
    .describe(
      "With `listen`: the only path the listener takes deliveries on; make it long and random, it is the drain's " +
        "password. Default: any path.",
    ),
});

export type HerokuRouterOptions = z.output<typeof herokuRouterOptionsSchema>;

/** Checks what the schema cannot: the per-metric options. Throws exit-code-2 input errors naming them. */
export function checkOptions(options: HerokuRouterOptions): void {
  if (options.listen !== undefined && options.feed !== undefined)
    throw inputError("DYNO_CONFIG_INVALID", "listen and feed are alternatives: give one", {
      path: "listen",
      hint: "with the CLI keep listen; under dynosaur-web remove both",
    });
  if (options.metric === "requests") {
    if (options.requests_per_dyno === undefined)
      throw inputError("DYNO_CONFIG_INVALID", "requests_per_dyno: required with metric: requests", {
        path: "requests_per_dyno",
        hint: "set requests_per_dyno to the requests per minute one dyno handles, e.g. 600",
      });
    return;
  }
  if (options.target_ms === undefined)
    throw inputError("DYNO_CONFIG_INVALID", `target_ms: required with metric: ${options.metric}`, {
      path: "target_ms",
      hint: `set target_ms to the ${options.metric === "queue_time" ? "queue" : "service"} time (ms) to stay under, e.g. ${options.metric === "queue_time" ? 50 : 500}`,
    });
  if (options.metric === "queue_time" && ![50, 95, 100].includes(options.percentile))
    throw inputError(
      "DYNO_CONFIG_INVALID",
      `percentile: queue_time reads the app's summaries, which carry p50, p95 and the max only, not p${options.percentile}`,
      { path: "percentile", hint: "set percentile to 50, 95 or 100 (the max)" },
    );
}
