/**
 * The app webhooks of the Heroku fake: subscriptions (`POST`/`GET /apps/{app}/webhooks`,
 * checked as Heroku checks them) and the deliveries Heroku would send them, with real-shaped
 * bodies signed as Heroku signs them (`Heroku-Webhook-Hmac-SHA256`: base64 of HMAC-SHA256 over
 * the raw body, keyed with the subscription's secret). Tests send through this rather than
 * writing bodies by hand.
 */
import { createHmac, randomUUID } from "node:crypto";

/** The entities an app webhook may include (Heroku's list). */
export const HEROKU_WEBHOOK_ENTITIES = [
  "api:addon-attachment",
  "api:addon",
  "api:app",
  "api:build",
  "api:collaborator",
  "api:domain",
  "api:dyno",
  "api:formation",
  "api:release",
  "api:sni-endpoint",
] as const;

export interface HerokuFakeWebhook {
  id: string;
  app: { id: string; name: string };
  created_at: string;
  include: string[];
  level: "notify" | "sync";
  updated_at: string;
  url: string;
}

/** One event to deliver: the resource as Heroku would show it now, and what changed. */
export interface HerokuWebhookEvent {
  resource: "formation" | "release" | "dyno" | string;
  action: "create" | "update" | "destroy";
  data: Record<string, unknown>;
  previous_data?: Record<string, unknown>;
  /** Who made the change. @default a developer of the app */
  actor?: { email: string; id?: string };
}

/** One delivery as sent, and how the receiver answered. */
export interface HerokuWebhookDelivery {
  webhookId: string;
  url: string;
  /** The event's id (the body's `id`): the same on every redelivery of the event. */
  eventId: string;
  /** The delivery's id (`Heroku-Webhook-Id`). */
  deliveryId: string;
  body: string;
  headers: Record<string, string>;
  /** The receiver's status; 0 when it could not be reached. */
  status: number;
  /** The receiver's answer, as text. */
  answer: string;
}

/** Heroku's signature of a raw body. */
export function signHerokuWebhook(secret: string, body: string): string {
  return createHmac("sha256", secret).update(body).digest("base64");
}

interface Subscription extends HerokuFakeWebhook {
  secret: string | null;
  authorization: string | null;
}

type Answer = { status: number; body: unknown };

/** Subscriptions and deliveries of every app of one fake. */
export class FakeWebhooks {
  readonly #subs = new Map<string, Subscription[]>();
  readonly #inFlight = new Set<Promise<unknown>>();
  /** Every delivery sent, in order. */
  readonly sent: HerokuWebhookDelivery[] = [];

  // A plain field, not a parameter property: benchmarks load the fakes with node's type stripping.
  readonly now: () => number;

  constructor(now: () => number) {
    this.now = now;
  }

  /** `POST /apps/{app}/webhooks`: refuses what Heroku refuses (422 `invalid_params`). */
  create(app: { id: string; name: string }, body: unknown): Answer {
    if (typeof body !== "object" || body === null || Array.isArray(body))
      return invalid("The request body must be a JSON object.");
    const b = body as Record<string, unknown>;
    const include = b.include;
    if (!Array.isArray(include) || include.length === 0)
      return invalid('Provide `include`, an array of one or more entities, e.g. ["api:release"].');
    const unknown = include.filter((e) => !(HEROKU_WEBHOOK_ENTITIES as readonly unknown[]).includes(e));
    if (unknown.length > 0)
      return invalid(`Invalid include ${JSON.stringify(unknown)}: pick from ${HEROKU_WEBHOOK_ENTITIES.join(", ")}.`);
    if (b.level !== "notify" && b.level !== "sync") return invalid("Invalid level: it must be notify or sync.");
    if (typeof b.url !== "string" || !isHttpUrl(b.url)) return invalid("Invalid url: it must be an http(s) URL.");
    if (b.secret !== undefined && b.secret !== null && typeof b.secret !== "string")
      return invalid("Invalid secret: it must be a string.");
    if (b.authorization !== undefined && b.authorization !== null && typeof b.authorization !== "string")
      return invalid("Invalid authorization: it must be a string.");
    const list = this.#subs.get(app.name) ?? [];
    const at = iso(this.now());
    const sub: Subscription = {
      id: randomUUID(),
      app: { ...app },
      created_at: at,
      include: [...new Set(include as string[])],
      level: b.level,
      updated_at: at,
      url: b.url,
      secret: (b.secret as string | null | undefined) ?? null,
      authorization: (b.authorization as string | null | undefined) ?? null,
    };
    this.#subs.set(app.name, [...list, sub]);
    return { status: 201, body: shown(sub) };
  }

