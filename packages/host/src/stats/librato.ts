import type { StatsReporter, TickReport } from "@dynosaur/core";
import type { Dispatcher } from "undici";
import { HttpFailure, httpCall, joinUrl, quoteBody } from "./http.js";

export interface LibratoReporterOptions {
  /** Librato account email (basic auth user). */
  email: string;
  /** Librato API token (basic auth password). */
  apiKey: string;
  /** Base URL; `/v1/metrics` is appended. @default "https://metrics-api.librato.com" */
  endpoint?: string;
  /** Milliseconds to wait for an answer. @default 10_000 */
  timeoutMs?: number;
}

export interface LibratoGauge {
  name: string;
  value: number;
  measure_time: number;
}

/**
 * Sends each tick's figures as Librato gauges, named as the seed named them, in one
 * batched `POST /v1/metrics`. Librato ended service in January 2026; this stays for
 * accounts and proxies that still speak its API.
 */
export function createLibratoReporter(
  options: LibratoReporterOptions,
  deps: { app: string; http: Dispatcher; name?: string },
): StatsReporter {
  const url = joinUrl(options.endpoint ?? "https://metrics-api.librato.com", "/v1/metrics");
  const auth = `Basic ${Buffer.from(`${options.email}:${options.apiKey}`).toString("base64")}`;
  const secrets = [options.apiKey, auth.slice("Basic ".length)];
  const timeoutMs = options.timeoutMs ?? 10_000;

  return {
    name: deps.name ?? "librato",
    async report(tick) {
      const gauges = libratoGauges(deps.app, tick);
      // Librato refuses a submission without a measurement; a tick with no figure has nothing to say.
      if (gauges.length === 0) return;
      const reply = await httpCall(
        {
          method: "POST",
          url,
          headers: { authorization: auth, "content-type": "application/json", "user-agent": "dynosaur" },
          body: JSON.stringify({ gauges }),
          dispatcher: deps.http,
          timeoutMs,
          secrets,
        },
        "Librato",
      );
      if (reply.status >= 200 && reply.status < 300) return;
      throw new HttpFailure(libratoError(reply.status, reply.text, secrets), reply.status);
    },
  };
}

/**
 * The seed's gauge names: `dynosaur.<app>.<source>.value` and `.estimate` per source, then
 * `dynosaur.<app>.combined.estimate` and `dynosaur.<app>.combined.actual` (dynos asked for);
 * for a process type other than web, `dynosaur.<app>.<type>.combined.estimate` and `.actual`.
 * Figures not known yet (null) are left out rather than sent as zero.
 */
export function libratoGauges(app: string, tick: TickReport): LibratoGauge[] {
  const measure_time = Math.floor(tick.time / 1000);
  const prefix = `dynosaur.${metricPart(app)}`;
  const gauges: LibratoGauge[] = [];
  const add = (name: string, value: number | null) => {
    if (value !== null && Number.isFinite(value)) gauges.push({ name: name.slice(0, 255), value, measure_time });
  };
  for (const source of tick.sources) {
    add(`${prefix}.${metricPart(source.name)}.value`, source.value);
    add(`${prefix}.${metricPart(source.name)}.estimate`, source.estimate);
  }
  // web keeps the seed's names; another process type's figures are its own gauges.
  const combined =
    tick.processType === "web" ? `${prefix}.combined` : `${prefix}.${metricPart(tick.processType)}.combined`;
  add(`${combined}.estimate`, tick.estimate);
  add(`${combined}.actual`, tick.after);
  return gauges;
}

/** Librato accepts only `A-Za-z0-9.:-_` in a name; anything else becomes `_`. */
function metricPart(s: string): string {
  return s.replace(/[^A-Za-z0-9.:\-_]/g, "_");
}

/** Librato's errors come as `{"errors":{"request":[...]}}` or `{"errors":{"params":{"name":[...]}}}`. */
function libratoError(status: number, body: string, secrets: string[]): string {
  let detail = quoteBody(body, secrets);
  try {
    const errors = (JSON.parse(body) as { errors?: Record<string, unknown> }).errors;
    if (errors && typeof errors === "object") {
      const parts: string[] = [];
      for (const [kind, value] of Object.entries(errors)) {
        if (Array.isArray(value)) parts.push(...value.map(String));
        else if (value && typeof value === "object") {
          for (const [param, msgs] of Object.entries(value))
            parts.push(`${param} ${Array.isArray(msgs) ? msgs.join(", ") : String(msgs)}`);
        } else parts.push(`${kind}: ${String(value)}`);
      }
      if (parts.length > 0) detail = quoteBody(parts.join("; "), secrets);
    }
  } catch {
    // Not JSON (a proxy's error page): the quoted text is all there is.
  }
  const hint =
    status === 401 || status === 403
      ? " (check the librato email and api_key; Librato ended service in January 2026, consider the otlp reporter)"
      : status === 404 || status === 410
        ? " (Librato ended service in January 2026: switch to the otlp reporter)"
        : "";
  return `Librato answered HTTP ${status}${detail ? `: ${detail}` : ""}${hint}`;
}
