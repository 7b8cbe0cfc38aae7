import type { Dispatcher } from "undici";
import { describeError } from "../errors.js";
import { redact } from "../redact.js";

/** What a reporter or alert channel needs to make one HTTP call. */
export interface HttpCall {
  method: "GET" | "POST";
  url: string;
  headers?: Record<string, string>;
  body?: string;
  dispatcher: Dispatcher;
  /** Milliseconds before the call is abandoned, so a silent endpoint never holds a socket for ever. */
  timeoutMs: number;
  /**
   * Values that must never appear in an error message (API keys, tokens): they are replaced
   * by `[redacted]` wherever a server echoes them back.
   */
  secrets?: readonly string[];
}

export interface HttpReply {
  status: number;
  text: string;
}

/** An HTTP call that failed: `message` is secret-free and names the service. */
export class HttpFailure extends Error {
  override name = "HttpFailure";
  constructor(
    message: string,
    /** The HTTP status, or null when no response came back (timeout, refused connection). */
    readonly status: number | null,
    /** The bare cause, without the service's name (e.g. `no answer within 200 ms`). */
    readonly reason: string = message,
  ) {
    super(message);
  }
}

/** Largest part of an error body quoted in a log line: enough to read the service's message. */
const MAX_QUOTED = 300;

/**
 * Makes one call and returns the status and body text, whatever the status. Rejects only
 * when no response arrives (network error or timeout), with a secret-free `HttpFailure`.
 */
export async function httpCall(call: HttpCall, service: string): Promise<HttpReply> {
  const signal = AbortSignal.timeout(call.timeoutMs);
  try {
    const url = new URL(call.url);
    // The dispatcher's own request(): core never loads undici just to make a call.
    const res = await call.dispatcher.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: call.method,
      headers: call.headers,
      body: call.body,
      signal,
    });
    const text = await res.body.text();
    return { status: res.statusCode, text };
  } catch (e) {
    const what = signal.aborted ? `no answer within ${call.timeoutMs} ms` : describeError(e);
    throw new HttpFailure(
      redact(`${service} unreachable at ${safeOrigin(call.url)}: ${what}`, call.secrets),
      null,
      redact(what, call.secrets),
    );
  }
}

export { redact } from "../redact.js";

/** A body worth quoting in a message: trimmed, one line, capped. */
export function quoteBody(text: string, secrets?: readonly string[]): string {
  const flat = redact(text, secrets).replace(/\s+/g, " ").trim();
  return flat.length > MAX_QUOTED ? `${flat.slice(0, MAX_QUOTED)}…` : flat;
}

/**
 * The scheme, host and port of a URL, for log lines: paths and query strings of heartbeat
 * and webhook URLs often carry a token, so they are never logged.
 */
export function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "(invalid URL)";
  }
}

/** `base` + `path`, without doubling or dropping the slash between them. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`;
}
