/*
 * The log drain's HTTP side: `GET /api/apps/{name}/drain` gives an app's drain URL and the
 * `heroku drains:add` line, and `POST /drain/<token>` takes Logplex's deliveries.
 *
 * Deliveries are served before the API (see `withDrainIngest`): no session, cookie or token
 * lookup, no body limit of the JSON API, no database, so an answer takes the time to parse
 * the body. Heroku drops the logs of a drain that answers slowly (error L10).
 */
import { LOGPLEX_CONTENT_TYPE } from "@dynosaur/plugin-heroku-router";
import type { Context } from "hono";
import { z } from "zod";
import { APP_NAME } from "../configs.js";
import { type Drains, NoSecretKey } from "../drains.js";
import type { AppStore } from "../store/apps.js";
import { type Api, type Env, messageSchema } from "./routes.js";

/** Where deliveries are posted: `/drain/<token>`. */
export const DRAIN_PATH = "/drain/";
/** Logplex batches are far smaller; a larger body is not a delivery. */
const MAX_DELIVERY_BYTES = 4 * 1024 * 1024;

export interface DrainRouteDeps {
  apps: AppStore;
  drains: Drains;
  /** Behind Heroku's router: the URL's scheme and host come from X-Forwarded-Proto and Host. */
  trustProxy: boolean;
}

const drainAnswer = z.object({
  url: z.string().describe("the app's drain URL: keep it secret, anyone holding it can feed the app's readings"),
  command: z.string().describe("the line that adds the drain to the Heroku app"),
  heroku_app_name: z.string(),
  last_delivery_at: z.string().nullable().describe("when this server process last got a line from the drain"),
  deliveries: z.number().describe("deliveries this process took (a retried one counted once)"),
  duplicates: z.number().describe("retried deliveries (same Logplex-Frame-Id) not counted again"),
  malformed: z.number().describe("frames that could not be read, skipped"),
  last_minute: z
    .object({
      requests: z.number(),
      service_p95_ms: z.number().nullable(),
      queue_p95_ms: z.number().nullable(),
      errors: z.record(z.string(), z.number()),
    })
    .describe("web requests of the last 60 s as this process saw them"),
});

/** Registers `GET /api/apps/{name}/drain` and `GET /api/apps/{name}/drain/minutes` on the API. */
export function registerDrainRoutes(api: Api, deps: DrainRouteDeps): void {
  registerMinutes(api, deps);
  api.route(
    {
      method: "get",
      path: "/api/apps/{name}/drain",
      summary: "The app's Heroku log drain URL (made on first use) and the `heroku drains:add` line that adds it",
      tag: "apps",
      access: "admin",
      params: z.strictObject({ name: z.string().regex(APP_NAME) }),
      responses: {
        200: { description: "the drain", schema: drainAnswer },
        404: { description: "no such app", schema: messageSchema },
        409: { description: "the server has no secret key to keep the drain URL with", schema: messageSchema },
      },
    },
    async ({ c, params }) => {
      const app = await deps.apps.get(params.name);
      if (!app) return c.json({ error: `no app named ${params.name}` }, 404);
      let token: string;
      try {
        token = await deps.drains.token(app);
      } catch (e) {
        if (e instanceof NoSecretKey) return c.json({ error: e.message }, 409);
        throw e;
      }
      const config = (await deps.apps.version(app.id, app.version))?.config as
        | { heroku_app_name?: unknown; scaler?: { heroku_app_name?: unknown } }
        | undefined;
      const herokuApp = String(config?.scaler?.heroku_app_name ?? config?.heroku_app_name ?? app.name);
      const url = `${origin(c, deps)}${DRAIN_PATH}${token}`;
      const feed = deps.drains.feed(app.name);
      const last = feed.lastMessageAt;
      const stats = deps.drains.lastMinute(app.name);
      return c.json({
        url,
        command: `heroku drains:add ${url} -a ${herokuApp}`,
        heroku_app_name: herokuApp,
        last_delivery_at: last === null ? null : new Date(last).toISOString(),
        deliveries: feed.deliveries,
        duplicates: feed.duplicates,
        malformed: feed.malformed,
        last_minute: {
          requests: stats.requests,
          service_p95_ms: stats.service?.p95 ?? null,
          queue_p95_ms: stats.queue?.p95 ?? null,
          errors: stats.errors,
        },
      });
    },
  );
}

const minuteRow = z.object({
  minute: z.string(),
  requests: z.number(),
  service_p50_ms: z.number().nullable(),
  service_p95_ms: z.number().nullable(),
  connect_mean_ms: z.number().nullable(),
  queue_n: z.number(),
  queue_p95_ms: z.number().nullable(),
  statuses: z.record(z.string(), z.number()),
  errors: z.record(z.string(), z.number()).describe("router error codes (H12...) and their counts"),
  messages: z.number(),
});

