/**
 * A loopback fake of the Heroku Platform API's formation endpoints. It speaks Heroku's wire
 * format (paths, `Accept: application/vnd.heroku+json; version=3`, bearer auth, error bodies
 * `{"id","message"}`, the formation object with every field of the official schema,
 * `RateLimit-Remaining` and its token bucket) and refuses what Heroku refuses, so a client
 * that passes against it has been checked, not just answered.
 *
 * Endpoints: GET/PATCH `/apps/{app}/formation/{type}` (info, update), GET/PATCH
 * `/apps/{app}/formation` (list, batch update), GET/POST `/apps/{app}/webhooks` (app
 * webhooks: see heroku-webhooks.ts) and GET/POST `/apps/{app}/log-drains` (heroku-log-drains.ts). A formation change, by the API or by `setQuantity`, is
 * delivered to the app's webhooks that include `api:formation`, as Heroku does. `{app}` may be the app's name or id, `{type}`
 * the process type or the formation's id, as on Heroku.
 */
import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { FakeLogDrains, type HerokuFakeLogDrain } from "./heroku-log-drains.ts";
import {
  FakeWebhooks,
  type HerokuFakeWebhook,
  type HerokuWebhookDelivery,
  type HerokuWebhookEvent,
} from "./heroku-webhooks.ts";

export type { HerokuFakeLogDrain } from "./heroku-log-drains.ts";
export { type HerokuFakeWebhook, type HerokuWebhookDelivery, signHerokuWebhook } from "./heroku-webhooks.ts";

export interface HerokuFakeProcessType {
  /** @default 1 for `web`, 0 otherwise */
  quantity?: number;
  /** Dyno size name, one of HEROKU_DYNO_SIZES. @default "Standard-1X" */
  size?: string;
  /** @default a command derived from the type */
  command?: string;
}

export interface HerokuFakeApp {
  /** @default a random uuid */
  id?: string;
  /** Process types by name. @default { web: { quantity: 1 } } */
  formation?: Record<string, HerokuFakeProcessType>;
  /** App features turned on (`heroku features:enable`), e.g. `preboot`. @default [] */
  features?: string[];
}

export interface HerokuFakeOptions {
  /** The key that may read and scale every app. @default "heroku-fake-0123456789abcdef" */
  apiKey?: string;
  /** The email of `apiKey`'s account: the actor of its changes in webhook deliveries. @default "scaler@example.com" */
  accountEmail?: string;
  /**
   * Keys of other accounts: key → names of the apps they can reach. Using one on another
   * existing app answers 403 `forbidden`, as Heroku does for non-collaborators.
   * @default {}
   */
  otherKeys?: Record<string, string[]>;
  /** Apps by name. @default { example: { formation: { web: { quantity: 1 }, worker: { quantity: 0 } } } } */
  apps?: Record<string, HerokuFakeApp>;
  /** Plan limit: a quantity above it answers 422 `invalid_params`. @default 100 */
  maxQuantity?: number;
  /** The account's request-token bucket (Heroku: 4500, refilled continuously at 75 a minute; empty, it answers 429). */
  rateLimit?: {
    /** Bucket size. @default 4500 */
    capacity?: number;
    /** Tokens added per hour, continuously. @default capacity */
    refillPerHour?: number;
    /** Tokens at start. @default capacity */
    remaining?: number;
  };
  /** Clock for `updated_at` and the token bucket's refill; pass a test clock's `now`. @default Date.now */
  now?: () => number;
}

/** What the fake does with one request instead of (or on top of) answering it honestly. */
export type HerokuFault =
  /** Answer this, whatever was asked. A string body is sent as is, anything else as JSON. */
  | { kind: "respond"; status: number; body?: unknown; headers?: Record<string, string> }
  /** Answer honestly, with these headers added or overridden (e.g. `RateLimit-Remaining`). */
  | { kind: "headers"; headers: Record<string, string> }
  /** Never answer (until the fake closes). */
  | { kind: "hang" }
  /** Drop the connection without answering. */
  | { kind: "reset" }
  /** Answer honestly (state changes happen) but send only the first half of the JSON body. */
  | { kind: "truncate" }
  /** Answer honestly after `ms` milliseconds of real time. */
  | { kind: "delay"; ms: number };