  /** `GET /apps/{app}/webhooks`. */
  list(app: string): HerokuFakeWebhook[] {
    return (this.#subs.get(app) ?? []).map(shown);
  }

  /** Sends `event` of `app` to every subscription that includes `api:<resource>`; resolves with the deliveries. */
  async deliver(app: { id: string; name: string }, event: HerokuWebhookEvent): Promise<HerokuWebhookDelivery[]> {
    const include = `api:${event.resource}`;
    const subs = (this.#subs.get(app.name) ?? []).filter((s) => s.include.includes(include));
    const eventId = randomUUID();
    const at = iso(this.now());
    const actor = event.actor ?? { email: "developer@example.com" };
    return Promise.all(
      subs.map((sub) => {
        const body = {
          id: eventId,
          action: event.action,
          actor: { email: actor.email, id: actor.id ?? accountId(actor.email) },
          created_at: at,
          data: event.data,
          previous_data: event.previous_data ?? {},
          published_at: null,
          resource: event.resource,
          sequence: null,
          updated_at: at,
          version: "application/vnd.heroku+json; version=3",
          webhook_metadata: {
            attempt: { id: randomUUID() },
            delivery: { id: randomUUID() },
            event: { id: eventId, include },
            webhook: { id: sub.id },
          },
        };
        return this.#send(sub, eventId, JSON.stringify(body));
      }),
    );
  }

  /** Sends a delivery's event again, as a retry: same event id and body, a new delivery id. */
  redeliver(delivery: HerokuWebhookDelivery): Promise<HerokuWebhookDelivery> {
    const sub = [...this.#subs.values()].flat().find((s) => s.id === delivery.webhookId);
    if (!sub) throw new Error(`heroku fake: no webhook ${delivery.webhookId}`);
    return this.#send(sub, delivery.eventId, delivery.body);
  }

  /** Delivers in the background (as Heroku does after a change); `settled()` waits for it. */
  background(app: { id: string; name: string }, event: HerokuWebhookEvent): void {
    if (!this.#subs.get(app.name)?.some((s) => s.include.includes(`api:${event.resource}`))) return;
    const run = this.deliver(app, event).catch(() => {});
    this.#inFlight.add(run);
    void run.finally(() => this.#inFlight.delete(run));
  }

  /** Resolves once every background delivery has been answered. */
  async settled(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
  }

  async #send(sub: Subscription, eventId: string, body: string): Promise<HerokuWebhookDelivery> {
    const deliveryId = randomUUID();
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "heroku-webhook-id": deliveryId,
      "heroku-webhook-sent-at": iso(this.now()),
    };
    if (sub.secret !== null) headers["heroku-webhook-hmac-sha256"] = signHerokuWebhook(sub.secret, body);
    if (sub.authorization !== null) headers.authorization = sub.authorization;
    const delivery: HerokuWebhookDelivery = {
      webhookId: sub.id,
      url: sub.url,
      eventId,
      deliveryId,
      body,
      headers,
      status: 0,
      answer: "",
    };
    try {
      const res = await fetch(sub.url, { method: "POST", headers, body });
      delivery.status = res.status;
      delivery.answer = await res.text();
    } catch {
      // Unreachable: Heroku marks the delivery failed.
    }
    this.sent.push(delivery);
    return delivery;
  }
}

function shown(s: Subscription): HerokuFakeWebhook {
  const { secret: _secret, authorization: _authorization, ...rest } = s;
  return { ...rest, include: [...rest.include] };
}

function invalid(message: string): Answer {
  return { status: 422, body: { id: "invalid_params", message } };
}

function isHttpUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return u.protocol === "https:" || u.protocol === "http:";
  } catch {
    return false;
  }
}

/** A stable uuid-shaped account id per email. */
function accountId(email: string): string {
  let h = 0;
  for (const ch of email) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  const hex = h.toString(16).padStart(8, "0");
  return `${hex}-0000-4000-8000-${hex}0000`;
}

/** Heroku's timestamps have whole seconds. */
function iso(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}
