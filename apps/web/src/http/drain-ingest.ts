/*
 * Logplex's deliveries: `POST /drain/<token>`, served before the API (see `withDrainIngest`): no
 * session, cookie or token lookup, no body limit of the JSON API, no database, so an answer takes
 * the time to parse the body. Heroku drops the logs of a drain that answers slowly (error L10).
 *
 * Served on Node's own request and response, not the fetch API the rest of the server speaks:
 * a hundred deliveries a second each made a Request, a web ReadableStream over the body and a
 * Response, which cost more CPU (and garbage) than reading the lines (bench/drain.mjs).
 */
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import type { ErrorCode } from "@dynosaur/core";
import { LOGPLEX_CONTENT_TYPE } from "@dynosaur/plugin-heroku-router";
import type { Drains } from "../drains.js";

/** Where deliveries are posted: `/drain/<token>`. */
export const DRAIN_PATH = "/drain/";
/** Logplex batches are far smaller; a larger body is not a delivery. */
const MAX_DELIVERY_BYTES = 4 * 1024 * 1024;

/**
 * Serves `POST /drain/<token>` ahead of `next` (the API): 204 once the delivery is counted,
 * 404 for a token that names no app (nothing counted), 405/415/413 for what is no Logplex
 * delivery, each refusal `{error, code}` as the API's. Unreadable frames are counted by the
 * feed, never an error.
 */
export function withDrainIngest(next: RequestListener, drains: Drains): RequestListener {
  return (req, res) => {
    const target = req.url ?? "";
    if (!target.startsWith(DRAIN_PATH)) return next(req, res);
    const query = target.indexOf("?");
    const token = target.slice(DRAIN_PATH.length, query === -1 ? undefined : query);
    const app = token === "" || token.includes("/") ? null : drains.appOf(token);
    if (app === null) {
      drains.counters.unknown++;
      return refuse(req, res, 404, "DYNO_NOT_FOUND", "no such drain");
    }
    if (req.method !== "POST") return refuse(req, res, 405, "DYNO_REQUEST_INVALID", "deliveries are POSTed", "POST");
    if (!(req.headers["content-type"] ?? "").startsWith(LOGPLEX_CONTENT_TYPE))
      return refuse(req, res, 415, "DYNO_REQUEST_INVALID", `expected Content-Type: ${LOGPLEX_CONTENT_TYPE}`);
    const tooLarge = () =>
      refuse(req, res, 413, "DYNO_REQUEST_INVALID", `the body is larger than ${MAX_DELIVERY_BYTES} bytes`);
    if (Number(req.headers["content-length"] ?? 0) > MAX_DELIVERY_BYTES) return tooLarge();
    readBounded(req, MAX_DELIVERY_BYTES, (body) => {
      if (body === null) return tooLarge();
      try {
        drains.take(app, body, {
          msgCount: header(req, "logplex-msg-count"),
          frameId: header(req, "logplex-frame-id"),
        });
      } catch (e) {
        // Thrown in a stream's callback, it would end the process: the API's answer to a bug instead.
        drains.deliveryFailed(app, e);
        return refuse(req, res, 500, "DYNO_INTERNAL", "internal error");
      }
      res.writeHead(204).end();
    });
  };
}

const header = (req: IncomingMessage, name: string): string | null => {
  const v = req.headers[name];
  return typeof v === "string" ? v : null;
};

/**
 * Hands `done` the body, or null once it passes `limit` bytes (a chunked body has no
 * Content-Length to check first). A request that breaks off is dropped: Logplex retries it.
 */
function readBounded(req: IncomingMessage, limit: number, done: (body: Uint8Array | null) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  req.on("data", (chunk: Buffer) => {
    if (over) return;
    size += chunk.length;
    if (size > limit) {
      over = true;
      chunks.length = 0;
      done(null);
      return;
    }
    chunks.push(chunk);
  });
  req.on("end", () => {
    if (!over) done(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
  });
  req.on("error", () => {});
}

/**
 * A refusal in the API's shape (answers.ts's `fail`, without a Hono context: this runs before
 * Hono). The rest of the body, if any, is read and dropped, so the connection can be kept.
 */
function refuse(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  code: ErrorCode,
  error: string,
  allow?: string,
): void {
  const body = JSON.stringify({ error, code });
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
    ...(allow ? { allow } : {}),
  });
  res.end(body);
  req.resume();
}
