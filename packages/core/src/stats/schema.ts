import { z } from "zod";

/** Seconds an HTTP reporter waits for its endpoint before giving up on a tick. */
const timeout = z
  .number()
  .positive()
  .max(120)
  .default(10)
  .describe("Seconds to wait for the endpoint before a tick's figures are given up (and logged).");

/**
 * The seed's reporter. Librato (later SolarWinds AppOptics) reached end of service in
 * January 2026: prefer `otlp`.
 */
export const libratoStatsSchema = z
  .object({
    type: z
      .literal("librato")
      .describe("The seed's Librato reporter (Librato reached end of service in January 2026: prefer `otlp`)."),
    /** Librato account email (the user of basic auth). */
    email: z.string().min(1).describe("Librato account email (basic auth user)."),
    /** Librato API token (basic auth password). Write `${LIBRATO_API_KEY}`, never the token itself. */
    api_key: z
      .string()
      .min(1)
      .describe("Librato API token; keep it in the environment and reference it from the config."),
    /**
     * Base URL of the Librato metrics API; `/v1/metrics` is appended.
     * @default "https://metrics-api.librato.com"
     */
    endpoint: z.url().default("https://metrics-api.librato.com").describe("Base URL of the Librato API."),
    /**
     * Seconds to wait for Librato before a tick's figures are given up.
     * @default 10
     */
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
    /**
     * Base URL of the OTLP/HTTP receiver, like `OTEL_EXPORTER_OTLP_ENDPOINT`: `/v1/metrics` is
     * appended unless the URL already ends with it. Wins over the environment.
     * @default $OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, else $OTEL_EXPORTER_OTLP_ENDPOINT + "/v1/metrics", else "http://localhost:4318/v1/metrics"
     */
    endpoint: z
      .url()
      .optional()
      .describe("Base URL of the OTLP/HTTP receiver; defaults to OTEL_EXPORTER_OTLP_(METRICS_)ENDPOINT."),
    /**
     * Extra request headers (e.g. an API key header your backend wants). Added to those of
     * `OTEL_EXPORTER_OTLP_HEADERS` / `OTEL_EXPORTER_OTLP_METRICS_HEADERS`; a header named in both
     * takes this value. Use `${VAR}` for secrets.
     * @default {}
     */
    headers: z
      .record(z.string(), z.string())
      .optional()
      .describe("Extra request headers; win over OTEL_EXPORTER_OTLP_(METRICS_)HEADERS."),
    /**
     * Seconds to wait for the receiver before a tick's figures are given up.
     * @default 10
     */
    timeout,
  })
  .strict();

/** One line per tick, for a terminal or a log drain. */
export const consoleStatsSchema = z
  .object({
    type: z.literal("console").describe("One line per tick, through the logger or on standard output."),
    /**
     * Where the line goes: `log` (the logger, at info level, with the figures as fields) or
     * `stdout` (plain text, whatever the log level).
     * @default "log"
     */
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
    /**
     * Path of the CSV file, relative to the working directory. Rows are appended; a header
     * is written when the file is new.
     * @default "stats.csv"
     */
    path: z.string().min(1).default("stats.csv").describe("CSV file the rows are appended to."),
  })
  .strict();

/** One entry of `stats:`. */
export const statsReporterConfigSchema = z.discriminatedUnion("type", [
  libratoStatsSchema,
  otlpStatsSchema,
  consoleStatsSchema,
  fileStatsSchema,
]);

/**
 * `stats:` in the config: the reporters every tick's figures go to.
 * @default []
 */
export const statsConfigSchema = z.array(statsReporterConfigSchema).default([]);

export type StatsReporterConfig = z.output<typeof statsReporterConfigSchema>;
export type StatsReporterConfigInput = z.input<typeof statsReporterConfigSchema>;
export type LibratoStatsConfig = z.output<typeof libratoStatsSchema>;
export type OtlpStatsConfig = z.output<typeof otlpStatsSchema>;
export type ConsoleStatsConfig = z.output<typeof consoleStatsSchema>;
export type FileStatsConfig = z.output<typeof fileStatsSchema>;
