/*
 * Each app's Heroku log drain: an unguessable URL per app (`/drain/<token>`), and the
 * in-memory feeds its deliveries fill for the app's `heroku-router` sources.
 *
 * A delivery never waits on the database: the token → app map is held in memory, loaded at
 * start and refreshed in the background (a token made by another process is learnt within
 * seconds; until then its deliveries get 404, which Logplex retries). The figures are per
 * process: with several server processes behind one URL, each aggregates the deliveries it
 * got, and an app's engine reads those of its own process only.
 */
import type { Clock, Logger, PluginDefinition } from "@dynosaur/core";
import { describeError, inputError } from "@dynosaur/core";
import {
  type DeliveryResult,
  drainFeed,
  dropDrainFeed,
  HEROKU_ROUTER_TYPE,
  type RouterFeed,
  takeDelivery,
} from "@dynosaur/plugin-heroku-router";
import type { Kysely } from "kysely";
import type { Database } from "./db/schema.js";
import { randomToken, sha256 } from "./passwords.js";
import type { SecretBox } from "./secret-box.js";

/** The feed an app's deliveries fill and its heroku-router sources read. */
export const drainFeedKey = (app: string): string => `dynosaur-web:${app}`;

/** Tokens start with this, so a drain URL is recognisable in `heroku drains`. */
const TOKEN_PREFIX = "dd_";
/** Background refreshes of the token map, at most this often. */
const REFRESH_MS = 5_000;

/**
 * Binds every `heroku-router` plugin of an app to the app's own drain feed. A config cannot
 * pick another app's feed (`feed` is set here) nor open a port in the server (`listen`).
 */
export function bindDrainFeeds(plugins: readonly PluginDefinition[], app: string): PluginDefinition[] {
  return plugins.map((plugin) =>
    plugin.type !== HEROKU_ROUTER_TYPE
      ? plugin
      : {
          ...plugin,
          create(options, ctx) {
            const o = options as typeof options & { listen?: unknown; feed?: unknown };
            if (o.listen !== undefined)
              throw inputError("DYNO_CONFIG_INVALID", "listen: dynosaur-web takes the app's drain itself", {
                path: "listen",
                hint: "remove listen (and feed); GET /api/apps/{name}/drain gives the drain URL to add",
              });
            return plugin.create({ ...options, feed: drainFeedKey(app) }, ctx);
          },
        },
  );
}

/** The server has no key to seal a drain token with (PostgreSQL without DYNOSAUR_SECRET_KEY). */
export class NoSecretKey extends Error {
  constructor() {
    super(
      "a drain URL is kept sealed with the server's secret key, and none is set: set DYNOSAUR_SECRET_KEY (openssl rand -hex 32) and restart the server",
    );
  }
}

export interface DrainsDeps {
  db: Kysely<Database>;
  box: SecretBox | null;
  clock: Clock;
  logger: Logger;
  /** The server's public URL ($DYNOSAUR_PUBLIC_URL) drain URLs start with; else the request's own. */
  publicUrl?: string;
}

/** Counters of the deliveries this process took, for the API and logs. */
export interface DrainCounters {
  deliveries: number;
  messages: number;
  malformed: number;
  duplicates: number;
  /** POSTs to a drain URL that names no app: counted here, nowhere else. */
  unknown: number;
}

export class Drains {
  /** token hash → app name */
  #apps = new Map<string, string>();
  #lastRefresh = 0;
  readonly #seen = new Set<string>();
  #refreshing: Promise<void> | null = null;
  readonly counters: DrainCounters = { deliveries: 0, messages: 0, malformed: 0, duplicates: 0, unknown: 0 };

  constructor(private readonly deps: DrainsDeps) {}

  get publicUrl(): string | undefined {
    return this.deps.publicUrl || undefined;
  }

  /** Loads the token map from the database. */
  async load(): Promise<void> {
    const rows = await this.deps.db
      .selectFrom("drains")
      .innerJoin("apps", "apps.id", "drains.app_id")
      .select(["drains.token_hash", "apps.name"])
      .execute();
    this.#apps = new Map(rows.map((r) => [r.token_hash, r.name]));
    this.#lastRefresh = this.deps.clock.now();
  }

  /**
   * The app's drain token, made (and stored, hashed and sealed) on first use. Needs the
   * server's secret key, as the URL is shown again later.
   */
  async token(app: { id: number; name: string }): Promise<string> {
    const box = this.deps.box;
    if (!box) throw new NoSecretKey();
    const found = await this.deps.db
      .selectFrom("drains")
      .select(["token_sealed"])
      .where("app_id", "=", app.id)
      .executeTakeFirst();
    if (found) return box.open(found.token_sealed);
    const token = randomToken(TOKEN_PREFIX);
    const hash = sha256(token);
    await this.deps.db
      .insertInto("drains")
      .values({ app_id: app.id, token_hash: hash, token_sealed: box.seal(token), created_at: this.deps.clock.now() })
      // Two requests racing: the first token stays, and is what both answer.
      .onConflict((oc) => oc.column("app_id").doNothing())
      .execute();
    const stored = await this.deps.db
      .selectFrom("drains")
      .select(["token_sealed", "token_hash"])
      .where("app_id", "=", app.id)
      .executeTakeFirstOrThrow();
    this.#apps.set(stored.token_hash, app.name);
    return box.open(stored.token_sealed);
  }

  /** The app a drain token belongs to; null for an unknown token (then a refresh is started). */
  appOf(token: string): string | null {
    const app = this.#apps.get(sha256(token)) ?? null;
    if (app === null) this.#refreshSoon();
    return app;
  }

  /** The feed of an app's deliveries. */
  feed(app: string): RouterFeed {
    this.#seen.add(app);
    return drainFeed(drainFeedKey(app));
  }

  /** Forgets the feeds of the apps this server saw (the server is stopping). */
  close(): void {
    for (const app of [...this.#seen, ...this.#apps.values()]) dropDrainFeed(drainFeedKey(app));
    this.#seen.clear();
  }

  /** The app's web requests of the last 60 s, as this process got them. */
  lastMinute(app: string) {
    return this.feed(app).window(this.deps.clock.now(), 60, "web");
  }

  /** Takes one delivery for `app`, received now. */
  take(app: string, body: Uint8Array, headers: { msgCount: string | null; frameId: string | null }): DeliveryResult {
    const result = takeDelivery(this.feed(app), body, headers, this.deps.clock.now());
    if (result.duplicate) this.counters.duplicates++;
    else this.counters.deliveries++;
    this.counters.messages += result.messages;
    this.counters.malformed += result.malformed;
    return result;
  }

  /** Waits for a background refresh in progress (tests, shutdown). */
  async settled(): Promise<void> {
    await this.#refreshing;
  }

  #refreshSoon(): void {
    const now = this.deps.clock.now();
    if (this.#refreshing || now - this.#lastRefresh < REFRESH_MS) return;
    this.#lastRefresh = now;
    this.#refreshing = this.load()
      .catch((e) =>
        this.deps.logger.warn(`reading the drain tokens failed: ${describeError(e)}`, { event: "drain-error" }),
      )
      .finally(() => {
        this.#refreshing = null;
      });
  }
}
