/*
 * Heroku app webhooks in: each app gets a URL on this server (`/heroku-webhook/<token>`) and a
 * secret Heroku signs its deliveries with. A delivery is believed only when its
 * `Heroku-Webhook-Hmac-SHA256` is the HMAC-SHA256 of its raw body under the app's secret
 * (compared in constant time); an event already taken (its `id`, which a retry keeps) is
 * acknowledged and ignored, across server processes (the database holds the ids).
 *
 * What a delivery tells goes to the app's engine at once, not at its next tick: a formation
 * change nobody here asked for (a manual change naming who made it, the blackout restarts), a
 * release (Heroku refuses formation changes while a preboot release starts its dynos: changes
 * are held meanwhile, and the app says why), dyno states (real boot time per process type,
 * from `starting` to `up`). While deliveries arrive, the engine reads the formation only as a
 * slow safety read.
 *
 * Deliveries for an app whose engine runs in another server process are verified and
 * recorded here (release events), but their formation news reaches that engine by its own
 * reads.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { Clock, FormationNews, Logger } from "@dynosaur/core";
import { describeError } from "@dynosaur/core";
import type { Kysely } from "kysely";
import type { Database } from "./db/schema.js";
import type { EngineEvent } from "./engine.js";
import { randomToken, sha256 } from "./passwords.js";
import type { SecretBox } from "./secret-box.js";

/** Tokens start with this, so the URL is recognisable in `heroku webhooks`. */
const TOKEN_PREFIX = "dw_";
/** The entities subscribed to. */
export const WEBHOOK_INCLUDE = ["api:formation", "api:release", "api:dyno"] as const;
/**
 * How long formation changes are held after a release starts its dynos with preboot: Heroku
 * makes the new dynos routable a few minutes after they boot, then stops the old ones.
 */
export const PREBOOT_HOLD_MS = 5 * 60 * 1000;
/** Event ids are kept this long: Heroku retries a `sync` delivery for far less. */
const EVENT_ID_DAYS = 3;
/** Boot times kept per process type. */
const BOOT_SAMPLES = 20;

/** Where an app's engine is, for what a delivery tells (the supervisor). */
export interface WebhookEngines {
  /** Hands `news` to the app's engine, records the events it made; false when its engine does not run here. */
  observe(app: string, news: FormationNews): boolean;
  /** Records an event of the app (release, hold), wherever its engine runs. */
  note(appId: number, event: EngineEvent): void;
}

/** What the server asks Heroku about an app, with the app's own key (heroku-app-calls.ts). */
export interface WebhookHeroku {
  /** The Heroku app's name in the app's config; null when it has none. */
  appName(app: { id: number; name: string }): Promise<string | null>;
  /** Whether the app has Heroku's preboot feature on; null when that cannot be asked (dry run, no key). */
  preboot(app: { id: number; name: string }): Promise<boolean | null>;
  /** Subscribes `url` to the app's events (`POST /apps/{app}/webhooks`); throws why not. */
  subscribe(
    app: { id: number; name: string },
    hook: { url: string; secret: string; include: readonly string[] },
  ): Promise<void>;
}

export interface HerokuWebhooksDeps {
  db: Kysely<Database>;
  box: SecretBox | null;
  clock: Clock;
  logger: Logger;
  engines: WebhookEngines;
  heroku: WebhookHeroku;
}

/** A delivery's fate, for the ingest's answer. */
export type TakeResult = "unknown" | "unsigned" | "bad-signature" | "malformed" | "duplicate" | "taken";

/** Boot times measured for one process type (seconds, newest last). */
export interface BootTimes {
  samples: number[];
  last: number;
  median: number;
}

/** What this process saw of one app's webhooks. */
export interface WebhookCounters {
  deliveries: number;
  duplicates: number;
  /** Deliveries refused: no signature, or not the app's. */
  refused: number;
  lastDeliveryAt: number | null;
}

/** The server has no key to seal a webhook secret with (PostgreSQL without DYNOSAUR_SECRET_KEY). */
export class NoWebhookKey extends Error {
  constructor() {
    super(
      "a webhook secret is kept sealed with the server's secret key, and none is set: set DYNOSAUR_SECRET_KEY (openssl rand -hex 32) and restart the server",
    );
  }
}

export class HerokuWebhooks {
  readonly #counters = new Map<number, WebhookCounters>();
  /** app id → dyno name → when it was seen starting */
  readonly #starting = new Map<number, Map<string, number>>();
  /** app id → process type → boot seconds */
  readonly #boots = new Map<number, Map<string, number[]>>();
  /** `app id:type` → the newest formation `updated_at` (ms) a delivery told: an older one arriving late is stale. */
  readonly #formationAt = new Map<string, number>();

  constructor(private readonly deps: HerokuWebhooksDeps) {}