export interface HerokuFakeRequest {
  method: string;
  /** Path and query as received, still URL-encoded. */
  path: string;
  /** Every header as received (names lower-cased), `authorization` included. */
  headers: IncomingHttpHeaders;
  /** The body parsed as JSON, the raw text if it is not JSON, undefined if empty. */
  body: unknown;
  rawBody: string;
  /** `now()` when it arrived. */
  at: number;
  /** The fault applied to it, if any. */
  fault?: HerokuFault["kind"];
  /** Client port of the connection it came on: equal ports mean a reused connection. */
  remotePort: number | undefined;
  /** The status it was answered with, once answered (a 429 when the account's bucket was empty). */
  status?: number;
}

export interface HerokuFakeFormation {
  app: { id: string; name: string };
  command: string;
  created_at: string;
  dyno_size: { id: string; name: string };
  id: string;
  quantity: number;
  size: string;
  type: string;
  updated_at: string;
}

export interface HerokuFake {
  /** Base URL, e.g. `http://127.0.0.1:53124` (no trailing slash). */
  readonly url: string;
  /** The key with access to every app. */
  readonly apiKey: string;
  /** Every request received, in order, faulted ones included. */
  readonly requests: readonly HerokuFakeRequest[];
  /** Requests received with this method (all requests without one). */
  count(method?: string): number;
  /** The formation as Heroku would return it, or undefined when the app or type does not exist. */
  formation(app: string, type: string): HerokuFakeFormation | undefined;
  /**
   * Sets a quantity as a human running `heroku ps:scale` would (updates `updated_at`), and
   * delivers the change to the app's `api:formation` webhooks in the background, naming `by`.
   */
  setQuantity(app: string, type: string, quantity: number, by?: string): void;
  /** The app's webhook subscriptions, as `GET /apps/{app}/webhooks` shows them. */
  webhooks(app: string): HerokuFakeWebhook[];
  /** Subscribes a webhook as `heroku webhooks:add` does (the same checks as the API); throws what Heroku answers. */
  addWebhook(
    app: string,
    subscription: { include: string[]; level: string; url: string; secret?: string },
  ): HerokuFakeWebhook;
  /** The app's log drains, as `GET /apps/{app}/log-drains` shows them. */
  logDrains(app: string): HerokuFakeLogDrain[];
  /** Adds a log drain as `heroku drains:add` does (the same checks as the API); throws what Heroku answers. */
  addLogDrain(app: string, url: string): HerokuFakeLogDrain;
  /** Delivers an event of `app` to its subscriptions now; resolves with each delivery and its answer. */
  sendWebhook(app: string, event: HerokuWebhookEvent): Promise<HerokuWebhookDelivery[]>;
  /** An `api:release` event: a release of `app` made or finished. */
  sendRelease(
    app: string,
    release: {
      version: number;
      status: "pending" | "succeeded" | "failed";
      description?: string;
      action?: "create" | "update";
    },
  ): Promise<HerokuWebhookDelivery[]>;
  /** An `api:dyno` event: dyno `name` (e.g. `web.3`) is in `state` now. */
  sendDyno(
    app: string,
    dyno: {
      name: string;
      state: "starting" | "up" | "down" | "crashed" | "idle";
      action?: "create" | "update" | "destroy";
    },
  ): Promise<HerokuWebhookDelivery[]>;
  /** Sends a delivery's event again, as Heroku's retry does: same event id, new delivery id. */
  redeliver(delivery: HerokuWebhookDelivery): Promise<HerokuWebhookDelivery>;
  /** Every webhook delivery sent, in order. */
  readonly webhookDeliveries: readonly HerokuWebhookDelivery[];
  /** Resolves once the deliveries sent in the background (after formation changes) are answered. */
  webhooksSettled(): Promise<void>;
  /** Adds (or replaces) an app. */
  setApp(name: string, app: HerokuFakeApp): void;
  /** Turns an app feature on or off, as `heroku features:enable`/`disable` does. */
  setFeature(app: string, feature: string, enabled: boolean): void;
  /** Changes the plan limit. */
  setMaxQuantity(max: number): void;
  /** Tokens left in the bucket now (after refill). */
  readonly rateLimitRemaining: number;
  /** Empties or fills the bucket. */
  setRateLimitRemaining(tokens: number): void;
  /**
   * Applies `fault` to the next `times` requests (of `method`, when given; only to the request
   * whose `Request-Id` header is `requestId`, when given), before any queued later.
   */
  queueFault(fault: HerokuFault, options?: { times?: number; method?: string; requestId?: string }): void;
  /**
   * For soak tests: once the queue is empty, each request gets one of `faults` (picked
   * uniformly) with `probability`. `null` turns it off.
   */
  setRandomFaults(options: { probability: number; faults: HerokuFault[]; random?: () => number } | null): void;
  /** Drops queued and random faults. */
  clearFaults(): void;
  /** Forgets the request log. */
  clearRequests(): void;
  /** Stops listening and drops every open connection, hanging ones included. */
  close(): Promise<void>;
}

