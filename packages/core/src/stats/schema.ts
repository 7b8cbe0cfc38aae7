import { z } from "zod";

/** Seconds an HTTP reporter waits for its endpoint before giving up on a tick. */
const timeout = z
  .number()
  .positive()
  .max(120)
  .default(10)
  .describe("Seconds to wait for the endpoint before a tick's figures are given up (and logged).");

/** The seed's reporter. Librato (later SolarWinds AppOptics) reached end of service in January 2026. */
export const libratoStatsSchema = z
  .object({
    type: z
      .literal("librato")
      .describe("The seed's Librato reporter (Librato reached end of service in January 2026: prefer `otlp`)."),
    email: z.string().min(1).describe("Librato account email (basic auth user)."),
    api_key: z
      .string()
      .min(1)
      .describe("Librato API token; keep it in the environment and reference it from the config."),
    endpoint: z
      .url()
      .default("https://metrics-api.librato.com")
      .describe("Base URL of the Librato API; `/v1/metrics` is appended."),
    timeout,
  })
  .strict();

/**
 * OpenTelemetry metrics over OTLP/HTTP (JSON), to a collector or any OTLP-speaking backend.
 * Sent by the package `@dynosaur/reporter-otlp` (so the SDK is installed only by who uses it);
 * the entry's schema stays here so a config is checked, and described, without it.
 */
export const otlpStatsSchema = z
  .object({
    type: z.literal("otlp").describe("OpenTelemetry metrics over OTLP/HTTP (JSON), to a collector or an OTLP backend."),
    // Like OTEL_EXPORTER_OTLP_ENDPOINT: `/v1/metrics` is appended unless the URL ends with it. Without
    // it: OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT + /v1/metrics, else localhost:4318.
    endpoint: z
      .url()
      .optional()
      .describe("Base URL of the OTLP/HTTP receiver; defaults to OTEL_EXPORTER_OTLP_(METRICS_)ENDPOINT."),
    headers: z
      .record(z.string(), z.string())
      .optional()
      .describe("Extra request headers (use ${VAR} for secrets); win over OTEL_EXPORTER_OTLP_(METRICS_)HEADERS."),
    timeout,
  })
  .strict();

/** One line per tick, for a terminal or a log drain. */
export const consoleStatsSchema = z
  .object({
    type: z.literal("console").describe("One line per tick, through the logger or on standard output."),
    output: z
      .enum(["log", "stdout"])
      .default("log")
      .describe("`log`: through the logger; `stdout`: plain lines on standard output."),
  })
  .strict();

/** CSV rows, one per tick (the seed's dry-run `stats.txt`). */
export const fileStatsSchema = z
  .object({
    type: z.literal("file").describe("CSV rows, one per tick, appended to a file."),
    path: z
      .string()
      .min(1)
      .default("stats.csv")
      .describe("CSV file the rows are appended to (relative to the working directory); a header starts a new file."),
  })
  .strict();

/** One entry of `stats:`. */
export const statsReporterConfigSchema = z.discriminatedUnion("type", [
  libratoStatsSchema,
  otlpStatsSchema,
  consoleStatsSchema,
  fileStatsSchema,
]);

/** `stats:` in the config: the reporters every tick's figures go to. */
export const statsConfigSchema = z.array(statsReporterConfigSchema).default([]);

export type StatsReporterConfig = z.output<typeof statsReporterConfigSchema>;
export type StatsReporterConfigInput = z.input<typeof statsReporterConfigSchema>;
