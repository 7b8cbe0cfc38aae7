/*
 * Logplex's deliveries: `POST /drain/<token>`, served before the API (see `withDrainIngest`): no
 * session, cookie or token lookup, no body limit of the JSON API, no database, so an answer takes
 * the time to parse the body. Heroku drops the logs of a drain that answers slowly (error L10).
 */
import type { ErrorCode } from "@dynosaur/core";
import { LOGPLEX_CONTENT_TYPE } from "@dynosaur/plugin-heroku-router";
import type { Drains } from "../drains.js";

/** Where deliveries are posted: `/drain/<token>`. */
export const DRAIN_PATH = "/drain/";
/** Logplex batches are far smaller; a larger body is not a delivery. */
const MAX_DELIVERY_BYTES = 4 * 1024 * 1024;

type Fetch<R extends unknown[]> = (request: Request, ...rest: R) => Response | Promise<Response>;

/**
 * Serves `POST /drain/<token>` ahead of `next` (the API): 204 once the delivery is counted,
 * 404 for a token that names no app (nothing counted), 405/415/413 for what is no Logplex
 * delivery, each refusal `{error, code}` as the API's. Unreadable frames are counted by the
 * feed, never an error.
 */
export function withDrainIngest<R extends unknown[]>(next: Fetch<R>, drains: Drains): Fetch<R> {
  return async (request, ...rest) => {
    const path = new URL(request.url).pathname;
    if (!path.startsWith(DRAIN_PATH)) return next(request, ...rest);
    const token = path.slice(DRAIN_PATH.length);
    const app = token === "" || token.includes("/") ? null : drains.appOf(token);
    if (app === null) {
      drains.counters.unknown++;
      return refuse(404, "DYNO_NOT_FOUND", "no such drain");
    }
    if (request.method !== "POST")
      return refuse(405, "DYNO_REQUEST_INVALID", "deliveries are POSTed", { allow: "POST" });
    if (!(request.headers.get("content-type") ?? "").startsWith(LOGPLEX_CONTENT_TYPE))
      return refuse(415, "DYNO_REQUEST_INVALID", `expected Content-Type: ${LOGPLEX_CONTENT_TYPE}`);
    const tooLarge = () => refuse(413, "DYNO_REQUEST_INVALID", `the body is larger than ${MAX_DELIVERY_BYTES} bytes`);
    if (Number(request.headers.get("content-length") ?? 0) > MAX_DELIVERY_BYTES) return tooLarge();
    const body = await readBounded(request, MAX_DELIVERY_BYTES);
    if (body === null) return tooLarge();
    drains.take(app, body, {
      msgCount: request.headers.get("logplex-msg-count"),
      frameId: request.headers.get("logplex-frame-id"),
    });
    return new Response(null, { status: 204 });
  };
}

/** The body, or null once it passes `limit` bytes (a chunked body has no Content-Length to check first). */
export async function readBounded(request: Request, limit: number): Promise<Uint8Array | null> {
  if (!request.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body) {
    size += chunk.length;
    if (size > limit) return null;
    chunks.push(chunk);
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.length;
  }
  return body;
}

/** A refusal in the API's shape (answers.ts's `fail`, without a Hono context: this runs before Hono). */
const refuse = (status: number, code: ErrorCode, error: string, headers: Record<string, string> = {}) =>
  Response.json({ error, code }, { status, headers: { "cache-control": "no-store", ...headers } });
