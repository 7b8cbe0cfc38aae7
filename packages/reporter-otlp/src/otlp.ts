import { HttpFailure, type Logger, quoteBody, type StatsReporter, safeOrigin, type TickReport } from "@dynosaur/core";
import type { Attributes, Gauge } from "@opentelemetry/api";
import type { ResourceMetrics } from "@opentelemetry/sdk-metrics";

export interface OtlpReporterOptions {
  /** Base URL of the OTLP/HTTP receiver; `/v1/metrics` is appended unless present. Wins over the environment. */
  endpoint?: string;
  /** Extra headers; win over those of the environment. */
  headers?: Record<string, string>;
  /** Seconds to wait for the receiver. @default 10 */
  timeout?: number;
}

export interface OtlpTarget {
  url: string;
  headers: Record<string, string>;
}

const DEFAULT_URL = "http://localhost:4318/v1/metrics";
const SIGNAL_PATH = "v1/metrics";

/**
 * Where the figures go, resolved as the OpenTelemetry exporter specification says, but from
 * the given `env` rather than `process.env` (so embedders and tests choose it): the `endpoint`
 * option, else `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` as is, else `OTEL_EXPORTER_OTLP_ENDPOINT`
 * plus `/v1/metrics`, else `http://localhost:4318/v1/metrics`. Headers merge
 * `OTEL_EXPORTER_OTLP_HEADERS`, then `OTEL_EXPORTER_OTLP_METRICS_HEADERS`, then the `headers` option.
 */
export function resolveOtlpTarget(options: OtlpReporterOptions, env: Record<string, string | undefined>): OtlpTarget {
  const specific = nonEmpty(env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT);
  const general = nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const url = options.endpoint
    ? withSignalPath(options.endpoint)
    : specific
      ? specific
      : general
        ? `${general.replace(/\/+$/, "")}/${SIGNAL_PATH}`
        : DEFAULT_URL;
  const headers = {
    ...parseKeyValueList(env.OTEL_EXPORTER_OTLP_HEADERS),
    ...parseKeyValueList(env.OTEL_EXPORTER_OTLP_METRICS_HEADERS),
    ...options.headers,
  };
  return { url, headers };
}

function withSignalPath(endpoint: string): string {
  const trimmed = endpoint.replace(/\/+$/, "");
  return trimmed.endsWith(`/${SIGNAL_PATH}`) ? trimmed : `${trimmed}/${SIGNAL_PATH}`;
}

function nonEmpty(v: string | undefined): string | undefined {
  const t = v?.trim();
  return t ? t : undefined;
}

/** `k1=v1,k2=v2` with percent-encoded values: the format of `OTEL_EXPORTER_OTLP_HEADERS` and `OTEL_RESOURCE_ATTRIBUTES`. */
export function parseKeyValueList(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw) return out;
  for (const pair of raw.split(",")) {
    const at = pair.indexOf("=");
    if (at <= 0) continue;
    const key = pair.slice(0, at).trim();
    const value = pair.slice(at + 1).trim();
    if (!key) continue;
    try {
      out[key] = decodeURIComponent(value);
    } catch {
      out[key] = value;
    }
  }
  return out;
}

/**
 * Sends each tick's figures as OpenTelemetry gauges over OTLP/HTTP (JSON), with the
 * OpenTelemetry JS SDK. The SDK is imported here, when an `otlp` reporter is configured, so
 * nobody else pays for loading it. Metrics (all gauges, scope `dynosaur`):
 *
 * - `dynosaur.value{app, process_type, source, unit}`: the source's reading
 * - `dynosaur.estimate{app, process_type, source}`: dynos the source asks for
 * - `dynosaur.combined.estimate{app, process_type}`: the combined estimate after clamping
 * - `dynosaur.actual{app, process_type}`: dynos asked of Heroku after the tick
 *
 * The resource carries `service.name` (`OTEL_SERVICE_NAME`, default `dynosaur`) and the
 * attributes of `OTEL_RESOURCE_ATTRIBUTES`. Every tick is collected and exported at once (no
 * periodic reader), so a figure is never dropped between two export intervals; a failed
 * export rejects `report()` with a secret-free message.
 *
 * The SDK sends through Node's own http/https modules, not the undici dispatcher: proxies set
 * on the dispatcher do not apply to it.
 */
