/**
 * A loopback OTLP/HTTP metrics receiver speaking the JSON encoding, as a collector's `otlp`
 * receiver does: `POST /v1/metrics` only (404 elsewhere, 405 for other methods),
 * `Content-Type: application/json` (415 otherwise; this fake does not take protobuf), a body
 * that decodes as an `ExportMetricsServiceRequest` (400 with a `google.rpc.Status` JSON body
 * otherwise), and, when `requiredHeaders` is given, those exact header values (401). Accepted
 * exports answer 200 with an empty `ExportMetricsServiceResponse` and are kept decoded.
 */
import { createServer, type IncomingMessage } from "node:http";
import { listenOnLoopback, readBody, sendJson } from "./http.js";

/** An OTLP `AnyValue` in its JSON form. */
export interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
}

export interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}

export interface OtlpNumberDataPoint {
  attributes?: OtlpKeyValue[];
  timeUnixNano: string | number;
  startTimeUnixNano?: string | number;
  asDouble?: number;
  asInt?: number | string;
}

export interface OtlpMetric {
  name: string;
  description?: string;
  unit?: string;
  gauge?: { dataPoints: OtlpNumberDataPoint[] };
  sum?: { dataPoints: OtlpNumberDataPoint[]; aggregationTemporality?: number; isMonotonic?: boolean };
}

export interface OtlpExportRequest {
  resourceMetrics: {
    resource?: { attributes?: OtlpKeyValue[] };
    scopeMetrics: { scope?: { name?: string; version?: string }; metrics: OtlpMetric[] }[];
  }[];
}

/** One data point, flattened for assertions. */
export interface OtlpPoint {
  metric: string;
  kind: "gauge" | "sum";
  unit: string | undefined;
  value: number;
  attributes: Record<string, string | number | boolean>;
  resource: Record<string, string | number | boolean>;
  scope: string | undefined;
}

export interface OtlpReceived {
  headers: IncomingMessage["headers"];
  body: OtlpExportRequest;
  points: OtlpPoint[];
}

export interface OtlpReceiver {
  /** Base URL, e.g. `http://127.0.0.1:1234` (the metrics path is `/v1/metrics` under it). */
  url: string;
  /** Accepted exports, in order. */
  exports: OtlpReceived[];
  /** Every request that reached the server, with the status it got. */
  requests: { method: string; path: string; status: number }[];
  close(): Promise<void>;
}

export async function startOtlpReceiver(
  options: { requiredHeaders?: Record<string, string> } = {},
): Promise<OtlpReceiver> {
  const receiver: OtlpReceiver = { url: "", exports: [], requests: [], close: async () => {} };

  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const record = { method: req.method ?? "", path, status: 0 };
    receiver.requests.push(record);
    const raw = await readBody(req);
    const reply = (status: number, payload: unknown) => {
      record.status = status;
      sendJson(res, status, payload);
    };

    if (path !== "/v1/metrics") return reply(404, status(5, `unknown path ${path}`));
    if (req.method !== "POST") return reply(405, status(12, "only POST is allowed"));
    for (const [name, value] of Object.entries(options.requiredHeaders ?? {})) {
      if (req.headers[name.toLowerCase()] !== value) return reply(401, status(16, "missing or invalid credentials"));
    }
    const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
    if (type !== "application/json")
      return reply(
        415,
        status(3, `unsupported content type ${type || "(none)"}; this receiver takes application/json`),
      );
    if (req.headers["content-encoding"] && req.headers["content-encoding"] !== "identity") {
      return reply(415, status(3, `unsupported content encoding ${req.headers["content-encoding"]}`));
    }
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return reply(400, status(3, "body is not valid JSON"));
    }
    const problem = invalid(body);
    if (problem) return reply(400, status(3, problem));
    const request = body as OtlpExportRequest;
    receiver.exports.push({ headers: req.headers, body: request, points: flatten(request) });
    return reply(200, {});
  });

  const { origin, close } = await listenOnLoopback(server);
  receiver.url = origin;
  receiver.close = close;
  return receiver;
}

/** A `google.rpc.Status` in JSON, the error body OTLP/HTTP specifies. */
function status(code: number, message: string) {
  return { code, message };
}

function invalid(body: unknown): string | null {
  if (!body || typeof body !== "object") return "body must be an ExportMetricsServiceRequest object";
  const rms = (body as { resourceMetrics?: unknown }).resourceMetrics;
  if (!Array.isArray(rms)) return "resourceMetrics must be an array";
  for (const rm of rms) {
    const sms = (rm as { scopeMetrics?: unknown }).scopeMetrics;
    if (!Array.isArray(sms)) return "resourceMetrics[].scopeMetrics must be an array";
    for (const sm of sms) {
      const metrics = (sm as { metrics?: unknown }).metrics;
      if (!Array.isArray(metrics)) return "scopeMetrics[].metrics must be an array";
      for (const m of metrics as OtlpMetric[]) {
        if (typeof m.name !== "string" || m.name === "") return "metric name is required";
        const data = m.gauge ?? m.sum;
        if (!data) {
          if ("histogram" in m || "exponentialHistogram" in m || "summary" in m) continue;
          return `metric ${m.name} has no data`;
        }
        if (!Array.isArray(data.dataPoints)) return `metric ${m.name}: dataPoints must be an array`;
        for (const p of data.dataPoints) {
          if (p.timeUnixNano === undefined || !/^\d+$/.test(String(p.timeUnixNano)))
            return `metric ${m.name}: timeUnixNano is required`;
          if (p.asDouble === undefined && p.asInt === undefined) return `metric ${m.name}: a data point has no value`;
          if (p.asDouble !== undefined && typeof p.asDouble !== "number")
            return `metric ${m.name}: asDouble must be a number`;
          if (p.asInt !== undefined && !/^-?\d+$/.test(String(p.asInt)))
            return `metric ${m.name}: asInt must be an integer`;
        }
      }
    }
  }
  return null;
}

function flatten(request: OtlpExportRequest): OtlpPoint[] {
  const points: OtlpPoint[] = [];
  for (const rm of request.resourceMetrics) {
    const resource = attributes(rm.resource?.attributes);
    for (const sm of rm.scopeMetrics) {
      for (const m of sm.metrics) {
        const kind = m.gauge ? "gauge" : m.sum ? "sum" : null;
        if (!kind) continue;
        for (const p of (m.gauge ?? m.sum)?.dataPoints ?? []) {
          points.push({
            metric: m.name,
            kind,
            unit: m.unit || undefined,
            value: p.asDouble ?? Number(p.asInt),
            attributes: attributes(p.attributes),
            resource,
            scope: sm.scope?.name,
          });
        }
      }
    }
  }
  return points;
}

function attributes(list: OtlpKeyValue[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of list ?? []) {
    if (value.stringValue !== undefined) out[key] = value.stringValue;
    else if (value.boolValue !== undefined) out[key] = value.boolValue;
    else if (value.doubleValue !== undefined) out[key] = value.doubleValue;
    else if (value.intValue !== undefined) out[key] = Number(value.intValue);
  }
  return out;
}