/** Registers `GET /api/apps/{name}/drain/minutes`: the stored per-minute figures of the app's drain. */
function registerMinutes(api: Api, deps: DrainRouteDeps): void {
  api.route(
    {
      method: "get",
      path: "/api/apps/{name}/drain/minutes",
      summary: "The app's drain, minute by minute: web requests, service and queue time, status classes, router errors",
      tag: "apps",
      access: "user",
      params: z.strictObject({ name: z.string().regex(APP_NAME) }),
      query: z.strictObject({
        since: z.iso
          .datetime({ offset: true })
          .optional()
          .describe("only minutes from this time (default: the last hour)"),
        limit: z.coerce.number().int().min(1).max(20_160).default(1440).describe("at most this many minutes"),
      }),
      responses: {
        200: { description: "the minutes, oldest first", schema: z.object({ minutes: z.array(minuteRow) }) },
        404: { description: "no such app", schema: messageSchema },
      },
    },
    async ({ c, params, query }) => {
      const app = await deps.apps.get(params.name);
      if (!app) return c.json({ error: `no app named ${params.name}` }, 404);
      const since = query.since ? Date.parse(query.since) : deps.drains.now() - 3_600_000;
      const rows = await deps.drains.minutes(app.id, since, query.limit);
      return c.json({ minutes: mergeInstances(rows) });
    },
  );
}

type StoredMinute = Awaited<ReturnType<Drains["minutes"]>>[number];

/** One row per minute: counts summed over the server processes, times weighted by their requests. */
function mergeInstances(rows: readonly StoredMinute[]): z.infer<typeof minuteRow>[] {
  const byMinute = new Map<number, StoredMinute[]>();
  for (const r of rows) byMinute.set(r.minute, [...(byMinute.get(r.minute) ?? []), r]);
  const sum = (list: Record<string, number>[]) => {
    const out: Record<string, number> = {};
    for (const o of list) for (const [k, v] of Object.entries(o)) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  const weighted = (
    parts: StoredMinute[],
    value: (r: StoredMinute) => number | null,
    weight: (r: StoredMinute) => number,
  ) => {
    let total = 0;
    let w = 0;
    for (const r of parts) {
      const v = value(r);
      if (v === null) continue;
      total += v * weight(r);
      w += weight(r);
    }
    return w === 0 ? null : total / w;
  };
  return [...byMinute.entries()].map(([minute, parts]) => ({
    minute: new Date(minute).toISOString(),
    requests: parts.reduce((n, r) => n + r.requests, 0),
    service_p50_ms: weighted(
      parts,
      (r) => r.service_p50,
      (r) => r.requests,
    ),
    service_p95_ms: weighted(
      parts,
      (r) => r.service_p95,
      (r) => r.requests,
    ),
    connect_mean_ms: weighted(
      parts,
      (r) => r.connect_mean,
      (r) => r.requests,
    ),
    queue_n: parts.reduce((n, r) => n + r.queue_n, 0),
    queue_p95_ms: weighted(
      parts,
      (r) => r.queue_p95,
      (r) => Math.max(1, r.queue_n),
    ),
    statuses: sum(parts.map((r) => JSON.parse(r.statuses) as Record<string, number>)),
    errors: sum(parts.map((r) => JSON.parse(r.errors) as Record<string, number>)),
    messages: parts.reduce((n, r) => n + r.messages, 0),
  }));
}

function origin(c: Context<Env>, deps: DrainRouteDeps): string {
  const publicUrl = deps.drains.publicUrl;
  if (publicUrl) return publicUrl.replace(/\/+$/, "");
  const url = new URL(c.req.url);
  const proto = deps.trustProxy
    ? (c.req.header("x-forwarded-proto")?.split(",")[0]?.trim() ?? "https")
    : url.protocol.slice(0, -1);
  const host = c.req.header("host") ?? url.host;
  return `${proto}://${host}`;
}

type Fetch<R extends unknown[]> = (request: Request, ...rest: R) => Response | Promise<Response>;

/**
 * Serves `POST /drain/<token>` ahead of `next` (the API): 204 once the delivery is counted,
 * 404 for a token that names no app (nothing counted), 405/415/413 for what is no Logplex
 * delivery. Unreadable frames are counted by the feed, never an error.
 */
export function withDrainIngest<R extends unknown[]>(next: Fetch<R>, drains: Drains): Fetch<R> {
  return async (request, ...rest) => {
    const path = new URL(request.url).pathname;
    if (!path.startsWith(DRAIN_PATH)) return next(request, ...rest);
    const token = path.slice(DRAIN_PATH.length);
    const app = token === "" || token.includes("/") ? null : drains.appOf(token);
    if (app === null) {
      drains.counters.unknown++;
      return text("no such drain", 404);
    }
    if (request.method !== "POST") return text("deliveries are POSTed", 405, { allow: "POST" });
    if (!(request.headers.get("content-type") ?? "").startsWith(LOGPLEX_CONTENT_TYPE))
      return text(`expected Content-Type: ${LOGPLEX_CONTENT_TYPE}`, 415);
    if (Number(request.headers.get("content-length") ?? 0) > MAX_DELIVERY_BYTES) return text("body too large", 413);
    const body = await readBounded(request, MAX_DELIVERY_BYTES);
    if (body === null) return text("body too large", 413);
    drains.take(app, body, {
      msgCount: request.headers.get("logplex-msg-count"),
      frameId: request.headers.get("logplex-frame-id"),
    });
    return new Response(null, { status: 204 });
  };
}

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
  const body = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.length;
  }
  return body;
}

const text = (body: string, status: number, headers: Record<string, string> = {}) =>
  new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers } });
