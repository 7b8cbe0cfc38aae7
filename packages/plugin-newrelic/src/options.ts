import { inputError, z } from "@dynosaur/core";
import { type AppSelector, throughputQuery } from "./nrql.js";

/** NerdGraph's endpoint in each New Relic data center. */
export const REGION_ENDPOINTS = {
  us: "https://api.newrelic.com/graphql",
  eu: "https://api.eu.newrelic.com/graphql",
} as const;

// Env-substituted values (`${NEW_RELIC_ACCOUNT_ID}`) arrive as strings: accept digits too.
const numericId = z.union([z.number().int().positive(), z.string().regex(/^\d+$/, "expected a number")]);

export const newRelicOptionsSchema = z.object({
  /**
   * A New Relic **User** key (starts with `NRAK-`). License/ingest keys and the old REST API
   * keys do not work with NerdGraph. Keep it in the environment: `api_key: ${NEW_RELIC_API_KEY}`.
   * Required (or its seed-era name `key`).
   */
  api_key: z.string().min(1).optional(),
  /** Seed-era name of `api_key`. */
  key: z.string().min(1).optional(),
  /** The id of the New Relic account the app reports to (a number). */
  account_id: numericId,
  /**
   * The data center of the account: `us` (api.newrelic.com) or `eu` (api.eu.newrelic.com).
   * @default "us"
   */
  region: z.enum(["us", "eu"]).default("us"),
  /**
   * NerdGraph URL; overrides the one `region` selects (for proxies and tests).
   * @default the region's endpoint
   */
  endpoint: z.url().optional(),
  /** `appName` of the APM app whose web throughput to read. One of `app_name`, `app_id`, `nrql`. */
  app_name: z.string().min(1).optional(),
  /** `appId` of the APM app whose web throughput to read. One of `app_name`, `app_id`, `nrql`. */
  app_id: numericId.optional(),
  /** Seed-era name of `app_id`. */
  appid: numericId.optional(),
  /**
   * Your own NRQL query returning one number (requests per minute). Give it an explicit
   * `SINCE`: NRQL otherwise reads the last 30 minutes. One of `app_name`, `app_id`, `nrql`.
   */
  nrql: z.string().min(1).optional(),
  /**
   * Minutes of traffic the default query averages (its `SINCE ... minutes ago`).
   * Ignored with `nrql`.
   * @default 5
   */
  window_minutes: z.number().int().min(1).max(60).default(5),
  /** Requests per minute one dyno handles: the estimate is `ceil(rpm / rpm_per_dyno)`. */
  rpm_per_dyno: z.number().positive(),
});

export type NewRelicOptions = z.output<typeof newRelicOptionsSchema>;

/** What the plugin needs, once aliases are resolved and cross-option rules checked. */
export interface ResolvedOptions {
  apiKey: string;
  accountId: number;
  endpoint: URL;
  /** The NRQL run at each poll. */
  nrql: string;
  /** The app the default query reads; undefined for a custom `nrql`. */
  app: AppSelector | undefined;
  rpmPerDyno: number;
}

const MAX_GRAPHQL_INT = 2 ** 31 - 1;

/**
 * Checks what the schema cannot (one of app_name/app_id/nrql, old and new names not both
 * given) and resolves the seed-era names. Throws exit-code-2 input errors naming the options.
 */
export function resolveOptions(options: NewRelicOptions): ResolvedOptions {
  const apiKey = pick(options, "api_key", "key");
  if (apiKey === undefined) {
    throw inputError("DYNO_CONFIG_INVALID", "api_key: required (a New Relic User key)", {
      path: "api_key",
      hint: `create a User key (NRAK-...) under API keys in New Relic and set "api_key: \${NEW_RELIC_API_KEY}"`,
    });
  }
  const appIdRaw = pick(options, "app_id", "appid");
  const given = [
    options.app_name !== undefined && "app_name",
    appIdRaw !== undefined && "app_id",
    options.nrql !== undefined && "nrql",
  ].filter((x): x is string => x !== false);
  if (given.length !== 1) {
    throw inputError(
      "DYNO_CONFIG_INVALID",
      given.length === 0
        ? "one of app_name, app_id or nrql is required: which New Relic data to read"
        : `app_name, app_id and nrql are alternatives, but ${given.join(" and ")} are all set`,
      {
        path: given[1] ?? "app_name",
        hint: "set app_name (the APM app's name) or app_id, or nrql for a query of your own returning one number",
      },
    );
  }

  const accountId = toId(options.account_id, "account_id");
  const app: AppSelector | undefined =
    options.app_name !== undefined
      ? { name: options.app_name }
      : appIdRaw !== undefined
        ? { id: toId(appIdRaw, "app_id") }
        : undefined;
  const nrql = app ? throughputQuery(app, options.window_minutes) : (options.nrql as string);

  const endpoint = new URL(options.endpoint ?? REGION_ENDPOINTS[options.region]);
  if (endpoint.protocol !== "https:" && endpoint.protocol !== "http:") {
    throw inputError("DYNO_CONFIG_INVALID", `endpoint: expected an http(s) URL, got ${endpoint.protocol}`, {
      path: "endpoint",
    });
  }
  return { apiKey, accountId, endpoint, nrql, app, rpmPerDyno: options.rpm_per_dyno };
}

/** The value of `name` or of its seed-era alias; both at once is an error. */
function pick<K extends keyof NewRelicOptions, A extends keyof NewRelicOptions>(
  options: NewRelicOptions,
  name: K,
  alias: A,
) {
  const value = options[name] as NewRelicOptions[K] | NewRelicOptions[A];
  if (value !== undefined && options[alias] !== undefined) {
    throw inputError("DYNO_CONFIG_INVALID", `${alias} is the seed-era name of ${name}: give only one of them`, {
      path: alias,
      hint: `remove ${alias} and keep ${name}`,
    });
  }
  return value ?? options[alias];
}

function toId(value: number | string, path: string): number {
  const n = typeof value === "number" ? value : Number(value);
  // NerdGraph's Int is 32-bit: a larger number cannot be an id and would be refused anyway.
  if (!Number.isSafeInteger(n) || n <= 0 || n > MAX_GRAPHQL_INT) {
    throw inputError(
      "DYNO_CONFIG_INVALID",
      `${path}: expected a positive whole number up to ${MAX_GRAPHQL_INT}, got ${value}`,
      { path },
    );
  }
  return n;
}