  /**
   * The app's webhook token (made on first use, kept) and a new secret, stored sealed: the
   * secret is shown once, to the caller. A new secret replaces the old one, so the old
   * subscription's deliveries are refused from now on.
   */
  async create(app: { id: number }): Promise<{ token: string; secret: string }> {
    const box = this.deps.box;
    if (!box) throw new NoWebhookKey();
    const secret = randomToken("dws_");
    const found = await this.deps.db
      .selectFrom("heroku_webhooks")
      .select(["token_sealed"])
      .where("app_id", "=", app.id)
      .executeTakeFirst();
    if (found) {
      await this.deps.db
        .updateTable("heroku_webhooks")
        .set({ secret_sealed: box.seal(secret) })
        .where("app_id", "=", app.id)
        .execute();
      return { token: box.open(found.token_sealed), secret };
    }
    const token = randomToken(TOKEN_PREFIX);
    await this.deps.db
      .insertInto("heroku_webhooks")
      .values({
        app_id: app.id,
        token_hash: sha256(token),
        token_sealed: box.seal(token),
        secret_sealed: box.seal(secret),
        created_at: this.deps.clock.now(),
      })
      .onConflict((oc) => oc.column("app_id").doUpdateSet({ secret_sealed: box.seal(secret) }))
      .execute();
    const stored = await this.deps.db
      .selectFrom("heroku_webhooks")
      .select(["token_sealed"])
      .where("app_id", "=", app.id)
      .executeTakeFirstOrThrow();
    return { token: box.open(stored.token_sealed), secret };
  }

  /** The Heroku app the app scales (its config's), or null. */
  herokuAppName(app: { id: number; name: string }): Promise<string | null> {
    return this.deps.heroku.appName(app).catch(() => null);
  }

  /** Subscribes this server to the app's formation, release and dyno events with the app's key. */
  subscribe(app: { id: number; name: string }, hook: { url: string; secret: string }): Promise<void> {
    return this.deps.heroku.subscribe(app, { ...hook, include: WEBHOOK_INCLUDE });
  }

  /** Whether the app has a webhook secret. */
  async exists(appId: number): Promise<boolean> {
    const row = await this.deps.db
      .selectFrom("heroku_webhooks")
      .select("app_id")
      .where("app_id", "=", appId)
      .executeTakeFirst();
    return row !== undefined;
  }

  counters(appId: number): WebhookCounters {
    let c = this.#counters.get(appId);
    if (!c) {
      c = { deliveries: 0, duplicates: 0, refused: 0, lastDeliveryAt: null };
      this.#counters.set(appId, c);
    }
    return c;
  }

  /** Boot times measured from the app's dyno deliveries, per process type. */
  bootTimes(appId: number): Record<string, BootTimes> {
    const out: Record<string, BootTimes> = {};
    for (const [type, samples] of this.#boots.get(appId) ?? []) {
      const sorted = [...samples].sort((a, b) => a - b);
      out[type] = {
        samples: [...samples],
        last: samples[samples.length - 1] as number,
        median: sorted[Math.floor((sorted.length - 1) / 2)] as number,
      };
    }
    return out;
  }

  /** Takes one delivery to `/heroku-webhook/<token>`: verified, deduplicated, then handed on. */
  async take(token: string, body: Uint8Array, signature: string | null): Promise<TakeResult> {
    const row = await this.deps.db
      .selectFrom("heroku_webhooks")
      .innerJoin("apps", "apps.id", "heroku_webhooks.app_id")
      .select(["heroku_webhooks.secret_sealed", "apps.id", "apps.name"])
      .where("heroku_webhooks.token_hash", "=", sha256(token))
      .executeTakeFirst();
    if (!row || !this.deps.box) return "unknown";
    const counters = this.counters(row.id);
    if (!signature) {
      counters.refused++;
      return "unsigned";
    }
    if (!signedBy(this.deps.box.open(row.secret_sealed), body, signature)) {
      counters.refused++;
      return "bad-signature";
    }
    let event: WebhookEvent;
    try {
      event = parseEvent(body);
    } catch {
      return "malformed";
    }
    if (!(await this.#firstTime(row.id, event.id))) {
      counters.duplicates++;
      return "duplicate";
    }
    counters.deliveries++;
    counters.lastDeliveryAt = this.deps.clock.now();
    await this.#handle({ id: row.id, name: row.name }, event).catch((e) =>
      this.deps.logger.warn(`a Heroku webhook of ${row.name} could not be handled: ${describeError(e)}`, {
        event: "webhook-error",
        web_app: row.name,
      }),
    );
    return "taken";
  }

  /** Records the event id; false when it was there already (a retry, or a replay). */
  async #firstTime(appId: number, eventId: string): Promise<boolean> {
    const now = this.deps.clock.now();
    const inserted = await this.deps.db
      .insertInto("heroku_webhook_events")
      .values({ app_id: appId, event_id: eventId, received_at: now })
      .onConflict((oc) => oc.columns(["app_id", "event_id"]).doNothing())
      .executeTakeFirst();
    await this.deps.db
      .deleteFrom("heroku_webhook_events")
      .where("received_at", "<", now - EVENT_ID_DAYS * 24 * 3_600_000)
      .execute();
    return Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async #handle(app: { id: number; name: string }, event: WebhookEvent): Promise<void> {
    const { engines } = this.deps;
    engines.observe(app.name, { kind: "webhook" });
    const data = event.data;
    if (event.resource === "formation" && event.action === "update") {
      const type = str(data.type);
      const quantity = data.quantity;
      const previous = event.previous_data.quantity;
      if (!type || typeof quantity !== "number" || typeof previous !== "number" || previous === quantity) return;
      // Heroku does not promise order: a change older than one already told is no news.
      const at = Date.parse(str(data.updated_at) ?? "");
      const key = `${app.id}:${type}`;
      if (Number.isFinite(at)) {
        if (at < (this.#formationAt.get(key) ?? Number.NEGATIVE_INFINITY)) return;
        this.#formationAt.set(key, at);
      }
      engines.observe(app.name, { kind: "formation", type, quantity, from: previous, actor: str(event.actor?.email) });
      return;
    }
    if (event.resource === "release") return this.#release(app, event);
    if (event.resource === "dyno") this.#dyno(app.id, data);
  }

  async #release(app: { id: number; name: string }, event: WebhookEvent): Promise<void> {
    const data = event.data;
    const version = typeof data.version === "number" ? `v${data.version}` : "a release";
    const status = str(data.status) ?? "unknown";
    const by = str((data.user as { email?: unknown } | undefined)?.email) ?? str(event.actor?.email);
    const description = str(data.description);
    const now = this.deps.clock.now();
    this.deps.engines.note(app.id, {
      time: now,
      kind: "release",
      message: `Heroku release ${version} ${status}${description ? `: ${description}` : ""}${by ? ` (by ${by})` : ""}`,
      data: { process: null, version: data.version ?? null, status, actor: by },
    });
    if (status === "failed") {
      this.deps.engines.observe(app.name, { kind: "lift" });
      return;
    }
    // The new release's dynos start when it succeeds; with preboot on, Heroku refuses formation
    // changes until they have taken over.
    if (status !== "succeeded") return;
    const preboot = await this.deps.heroku.preboot(app).catch((e) => {
      this.deps.logger.warn(`${app.name}: could not ask Heroku whether preboot is on: ${describeError(e)}`, {
        event: "webhook-error",
        web_app: app.name,
      });
      return null;
    });
    if (!preboot) return;
    const until = now + PREBOOT_HOLD_MS;
    const reason = `Heroku is prebooting release ${version} and refuses formation changes until ${new Date(until).toISOString().slice(11, 19)} UTC`;
    this.deps.engines.observe(app.name, { kind: "hold", reason, until });
    this.deps.engines.note(app.id, {
      time: now,
      kind: "formation-held",
      message: `formation changes held: ${reason}`,
      data: { process: null, until, version: data.version ?? null },
    });
  }

  /** A dyno seen `starting` then `up`: its process type's boot time. */
  #dyno(appId: number, data: Record<string, unknown>): void {
    const name = str(data.name);
    const type = str(data.type);
    const state = str(data.state);
    if (!name || !type) return;
    const now = this.deps.clock.now();
    let starting = this.#starting.get(appId);
    if (!starting) {
      starting = new Map();
      this.#starting.set(appId, starting);
    }
    if (state === "starting") {
      starting.set(name, now);
      return;
    }
    const since = starting.get(name);
    starting.delete(name);
    if (state !== "up" || since === undefined) return;
    let byType = this.#boots.get(appId);
    if (!byType) {
      byType = new Map();
      this.#boots.set(appId, byType);
    }
    const samples = [...(byType.get(type) ?? []), (now - since) / 1000].slice(-BOOT_SAMPLES);
    byType.set(type, samples);
  }
}

/** The fields of a delivery read here (Heroku's body has more). */
interface WebhookEvent {
  id: string;
  resource: string;
  action: string;
  actor: { email?: unknown } | null;
  data: Record<string, unknown>;
  previous_data: Record<string, unknown>;
}

function parseEvent(body: Uint8Array): WebhookEvent {
  const parsed = JSON.parse(Buffer.from(body).toString("utf8")) as Record<string, unknown>;
  const id = str(parsed.id);
  const resource = str(parsed.resource);
  const action = str(parsed.action);
  const data = parsed.data;
  if (!id || !resource || !action || typeof data !== "object" || data === null) throw new Error("not a Heroku event");
  const previous = parsed.previous_data;
  return {
    id,
    resource,
    action,
    actor: typeof parsed.actor === "object" ? (parsed.actor as { email?: unknown }) : null,
    data: data as Record<string, unknown>,
    previous_data: typeof previous === "object" && previous !== null ? (previous as Record<string, unknown>) : {},
  };
}

/** Whether `signature` (base64) is the HMAC-SHA256 of `body` under `secret`, compared in constant time. */
export function signedBy(secret: string, body: Uint8Array, signature: string): boolean {
  const expected = createHmac("sha256", secret).update(body).digest();
  const given = Buffer.from(signature.trim(), "base64");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);
