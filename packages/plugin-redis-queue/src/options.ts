import { inputError, z } from "@dynosaur/core";

/** Options every queue library shares. Each library adds its own (e.g. Sidekiq's `namespace`). */
export const commonOptionsShape = {
  url: z
    .string()
    .min(1)
    .describe(
      "Redis URL, e.g. `url: ${REDIS_URL}` (Heroku Redis sets REDIS_URL). `redis://` is plain TCP; `rediss://` is TLS, " +
        "without certificate verification unless `tls_verify: true` (Heroku Redis uses self-signed certificates). " +
        "A path `/N` selects database N. A secret: it never appears in logs or errors.",
    ),
  tls_verify: z
    .boolean()
    .default(false)
    .describe(
      "With a `rediss://` URL, verify the server's certificate. Off by default, as Heroku documents for Heroku Redis's self-signed certificates; turn it on for providers with real certificates.",
    ),
  queues: z
    .array(z.string().min(1))
    .min(1)
    .optional()
    .describe("Names of the queues to read. Default: every queue the library has registered in Redis."),
  metric: z
    .enum(["depth", "latency"])
    .default("depth")
    .describe(
      "`depth`: jobs waiting (plus scheduled and retry jobs already due), needs `jobs_per_dyno`. `latency`: seconds the oldest runnable job has waited, needs `latency_target`.",
    ),
  jobs_per_dyno: z
    .number()
    .positive()
    .optional()
    .describe(
      "With `metric: depth`: waiting jobs one dyno should have in front of it. The estimate is ceil(depth / jobs_per_dyno).",
    ),
  latency_target: z
    .number()
    .positive()
    .optional()
    .describe(
      "With `metric: latency`: seconds a job may wait. Above it: current dynos + 1 (+1 per further latency_target of wait). " +
        "Between latency_low_water and it: hold. Below latency_low_water: one fewer (at least 1 while a job waits; 0 when none waits).",
    ),
  latency_low_water: z
    .number()
    .min(0)
    .optional()
    .describe(
      "With `metric: latency`: seconds below which workers may go down by one. Default: a quarter of latency_target.",
    ),
};

export type CommonOptions = z.output<z.ZodObject<typeof commonOptionsShape>>;

/** How readings turn into dynos, once cross-option rules are checked. */
export type EstimateRule =
  | { metric: "depth"; jobsPerDyno: number }
  | { metric: "latency"; target: number; lowWater: number };

/**
 * Checks what a schema cannot: the option each metric needs, and that a library can measure
 * the metric at all. Throws exit-code-2 input errors naming the option.
 */
export function resolveEstimateRule(
  options: CommonOptions,
  library: { type: string; latency: boolean; latencyRefusal?: string },
): EstimateRule {
  if (options.metric === "depth") {
    if (options.jobs_per_dyno === undefined) {
      throw inputError("DYNO_CONFIG_INVALID", "jobs_per_dyno: required with metric: depth (the default)", {
        path: "jobs_per_dyno",
        hint: "set jobs_per_dyno to the waiting jobs one dyno should take on, e.g. jobs_per_dyno: 50, or set metric: latency with latency_target",
      });
    }
    for (const key of ["latency_target", "latency_low_water"] as const) {
      if (options[key] !== undefined) {
        throw inputError("DYNO_CONFIG_INVALID", `${key}: only used with metric: latency, but metric is depth`, {
          path: key,
          hint: `remove ${key}, or set metric: latency`,
        });
      }
    }
    return { metric: "depth", jobsPerDyno: options.jobs_per_dyno };
  }
  if (!library.latency) {
    throw inputError(
      "DYNO_CONFIG_INVALID",
      `metric: ${library.type} cannot measure latency: ${library.latencyRefusal ?? "its jobs carry no enqueue time"}`,
      {
        path: "metric",
        hint: "use metric: depth with jobs_per_dyno",
      },
    );
  }
  if (options.latency_target === undefined) {
    throw inputError("DYNO_CONFIG_INVALID", "latency_target: required with metric: latency", {
      path: "latency_target",
      hint: "set latency_target to the seconds a job may wait before more workers are started, e.g. latency_target: 30",
    });
  }
  if (options.jobs_per_dyno !== undefined) {
    throw inputError("DYNO_CONFIG_INVALID", "jobs_per_dyno: only used with metric: depth, but metric is latency", {
      path: "jobs_per_dyno",
      hint: "remove jobs_per_dyno, or set metric: depth",
    });
  }
  const lowWater = options.latency_low_water ?? options.latency_target / 4;
  if (lowWater >= options.latency_target) {
    throw inputError(
      "DYNO_CONFIG_INVALID",
      `latency_low_water: ${lowWater} must be below latency_target (${options.latency_target})`,
      {
        path: "latency_low_water",
        hint: "leave it out (a quarter of latency_target) or lower it",
      },
    );
  }
  return { metric: "latency", target: options.latency_target, lowWater };
}

/** Where to connect, from a Redis URL. `display` is safe to print: no user, no password. */
export interface RedisTarget {
  host: string;
  port: number;
  tls: boolean;
  database: number;
  username: string | undefined;
  password: string | undefined;
  display: string;
}

/**
 * Parses a `redis://` or `rediss://` URL. Errors never echo the URL: it may hold a password.
 */
export function parseRedisUrl(url: string): RedisTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw inputError("DYNO_CONFIG_INVALID", "url: not a URL (its value is not shown: it may hold a password)", {
      path: "url",
      hint: "write url: ${REDIS_URL}, or a URL like redis://:PASSWORD@HOST:PORT or rediss://... for TLS",
    });
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw inputError("DYNO_CONFIG_INVALID", `url: expected a redis:// or rediss:// URL, got ${parsed.protocol}//...`, {
      path: "url",
      hint: "Heroku Redis's REDIS_URL is redis:// or rediss://; a unix socket is not supported",
    });
  }
  if (parsed.hostname === "") {
    throw inputError("DYNO_CONFIG_INVALID", "url: the URL names no host", {
      path: "url",
      hint: "write it as redis://:PASSWORD@HOST:PORT",
    });
  }
  const path = parsed.pathname.replace(/^\//, "");
  const database = path === "" ? 0 : Number(path);
  if (!/^\d*$/.test(path) || !Number.isSafeInteger(database)) {
    throw inputError("DYNO_CONFIG_INVALID", "url: the path must be a database number, e.g. redis://HOST:6379/0", {
      path: "url",
    });
  }
  const tls = parsed.protocol === "rediss:";
  const port = parsed.port === "" ? 6379 : Number(parsed.port);
  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  const decode = (s: string) => (s === "" ? undefined : decodeURIComponent(s));
  return {
    host,
    port,
    tls,
    database,
    username: decode(parsed.username),
    password: decode(parsed.password),
    display: `${tls ? "rediss" : "redis"}://${parsed.host}/${database}`,
  };
}
