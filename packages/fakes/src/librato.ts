/**
 * A loopback Librato metrics API (the legacy source-based `POST /v1/metrics`), strict the way
 * the real one was: HTTP basic auth with the account email and API token (401 with
 * `{"errors":{"request":[...]}}` otherwise), `Content-Type: application/json` (415), a
 * parseable body with at least one gauge or counter, names of at most 255 characters in
 * `A-Za-z0-9.:-_`, numeric values and integer `measure_time`s (400 with
 * `{"errors":{"params":{...}}}`). Accepted submissions answer 200 and are kept in `submissions`.
 */
import { createServer } from "node:http";
import { listenOnLoopback, readBody, sendJson } from "./http.js";

export interface LibratoMeasurement {
  name: string;
  value: number;
  measure_time?: number;
  source?: string;
}

export interface LibratoSubmission {
  gauges: LibratoMeasurement[];
  counters: LibratoMeasurement[];
  /** The raw Authorization header, for tests that check what was sent (never log it). */
  authorization: string;
}

export interface LibratoFake {
  /** Base URL, e.g. `http://127.0.0.1:1234` (the reporter appends `/v1/metrics`). */
  url: string;
  /** Accepted submissions, in order. */
  submissions: LibratoSubmission[];
  /** Every request that reached the server, accepted or not, with the status it got (hung ones: 0). */
  requests: { method: string; path: string; status: number }[];
  /** `ok`: answer normally; `hang`: read the request and never answer. */
  mode: "ok" | "hang";
  close(): Promise<void>;
}

const NAME = /^[A-Za-z0-9.:\-_]{1,255}$/;

export async function startLibratoFake(credentials: { email: string; token: string }): Promise<LibratoFake> {
  const expected = `Basic ${Buffer.from(`${credentials.email}:${credentials.token}`).toString("base64")}`;
  const fake: LibratoFake = {
    url: "",
    submissions: [],
    requests: [],
    mode: "ok",
    close: async () => {},
  };

  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const record = { method: req.method ?? "", path, status: 0 };
    fake.requests.push(record);
    const body = await readBody(req);
    if (fake.mode === "hang") return;
    const reply = (status: number, payload?: unknown) => {
      record.status = status;
      sendJson(res, status, payload);
    };

    if (path !== "/v1/metrics") return reply(404, { errors: { request: ["Not Found"] } });
    if (req.method !== "POST") return reply(405, { errors: { request: ["Method Not Allowed"] } });
    const auth = req.headers.authorization;
    if (!auth) return reply(401, { errors: { request: ["Please provide credentials for authentication."] } });
    if (auth !== expected) return reply(401, { errors: { request: ["Authorization Required"] } });
    if (!(req.headers["content-type"] ?? "").toLowerCase().startsWith("application/json")) {
      return reply(415, { errors: { request: ["Content-Type must be application/json"] } });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return reply(400, { errors: { request: ["Unable to parse the request body as JSON"] } });
    }
    const result = validate(parsed);
    if ("errors" in result) return reply(400, { errors: result.errors });
    fake.submissions.push({ ...result, authorization: auth });
    return reply(200);
  });

  const { origin, close } = await listenOnLoopback(server);
  fake.url = origin;
  fake.close = close;
  return fake;
}

type Validated = { gauges: LibratoMeasurement[]; counters: LibratoMeasurement[] } | { errors: Record<string, unknown> };

function validate(body: unknown): Validated {
  if (!body || typeof body !== "object" || Array.isArray(body))
    return { errors: { request: ["The request body must be a JSON object"] } };
  const b = body as Record<string, unknown>;
  const gauges = measurements(b.gauges);
  const counters = measurements(b.counters);
  if ("errors" in gauges) return gauges;
  if ("errors" in counters) return counters;
  if (gauges.list.length + counters.list.length === 0)
    return { errors: { params: { measurements: ["must include at least one gauge or counter"] } } };
  return { gauges: gauges.list, counters: counters.list };
}

/** Array form, or the hashed-by-name form (`{"gauges":{"name":{"value":1}}}`), as the real API took. */
function measurements(v: unknown): { list: LibratoMeasurement[] } | { errors: Record<string, unknown> } {
  if (v === undefined) return { list: [] };
  const entries: [string | undefined, unknown][] = Array.isArray(v)
    ? v.map((m) => [undefined, m])
    : v && typeof v === "object"
      ? Object.entries(v)
      : [];
  if (!Array.isArray(v) && (!v || typeof v !== "object")) return { errors: { params: { gauges: ["is invalid"] } } };
  const list: LibratoMeasurement[] = [];
  for (const [key, m] of entries) {
    if (!m || typeof m !== "object") return { errors: { params: { measurement: ["is invalid"] } } };
    const r = m as Record<string, unknown>;
    const name = typeof r.name === "string" ? r.name : key;
    if (name === undefined || name === "") return { errors: { params: { name: ["is not present"] } } };
    if (!NAME.test(name)) return { errors: { params: { name: ["is invalid"] } } };
    if (typeof r.value !== "number" || !Number.isFinite(r.value))
      return { errors: { params: { value: ["is not a number"] } } };
    if (r.measure_time !== undefined && !Number.isInteger(r.measure_time))
      return { errors: { params: { measure_time: ["is not a number"] } } };
    if (r.source !== undefined && (typeof r.source !== "string" || !NAME.test(r.source) || r.source === "all")) {
      return { errors: { params: { source: ["is invalid"] } } };
    }
    list.push({
      name,
      value: r.value,
      measure_time: r.measure_time as number | undefined,
      source: r.source as string | undefined,
    });
  }
  return { list };
}
