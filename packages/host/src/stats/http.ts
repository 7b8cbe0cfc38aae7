import { describeError, HttpFailure, redact, safeOrigin } from "@dynosaur/core";
import type { Dispatcher } from "undici";

// Part of the reporter contract (reporter packages use them): core's, re-exported for the channels here.
export { HttpFailure, quoteBody, safeOrigin } from "@dynosaur/core";

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

/** `base` + `path`, without doubling or dropping the slash between them. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`;
}