export async function createOtlpReporter(
  options: OtlpReporterOptions,
  deps: { app: string; env: Record<string, string | undefined>; logger: Logger; name?: string },
): Promise<StatsReporter> {
  const [sdk, { OTLPMetricExporter }, { resourceFromAttributes }] = await Promise.all([
    import("@opentelemetry/sdk-metrics"),
    import("@opentelemetry/exporter-metrics-otlp-http"),
    import("@opentelemetry/resources"),
  ]);

  const target = resolveOtlpTarget(options, deps.env);
  const secrets = Object.values(target.headers);
  const timeoutMs = (options.timeout ?? 10) * 1000;

  deps.logger.info(`otlp: sending metrics to ${safeOrigin(target.url)}${safePath(target.url)}`, {
    headers: Object.keys(target.headers),
  });

  const protocol =
    nonEmpty(deps.env.OTEL_EXPORTER_OTLP_METRICS_PROTOCOL) ?? nonEmpty(deps.env.OTEL_EXPORTER_OTLP_PROTOCOL);
  if (protocol && protocol !== "http/json") {
    deps.logger.warn(
      `OTEL_EXPORTER_OTLP_PROTOCOL=${protocol} is not supported by the otlp reporter; it sends http/json`,
      {
        hint: "point it at an OTLP/HTTP receiver (port 4318 on a collector) or unset the variable",
      },
    );
  }

  // Gauges carry no temporality on the wire; delta makes a collection hold only what was
  // recorded since the previous one, so a source without a reading this tick sends nothing
  // instead of repeating its last value.
  class TickReader extends sdk.MetricReader {
    constructor() {
      super({ aggregationTemporalitySelector: () => sdk.AggregationTemporality.DELTA });
    }
    protected override async onForceFlush(): Promise<void> {}
    protected override async onShutdown(): Promise<void> {}
  }

  const reader = new TickReader();
  const exporter = new OTLPMetricExporter({ url: target.url, headers: target.headers, timeoutMillis: timeoutMs });
  const provider = new sdk.MeterProvider({
    resource: resourceFromAttributes({
      ...parseKeyValueList(deps.env.OTEL_RESOURCE_ATTRIBUTES),
      "service.name": nonEmpty(deps.env.OTEL_SERVICE_NAME) ?? "dynosaur",
    }),
    readers: [reader],
  });
  const meter = provider.getMeter("dynosaur");
  const gauges = {
    value: meter.createGauge("dynosaur.value", { description: "A source's reading (in the source's own unit)" }),
    estimate: meter.createGauge("dynosaur.estimate", { description: "Dynos a source asks for", unit: "{dyno}" }),
    combined: meter.createGauge("dynosaur.combined.estimate", {
      description: "Combined estimate after clamping to [min, max]",
      unit: "{dyno}",
    }),
    actual: meter.createGauge("dynosaur.actual", {
      description: "Dynos asked of Heroku after the tick",
      unit: "{dyno}",
    }),
  };

  // Recording and collecting one tick must not interleave with the next tick's recording,
  // or a slow collection would carry the wrong tick's figures.
  let collecting: Promise<unknown> = Promise.resolve();
  const pending = new Set<Promise<void>>();
  let closed = false;

  const exportOnce = (metrics: ResourceMetrics) =>
    new Promise<void>((resolve, reject) => {
      exporter.export(metrics, (result) => {
        if (result.code === 0) resolve();
        else reject(exportFailure(result.error, target.url, secrets));
      });
    });

  const report = async (tick: TickReport) => {
    if (closed) throw new Error("the otlp reporter is closed");
    const collected = collecting.then(async () => {
      record(gauges, deps.app, tick);
      return reader.collect();
    });
    collecting = collected.catch(() => {});
    const { resourceMetrics, errors } = await collected;
    if (errors.length > 0)
      throw new Error(`OpenTelemetry could not collect the figures: ${errors.map(String).join("; ")}`);
    if (resourceMetrics.scopeMetrics.every((s) => s.metrics.every((m) => m.dataPoints.length === 0))) return;
    await exportOnce(resourceMetrics);
  };

  return {
    name: deps.name ?? "otlp",
    report(tick) {
      const done = report(tick);
      const tracked = done.catch(() => {});
      pending.add(tracked);
      void tracked.finally(() => pending.delete(tracked));
      return done;
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled([...pending]);
      await exporter.shutdown().catch(() => {});
      await provider.shutdown().catch(() => {});
    },
  };
}

/** The path of a URL (user info, query and fragment left out: they may hold credentials). */
function safePath(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return "";
  }
}

function record(
  gauges: Record<"value" | "estimate" | "combined" | "actual", Gauge>,
  app: string,
  tick: TickReport,
): void {
  const put = (gauge: Gauge, value: number | null, attributes: Attributes) => {
    if (value !== null && Number.isFinite(value)) gauge.record(value, attributes);
  };
  // process_type tells web's combined figures from worker's: each has its own report per tick.
  const process_type = tick.processType;
  for (const s of tick.sources) {
    put(gauges.value, s.value, { app, process_type, source: s.name, unit: s.unit });
    put(gauges.estimate, s.estimate, { app, process_type, source: s.name });
  }
  put(gauges.combined, tick.estimate, { app, process_type });
  put(gauges.actual, tick.after, { app, process_type });
}

/** The SDK's error carries the status and the receiver's body; neither may leak a header value. */
function exportFailure(error: Error | undefined, url: string, secrets: string[]): HttpFailure {
  const where = safeOrigin(url);
  const e = error as (Error & { code?: unknown; data?: unknown }) | undefined;
  if (e && typeof e.code === "number") {
    const body = typeof e.data === "string" ? quoteBody(e.data, secrets) : "";
    const hint = e.code === 401 || e.code === 403 ? " (check the otlp headers / OTEL_EXPORTER_OTLP_HEADERS)" : "";
    return new HttpFailure(
      `OTLP receiver at ${where} answered HTTP ${e.code}${body ? `: ${body}` : ""}${hint}`,
      e.code,
    );
  }
  return new HttpFailure(`OTLP export to ${where} failed: ${quoteBody(e?.message ?? "unknown error", secrets)}`, null);
}
