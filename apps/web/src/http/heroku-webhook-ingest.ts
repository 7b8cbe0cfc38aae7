/*
 * Heroku's app webhook deliveries: `POST /heroku-webhook/<token>`, served before the API (as the
 * drains are): no session or API token, since Heroku has none; the delivery proves itself with
 * its signature (heroku-webhooks.ts). Refused, nothing is recorded: a token that names no app
 * (404), no signature or a wrong one (401), a body that is no Heroku event (400).
 */
import type { ErrorCode } from "@dynosaur/core";
import type { HerokuWebhooks } from "../heroku-webhooks.js";

/** Where deliveries are posted: `/heroku-webhook/<token>`. */
export const HEROKU_WEBHOOK_PATH = "/heroku-webhook/";
/** Heroku's event bodies are a few kilobytes. */
const MAX_DELIVERY_BYTES = 1024 * 1024;

type Fetch<R extends unknown[]> = (request: Request, ...rest: R) => Response | Promise<Response>;

/** Serves `POST /heroku-webhook/<token>` ahead of `next` (the API); each refusal `{error, code}` as the API's. */
export function withHerokuWebhookIngest<R extends unknown[]>(next: Fetch<R>, webhooks: HerokuWebhooks): Fetch<R> {
  return async (request, ...rest) => {
    const path = new URL(request.url).pathname;
    if (!path.startsWith(HEROKU_WEBHOOK_PATH)) return next(request, ...rest);
    const token = path.slice(HEROKU_WEBHOOK_PATH.length);
    if (request.method !== "POST")
      return refuse(405, "DYNO_REQUEST_INVALID", "deliveries are POSTed", { allow: "POST" });
    if (!(request.headers.get("content-type") ?? "").startsWith("application/json"))
      return refuse(415, "DYNO_REQUEST_INVALID", "expected Content-Type: application/json");
    const tooLarge = () => refuse(413, "DYNO_REQUEST_INVALID", `the body is larger than ${MAX_DELIVERY_BYTES} bytes`);
    if (Number(request.headers.get("content-length") ?? 0) > MAX_DELIVERY_BYTES) return tooLarge();
    const body = await readBounded(request, MAX_DELIVERY_BYTES);
    if (body === null) return tooLarge();
    const result =
      token === "" || token.includes("/")
        ? "unknown"
        : await webhooks.take(token, body, request.headers.get("heroku-webhook-hmac-sha256"));
    switch (result) {
      case "unknown":
        return refuse(404, "DYNO_NOT_FOUND", "no such webhook");
      case "unsigned":
        return refuse(401, "DYNO_WEBHOOK_SIGNATURE", "the delivery has no Heroku-Webhook-Hmac-SHA256 header");
      case "bad-signature":
        return refuse(401, "DYNO_WEBHOOK_SIGNATURE", "Heroku-Webhook-Hmac-SHA256 does not match the app's secret");
      case "malformed":
        return refuse(400, "DYNO_REQUEST_INVALID", "the body is no Heroku webhook event (id, resource, action, data)");
      case "duplicate":
        return Response.json({ taken: false, duplicate: true }, { headers: { "cache-control": "no-store" } });
      default:
        return Response.json({ taken: true, duplicate: false }, { headers: { "cache-control": "no-store" } });
    }
  };
}

/** A refusal in the API's shape (answers.ts's `fail`, without a Hono context: this runs before Hono). */
const refuse = (status: number, code: ErrorCode, error: string, headers: Record<string, string> = {}) =>
  Response.json({ error, code }, { status, headers: { "cache-control": "no-store", ...headers } });

/** The body, or null once it passes `limit` bytes (a chunked body has no Content-Length to check first). */
async function readBounded(request: Request, limit: number): Promise<Uint8Array | null> {
  if (!request.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body) {
    size += chunk.length;
    if (size > limit) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}