/** Dyno sizes Heroku offers; PATCHing another size answers 422. */
export const HEROKU_DYNO_SIZES = [
  "Eco",
  "Basic",
  "Standard-1X",
  "Standard-2X",
  "Performance-M",
  "Performance-L",
  "Performance-L-RAM",
  "Performance-XL",
  "Performance-2XL",
  "Private-S",
  "Private-M",
  "Private-L",
] as const;

const DEFAULT_KEY = "heroku-fake-0123456789abcdef";
const RATE_LIMIT_DOCS = "https://devcenter.heroku.com/articles/platform-api-reference#rate-limits";

interface ProcessState {
  id: string;
  type: string;
  quantity: number;
  size: string;
  command: string;
  createdAt: number;
  updatedAt: number;
}

interface AppState {
  id: string;
  name: string;
  formation: Map<string, ProcessState>;
  features: Set<string>;
}

/** App features the fake knows (`GET /apps/{app}/features/{name}`); another name answers 404. */
const APP_FEATURES: Record<string, string> = {
  preboot: "Provide seamless web dyno deploys",
  "http-session-affinity": "Enable session affinity for all requests",
  "runtime-dyno-metadata": "Provide dyno metadata in the environment",
  "log-runtime-metrics": "Emit dyno resource usage information into app logs",
};

interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export async function startHerokuFake(options: HerokuFakeOptions = {}): Promise<HerokuFake> {
  const now = options.now ?? Date.now;
  const apiKey = options.apiKey ?? DEFAULT_KEY;
  const accountEmail = options.accountEmail ?? "scaler@example.com";
  const hooks = new FakeWebhooks(now);
  const logDrains = new FakeLogDrains(now);
  const otherKeys = new Map(Object.entries(options.otherKeys ?? {}));
  let maxQuantity = options.maxQuantity ?? 100;
  const capacity = options.rateLimit?.capacity ?? 4500;
  const refillPerHour = options.rateLimit?.refillPerHour ?? capacity;
  let tokens = options.rateLimit?.remaining ?? capacity;
  let refilledAt = now();

  const apps = new Map<string, AppState>();
  const requests: HerokuFakeRequest[] = [];
  const queue: { fault: HerokuFault; times: number; method?: string; requestId?: string }[] = [];
  let random: { probability: number; faults: HerokuFault[]; random: () => number } | null = null;
  const timers = new Set<NodeJS.Timeout>();

  const setApp = (name: string, app: HerokuFakeApp) => {
    const created = now();
    const formation = new Map<string, ProcessState>();
    for (const [type, p] of Object.entries(app.formation ?? { web: { quantity: 1 } })) {
      formation.set(type, {
        id: randomUUID(),
        type,
        quantity: p.quantity ?? (type === "web" ? 1 : 0),
        size: p.size ?? "Standard-1X",
        command: p.command ?? (type === "web" ? "npm start" : `npm run ${type}`),
        createdAt: created,
        updatedAt: created,
      });
    }
    apps.set(name, { id: app.id ?? randomUUID(), name, formation, features: new Set(app.features ?? []) });
  };
  for (const [name, app] of Object.entries(
    options.apps ?? { example: { formation: { web: { quantity: 1 }, worker: { quantity: 0 } } } },
  )) {
    setApp(name, app);
  }

  const refill = () => {
    const t = now();
    tokens = Math.min(capacity, tokens + ((t - refilledAt) * refillPerHour) / 3_600_000);
    refilledAt = t;
  };
  const remainingHeader = () => String(Math.max(0, Math.floor(tokens)));

  const findApp = (identity: string) => apps.get(identity) ?? [...apps.values()].find((a) => a.id === identity);
  const findProcess = (app: AppState, identity: string) =>
    app.formation.get(identity) ?? [...app.formation.values()].find((p) => p.id === identity);

  const serialize = (app: AppState, p: ProcessState): HerokuFakeFormation => ({
    app: { id: app.id, name: app.name },
    command: p.command,
    created_at: isoSeconds(p.createdAt),
    dyno_size: { id: sizeId(p.size), name: p.size },
    id: p.id,
    quantity: p.quantity,
    size: p.size,
    type: p.type,
    updated_at: isoSeconds(p.updatedAt),
  });

  /** Checks one update (`quantity` and/or a size) and returns how to apply it, or Heroku's 422. */
  const validateUpdate = (p: ProcessState, update: Record<string, unknown>): Answer | (() => void) => {
    const { quantity } = update;
    let size: string | undefined;
    if ("dyno_size" in update) {
      const d = update.dyno_size as { name?: unknown; id?: unknown } | null;
      const named = HEROKU_DYNO_SIZES.find(
        (s) => s.toLowerCase() === String(d?.name ?? "").toLowerCase() || sizeId(s) === d?.id,
      );
      if (!named) return invalid("Invalid dyno_size: pick one of " + HEROKU_DYNO_SIZES.join(", ") + ".");
      size = named;
    } else if ("size" in update) {
      const named = HEROKU_DYNO_SIZES.find((s) => s.toLowerCase() === String(update.size).toLowerCase());
      if (!named) return invalid(`Invalid size ${JSON.stringify(update.size)}.`);
      size = named;
    }
    if (quantity === undefined && size === undefined) return invalid("Provide a quantity or a dyno_size to update.");
    if (quantity !== undefined && (typeof quantity !== "number" || !Number.isInteger(quantity) || quantity < 0)) {
      return invalid(`Invalid quantity ${JSON.stringify(quantity)}: it must be an integer greater than or equal to 0.`);
    }
    if (typeof quantity === "number" && quantity > maxQuantity) {
      return invalid(`Cannot update to more than ${maxQuantity} ${size ?? p.size} size dynos per process type.`);
    }
    return () => {
      if (typeof quantity === "number") p.quantity = quantity;
      if (size !== undefined) p.size = size;
      p.updatedAt = now();
    };
  };

  const handle = (req: IncomingMessage, raw: string): Answer => {
    const version = acceptedVersion(req.headers.accept);
    if (version === null) {
      // Heroku's version check answers with `error`, not `message`.
      return {
        status: 400,
        body: {
          id: "missing_version",
          error:
            "Please specify a version along with Heroku's API MIME type, e.g. `Accept: application/vnd.heroku+json; version=3`.\n",
        },
      };
    }
    if (version !== "3" && !version.startsWith("3.")) {
      return error(
        406,
        "not_acceptable",
        "Unsupported API version: set `Accept: application/vnd.heroku+json; version=3` and try again.",
      );
    }

    const auth = req.headers.authorization;
    if (!auth) {
      return error(
        401,
        "unauthorized",
        "There were no credentials in your `Authorization` header. Try `Authorization: Bearer <API key>`.",
      );
    }
    const key = /^Bearer\s+(\S+)\s*$/i.exec(auth)?.[1];
    if (key === undefined || (key !== apiKey && !otherKeys.has(key)))
      return error(401, "unauthorized", "Invalid credentials provided.");

    refill();
    if (tokens < 1) {
      return error(
        429,
        "rate_limit",
        "Your account reached the API rate limit. Please wait a few minutes before making new requests.",
        RATE_LIMIT_DOCS,
      );
    }
    tokens -= 1;

    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const method = req.method ?? "GET";
    const hookRoute = /^\/apps\/([^/]+)\/webhooks\/?$/.exec(path);
    if (hookRoute && (method === "GET" || method === "POST")) {
      const app = findApp(safeDecode(hookRoute[1] ?? "") ?? "");
      if (!app) return { status: 404, body: { resource: "app", id: "not_found", message: "Couldn't find that app." } };
      if (key !== apiKey && !(otherKeys.get(key) ?? []).includes(app.name))
        return error(403, "forbidden", `You do not have access to the app ${app.name}.`);
      if (method === "GET") return { status: 200, body: hooks.list(app.name) };
      if (!/^application\/json\s*(;|$)/i.test(req.headers["content-type"] ?? ""))
        return invalid("Request body must be JSON: send `Content-Type: application/json`.");
      const body = parseBody(raw);
      if (typeof body === "string") return error(400, "bad_request", "Invalid JSON in the request body.");
      return hooks.create({ id: app.id, name: app.name }, body);
    }
    const drainRoute = /^\/apps\/([^/]+)\/log-drains\/?$/.exec(path);
    if (drainRoute && (method === "GET" || method === "POST")) {
      const app = findApp(safeDecode(drainRoute[1] ?? "") ?? "");
      if (!app) return { status: 404, body: { resource: "app", id: "not_found", message: "Couldn't find that app." } };
      if (key !== apiKey && !(otherKeys.get(key) ?? []).includes(app.name))
        return error(403, "forbidden", `You do not have access to the app ${app.name}.`);
      if (method === "GET") return { status: 200, body: logDrains.list(app.name) };
      if (!/^application\/json\s*(;|$)/i.test(req.headers["content-type"] ?? ""))
        return invalid("Request body must be JSON: send `Content-Type: application/json`.");
      const body = parseBody(raw);
      if (typeof body === "string") return error(400, "bad_request", "Invalid JSON in the request body.");
      return logDrains.create({ id: app.id, name: app.name }, body);
    }
    const featureRoute = /^\/apps\/([^/]+)\/features\/([^/]+)\/?$/.exec(path);
    if (featureRoute && method === "GET") {
      const app = findApp(safeDecode(featureRoute[1] ?? "") ?? "");
      if (!app) return { status: 404, body: { resource: "app", id: "not_found", message: "Couldn't find that app." } };
      if (key !== apiKey && !(otherKeys.get(key) ?? []).includes(app.name))
        return error(403, "forbidden", `You do not have access to the app ${app.name}.`);
      const name = safeDecode(featureRoute[2] ?? "") ?? "";
      const description = APP_FEATURES[name];
      if (description === undefined)
        return { status: 404, body: { resource: "feature", id: "not_found", message: "Couldn't find that feature." } };
      const at = isoSeconds(now());
      return {
        status: 200,
        body: {
          created_at: at,
          description,
          display_name: name,
          doc_url: `https://devcenter.heroku.com/articles/${name}`,
          enabled: app.features.has(name),
          feedback_email: "",
          id: sizeId(`feature:${name}`),
          name,
          state: "general",
          updated_at: at,
        },
      };
    }
    const route = /^\/apps\/([^/]+)\/formation(?:\/([^/]+))?\/?$/.exec(path);
    if (!route || (method !== "GET" && method !== "PATCH")) {
      return error(
        404,
        "not_found",
        "The requested API endpoint was not found. Are you using the right HTTP verb, and did you request version 3 in the `Accept` header?",
      );
    }
    const appName = safeDecode(route[1] ?? "");
    const typeName = route[2] === undefined ? undefined : safeDecode(route[2]);

    const app = appName === undefined ? undefined : findApp(appName);
    if (!app) return { status: 404, body: { resource: "app", id: "not_found", message: "Couldn't find that app." } };
    const reachable = key === apiKey || (otherKeys.get(key) ?? []).includes(app.name);
    if (!reachable) return error(403, "forbidden", `You do not have access to the app ${app.name}.`);

    let parsed: unknown;
    if (method === "PATCH") {
      const type = req.headers["content-type"] ?? "";
      if (!/^application\/json\s*(;|$)/i.test(type)) {
        return invalid("Request body must be JSON: send `Content-Type: application/json`.");
      }
      try {
        parsed = JSON.parse(raw);
      } catch {
        return error(400, "bad_request", "Invalid JSON in the request body.");
      }
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
        return invalid("The request body must be a JSON object.");
    }

    if (typeName === undefined) {
      if (method === "GET") return { status: 200, body: [...app.formation.values()].map((p) => serialize(app, p)) };
      const updates = (parsed as { updates?: unknown }).updates;
      if (!Array.isArray(updates)) return invalid("Provide `updates`, an array of formation updates.");
      const apply: (() => void)[] = [];
      const touched: ProcessState[] = [];
      for (const u of updates) {
        if (typeof u !== "object" || u === null || typeof (u as { type?: unknown }).type !== "string") {
          return invalid("Each update needs a `type`.");
        }
        const p = findProcess(app, (u as { type: string }).type);
        if (!p) return notFoundProcess((u as { type: string }).type);
        const check = validateUpdate(p, u as Record<string, unknown>);
        if (typeof check !== "function") return check;
        apply.push(check);
        touched.push(p);
      }
      const before = touched.map((p) => ({ quantity: p.quantity, size: p.size }));
      for (const a of apply) a();
      for (const [i, p] of touched.entries())
        announce(app, p, before[i] as { quantity: number; size: string }, actorOf(key));
      return { status: 200, body: touched.map((p) => serialize(app, p)) };
    }

    const p = findProcess(app, typeName ?? "");
    if (!p) return notFoundProcess(typeName ?? "");
    if (method === "GET") return { status: 200, body: serialize(app, p) };
    const check = validateUpdate(p, parsed as Record<string, unknown>);
    if (typeof check !== "function") return check;
    const before = { quantity: p.quantity, size: p.size };
    check();
    announce(app, p, before, actorOf(key));
    return { status: 200, body: serialize(app, p) };
  };

  const actorOf = (key: string) => (key === apiKey ? accountEmail : `collaborator-${key.slice(-6)}@example.com`);
  /** A formation that changed goes to the app's `api:formation` webhooks, with what it was. */
  const announce = (app: AppState, p: ProcessState, before: { quantity: number; size: string }, by: string) => {
    const previous: Record<string, unknown> = {};
    if (before.quantity !== p.quantity) previous.quantity = before.quantity;
    if (before.size !== p.size) previous.size = before.size;
    if (Object.keys(previous).length === 0) return;
    hooks.background(
      { id: app.id, name: app.name },
      {
        resource: "formation",
        action: "update",
        data: { ...serialize(app, p) },
        previous_data: previous,
        actor: { email: by },
      },
    );
  };
  const appRef = (name: string) => {
    const a = findApp(name);
    if (!a) throw new Error(`heroku fake: no app ${name}`);
    return a;
  };

  const nextFault = (method: string, requestId: string | undefined): HerokuFault | undefined => {
    // A fault meant for one request never goes to another (say, one its client gave up on that arrives late).
    const i = queue.findIndex(
      (q) =>
        (q.method === undefined || q.method === method) && (q.requestId === undefined || q.requestId === requestId),
    );
    const entry = queue[i];
    if (entry) {
      entry.times--;
      if (entry.times <= 0) queue.splice(i, 1);
      return entry.fault;
    }
    if (random && random.faults.length > 0 && random.random() < random.probability) {
      return random.faults[Math.floor(random.random() * random.faults.length)] ?? random.faults[0];
    }
    return undefined;
  };

  const send = (res: ServerResponse, answer: Answer, truncate: boolean, request?: HerokuFakeRequest) => {
    if (request) request.status = answer.status;
    let text =
      typeof answer.body === "string" ? answer.body : answer.body === undefined ? "" : JSON.stringify(answer.body);
    const headers: Record<string, string> = {
      "content-type": "application/json",
      // A 429 means the bucket is empty, whatever the fake's own bucket says.
      "ratelimit-remaining": answer.status === 429 ? "0" : remainingHeader(),
      "ratelimit-multiplier": "1",
      "request-id": randomUUID(),
    };
    if (answer.status >= 200 && answer.status < 300)
      headers.etag = `"${createHash("sha1").update(text).digest("hex")}"`;
    if (truncate) text = text.slice(0, Math.floor(text.length / 2));
    for (const [k, v] of Object.entries(answer.headers ?? {})) headers[k.toLowerCase()] = v;
    headers["content-length"] = String(Buffer.byteLength(text));
    res.writeHead(answer.status, headers);
    res.end(text);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const method = req.method ?? "GET";
      const requestId = req.headers["request-id"];
      const fault = nextFault(method, typeof requestId === "string" ? requestId : undefined);
      const request: HerokuFakeRequest = {
        method,
        path: req.url ?? "/",
        headers: req.headers,
        body: parseBody(raw),
        rawBody: raw,
        at: now(),
        fault: fault?.kind,
        remotePort: req.socket.remotePort,
      };
      requests.push(request);
      switch (fault?.kind) {
        case "hang":
          return;
        case "reset":
          req.socket.destroy();
          return;
        case "respond":
          return send(res, { status: fault.status, body: fault.body, headers: fault.headers }, false, request);
        case "delay": {
          const timer = setTimeout(() => {
            timers.delete(timer);
            send(res, handle(req, raw), false, request);
          }, fault.ms);
          timers.add(timer);
          return;
        }
        case "headers": {
          const answer = handle(req, raw);
          return send(res, { ...answer, headers: { ...answer.headers, ...fault.headers } }, false, request);
        }
        default:
          return send(res, handle(req, raw), fault?.kind === "truncate", request);
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    requests,
    count: (method) =>
      method === undefined ? requests.length : requests.filter((r) => r.method === method.toUpperCase()).length,
    formation(app, type) {
      const a = findApp(app);
      const p = a && findProcess(a, type);
      return a && p ? serialize(a, p) : undefined;
    },
    setQuantity(app, type, quantity, by = "developer@example.com") {
      const a = findApp(app);
      const p = a?.formation.get(type);
      if (!a || !p) throw new Error(`heroku fake: no process type ${type} in app ${app}`);
      const before = { quantity: p.quantity, size: p.size };
      p.quantity = quantity;
      p.updatedAt = now();
      announce(a, p, before, by);
    },
    webhooks: (app) => hooks.list(app),
    addWebhook(app, subscription) {
      const a = appRef(app);
      const answer = hooks.create({ id: a.id, name: a.name }, subscription);
      if (answer.status !== 201) throw new Error(`heroku fake: ${JSON.stringify(answer.body)}`);
      return answer.body as HerokuFakeWebhook;
    },
    logDrains: (app) => logDrains.list(appRef(app).name),
    addLogDrain(app, url) {
      const a = appRef(app);
      const answer = logDrains.create({ id: a.id, name: a.name }, { url });
      if (answer.status !== 201) throw new Error(`heroku fake: ${JSON.stringify(answer.body)}`);
      return answer.body as HerokuFakeLogDrain;
    },
    sendWebhook(app, event) {
      const a = appRef(app);
      return hooks.deliver({ id: a.id, name: a.name }, event);
    },
    sendRelease(app, release) {
      const a = appRef(app);
      const at = isoSeconds(now());
      return hooks.deliver(
        { id: a.id, name: a.name },
        {
          resource: "release",
          action: release.action ?? (release.status === "pending" ? "create" : "update"),
          data: {
            addon_plan_names: [],
            app: { id: a.id, name: a.name },
            created_at: at,
            current: release.status === "succeeded",
            description: release.description ?? `Deploy ${randomUUID().slice(0, 8)}`,
            id: randomUUID(),
            output_stream_url: null,
            slug: { id: randomUUID() },
            status: release.status,
            updated_at: at,
            user: { email: "developer@example.com", id: randomUUID() },
            version: release.version,
          },
          previous_data: release.status === "pending" ? {} : { status: "pending" },
        },
      );
    },
    sendDyno(app, dyno) {
      const a = appRef(app);
      const type = dyno.name.split(".")[0] ?? dyno.name;
      const p = a.formation.get(type);
      const at = isoSeconds(now());
      return hooks.deliver(
        { id: a.id, name: a.name },
        {
          resource: "dyno",
          action: dyno.action ?? (dyno.state === "starting" ? "create" : "update"),
          data: {
            app: { id: a.id, name: a.name },
            attach_url: null,
            command: p?.command ?? `npm run ${type}`,
            created_at: at,
            id: randomUUID(),
            name: dyno.name,
            release: { id: randomUUID(), version: 1 },
            size: p?.size ?? "Standard-1X",
            state: dyno.state,
            type,
            updated_at: at,
          },
        },
      );
    },
    redeliver: (delivery) => hooks.redeliver(delivery),
    webhookDeliveries: hooks.sent,
    webhooksSettled: () => hooks.settled(),
    setApp,
    setFeature(app, feature, enabled) {
      const a = appRef(app);
      if (enabled) a.features.add(feature);
      else a.features.delete(feature);
    },
    setMaxQuantity(max) {
      maxQuantity = max;
    },
    get rateLimitRemaining() {
      refill();
      return Math.floor(tokens);
    },
    setRateLimitRemaining(n) {
      refill();
      tokens = n;
    },
    queueFault(fault, opts = {}) {
      queue.push({ fault, times: opts.times ?? 1, method: opts.method?.toUpperCase(), requestId: opts.requestId });
    },
    setRandomFaults(opts) {
      random = opts && { probability: opts.probability, faults: opts.faults, random: opts.random ?? Math.random };
    },
    clearFaults() {
      queue.length = 0;
      random = null;
    },
    clearRequests() {
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function error(status: number, id: string, message: string, url?: string): Answer {
  return { status, body: url ? { id, message, url } : { id, message } };
}

function invalid(message: string): Answer {
  return error(422, "invalid_params", message);
}

function notFoundProcess(type: string): Answer {
  return {
    status: 404,
    body: { resource: "formation", id: "not_found", message: `Couldn't find that process type (${type}).` },
  };
}

/** The `version` parameter of a `application/vnd.heroku+json` Accept entry; null when there is none. */
function acceptedVersion(accept: string | undefined): string | null {
  for (const entry of (accept ?? "").split(",")) {
    const [type, ...params] = entry.split(";").map((s) => s.trim());
    if (type?.toLowerCase() !== "application/vnd.heroku+json") continue;
    for (const p of params) {
      const m = /^version\s*=\s*"?([^"]*)"?$/i.exec(p);
      if (m?.[1]) return m[1];
    }
  }
  return null;
}

function parseBody(raw: string): unknown {
  if (raw === "") return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/** Heroku's timestamps have whole seconds: `2012-01-01T12:00:00Z`. */
function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** A stable uuid-shaped id per size, so `dyno_size.id` is the same across runs. */
function sizeId(size: string): string {
  const h = createHash("sha1").update(`dyno-size:${size}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
