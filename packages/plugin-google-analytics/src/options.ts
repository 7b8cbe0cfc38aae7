import { z } from "@dynosaur/core";

/** Google's Analytics Data API. */
export const DEFAULT_API_ROOT = "https://analyticsdata.googleapis.com";
/** Google's OAuth 2.0 token endpoint (also the audience every service-account assertion must name). */
export const DEFAULT_TOKEN_URL = "https://oauth2.googleapis.com/token";
/** Realtime reports are metered per property: polling faster than this burns the realtime quota. */
export const MIN_INTERVAL_SECONDS = 10;
/** A standard GA4 property can look back 30 minutes in a realtime report. */
export const MAX_MINUTES = 30;

const UNIVERSAL_ANALYTICS_GONE =
  "analytics_view_id is a Universal Analytics view id, and Universal Analytics no longer serves data " +
  "(standard properties stopped in July 2023, Analytics 360 in July 2024). Create or find the GA4 property, " +
  "set property_id to its numeric id (Admin > Property settings), remove analytics_view_id, and add the " +
  "service account's email as a Viewer of the property (Admin > Property access management).";

/** Why a property id is not one, or undefined when it is. */
export function propertyIdProblem(value: number | string): string | undefined {
  const text = String(value).trim();
  if (/^(properties\/)?\d+$/.test(text) && !/^(properties\/)?0+$/.test(text)) return undefined;
  if (/^G-/i.test(text)) {
    return `property_id "${text}" is a measurement id (of a web data stream), not a property id: use the numeric id shown in Admin > Property settings, e.g. 123456789`;
  }
  if (/^UA-/i.test(text)) {
    return `property_id "${text}" is a Universal Analytics id; Universal Analytics is gone. Use the numeric id of the GA4 property, shown in Admin > Property settings`;
  }
  return `property_id must be the numeric id of the GA4 property (Admin > Property settings), e.g. 123456789; got "${text}"`;
}

/** `123`, `"123"` or `"properties/123"` → `"123"`. */
export function normalizePropertyId(value: number | string): string {
  return String(value)
    .trim()
    .replace(/^properties\//, "");
}

export const optionsSchema = z.object({
  /**
   * The numeric id of the GA4 property (Admin > Property settings), e.g. `123456789`.
   * `properties/123456789` is accepted too.
   */
  property_id: z
    .union([z.number(), z.string()], {
      error: (issue) =>
        issue.input === undefined
          ? "property_id is required: the numeric id of the GA4 property (Admin > Property settings)"
          : "property_id must be a number such as 123456789",
    })
    .superRefine((value, ctx) => {
      const problem = propertyIdProblem(value);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .describe("Numeric id of the GA4 property (Admin > Property settings), e.g. 123456789."),

  /**
   * The service account's email (`name@project.iam.gserviceaccount.com`). Required with `key`;
   * with `key_file` it is read from the file.
   */
  client_email: z
    .string()
    .trim()
    .min(1)
    .optional()
    .describe(
      "Service account email (name@project.iam.gserviceaccount.com). Required with key; read from key_file otherwise.",
    ),

  /**
   * The service account's PEM private key (the `private_key` of its JSON key file), usually
   * `${GA_PRIVATE_KEY}`. Newlines may arrive as real newlines, as `\n` or as `|`.
   */
  key: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Service account PEM private key (private_key of the JSON key file); newlines may be written as \\n or |.",
    ),

  /**
   * Path to the service account's JSON key file, instead of `client_email` + `key`.
   * A relative path is resolved from the directory the process runs in (its cwd).
   */
  key_file: z
    .string()
    .trim()
    .min(1)
    .optional()
    .describe(
      "Path to the service account's JSON key file (instead of client_email + key); relative to the process's working directory.",
    ),

  /** Active users one dyno can serve; the estimate is `ceil(active users / users_per_dyno)`. */
  users_per_dyno: z
    .number({
      error: (issue) =>
        issue.input === undefined ? "users_per_dyno is required: how many active users one dyno serves" : undefined,
    })
    .positive()
    .describe("Active users one dyno serves; estimate = ceil(active users / users_per_dyno)."),

  /**
   * How far back the realtime report counts active users, in minutes (the last `minutes` minutes,
   * up to now). Standard GA4 properties allow at most 30.
   * @default 5
   */
  minutes: z
    .number()
    .int()
    .min(1)
    .max(MAX_MINUTES, {
      error: `minutes can be at most ${MAX_MINUTES}: realtime reports of standard GA4 properties look back 30 minutes`,
    })
    .default(5)
    .describe("Realtime window: count users active in the last N minutes (1..30)."),

  /**
   * Seconds between two reports. At least 10: each realtime report spends the property's realtime quota.
   * @default 60
   */
  interval: z
    .number()
    .min(MIN_INTERVAL_SECONDS, {
      error: `interval must be at least ${MIN_INTERVAL_SECONDS} seconds: every poll spends the GA4 property's realtime request quota, and polling faster would exhaust it`,
    })
    .default(60)
    .describe("Seconds between two realtime reports (>= 10, the realtime quota)."),

  /**
   * Root URL of the Analytics Data API, for a proxy or a test server; a path prefix is kept.
   * @default "https://analyticsdata.googleapis.com"
   */
  api_root: z
    .url({ protocol: /^https?$/, error: "api_root must be an http(s) URL" })
    .default(DEFAULT_API_ROOT)
    .describe("Root URL of the Analytics Data API (for a proxy or a test server)."),

  /**
   * URL of the OAuth 2.0 token endpoint, for a proxy or a test server. The signed assertion still
   * names Google's endpoint as its audience, as Google requires.
   * @default "https://oauth2.googleapis.com/token"
   */
  token_url: z
    .url({ protocol: /^https?$/, error: "token_url must be an http(s) URL" })
    .default(DEFAULT_TOKEN_URL)
    .describe("URL of the OAuth 2.0 token endpoint (for a proxy or a test server)."),

  /**
   * Removed: the seed's Universal Analytics view id. Declared only so a seed-era config gets an
   * error that says what to write instead of "unknown key".
   * @deprecated Use `property_id`.
   */
  analytics_view_id: z
    .unknown()
    .optional()
    .refine((value) => value === undefined, { error: UNIVERSAL_ANALYTICS_GONE })
    .describe("Removed (Universal Analytics is gone): use property_id."),
});

export type GoogleAnalyticsOptions = z.output<typeof optionsSchema>;

export { UNIVERSAL_ANALYTICS_GONE };
