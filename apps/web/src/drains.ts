/*
 * Each app's Heroku log drain: an unguessable URL per app (`/drain/<token>`), and the
 * in-memory feeds its deliveries fill for the app's `heroku-router` sources.
 *
 * A delivery never waits on the database: the token → app map is held in memory, loaded at
 * start and refreshed in the background (a token made by another process is learnt within
 * seconds; until then its deliveries get 404, which Logplex retries). With several server
 * processes behind one URL, Heroku spreads the deliveries over them: each aggregates what it
 * got and stores each finished minute (drain_minutes), and an app's feed adds the other
 * processes' latest stored minute to its own live deliveries, so the engine, wherever it runs,
 * reads the whole app.
 */
import type { Clock, Logger, PluginDefinition } from "@dynosaur/core";
import { describeError, inputError } from "@dynosaur/core";
import {
  type DeliveryResult,
  drainFeed,
  dropDrainFeed,
  findDrainFeed,
  HEROKU_ROUTER_TYPE,
  type PeerMinute,
  type RouterFeed,
  takeDelivery,
  type WindowStats,
} from "@dynosaur/plugin-heroku-router";
import type { Kysely } from "kysely";
import type { Database } from "./db/schema.js";
import { randomToken, sha256 } from "./passwords.js";
import type { SecretBox } from "./secret-box.js";

/**
 * The feed an app's deliveries fill and its heroku-router sources read: one per server process
 * (`instance`), so two servers in one Node process (tests) keep apart what each received.
 */
export const drainFeedKey = (app: string, instance = ""): string => `dynosaur-web:${instance}:${app}`;

/** Tokens start with this, so a drain URL is recognisable in `heroku drains`. */
const TOKEN_PREFIX = "dd_";
/** Background refreshes of the token map, at most this often. */
const REFRESH_MS = 5_000;
const MINUTE = 60_000;
/** Tokens whose hash is kept (see `Drains.#hashes`): far more than one server's apps. */
const MAX_CACHED_TOKENS = 10_000;
/** Rows per INSERT of drain minutes: PostgreSQL takes at most 65,535 parameters in one statement. */
const ROWS_PER_INSERT = 500;
/** Apps whose minute is summed up between two turns of the event loop. */
const APPS_PER_SLICE = 20;
/** How long after a minute ends its figures are written. */
const SETTLE_MS = 2_000;
/** How long after a minute ends the other processes' figures of it are read (they wrote theirs at SETTLE_MS). */
const PEERS_MS = 5_000;

/**
 * Binds every `heroku-router` plugin of an app to the app's own drain feed. A config cannot
 * pick another app's feed (`feed` is set here) nor open a port in the server (`listen`).
 */
export function bindDrainFeeds(plugins: readonly PluginDefinition[], feedKey: string): PluginDefinition[] {
  return plugins.map((plugin) => (plugin.type === HEROKU_ROUTER_TYPE ? bound(plugin, feedKey) : plugin));
}

// One wrapper per plugin and app, so a live reconfiguration hands the runtime the same definition again.
const wrappers = new WeakMap<PluginDefinition, Map<string, PluginDefinition>>();

function bound(plugin: PluginDefinition, feedKey: string): PluginDefinition {
  let perApp = wrappers.get(plugin);
  if (!perApp) {
    perApp = new Map();
    wrappers.set(plugin, perApp);
  }
  let wrapper = perApp.get(feedKey);
  if (!wrapper) {
    wrapper = {
      ...plugin,
      create(options, ctx) {
        const o = options as typeof options & { listen?: unknown };
        if (o.listen !== undefined)
          throw inputError("DYNO_CONFIG_INVALID", "listen: dynosaur-web takes the app's drain itself", {
            path: "listen",
            hint: "remove listen (and feed); GET /api/apps/{name}/drain gives the drain URL to add",
          });
        return plugin.create({ ...options, feed: feedKey }, ctx);
      },
    };
    perApp.set(feedKey, wrapper);
  }
  return wrapper;
}

/** The server has no key to seal a drain token with (PostgreSQL without DYNOSAUR_SECRET_KEY). */
export class NoSecretKey extends Error {
  constructor() {
    super(
      "a drain URL is kept sealed with the server's secret key, and none is set: set DYNOSAUR_SECRET_KEY (openssl rand -hex 32) and restart the server",
    );
  }
}

/** What the server asks Heroku about an app's drain, with the app's own key (heroku-app-calls.ts). */
export interface DrainHeroku {
  /**
   * Adds `url` to the app's Heroku log drains (`POST /apps/{app}/log-drains`) unless
   * `GET /apps/{app}/log-drains` lists it already; throws why not (a dry run: an input error
   * at its config path; Heroku's refusal: its message, never the key).
   */
  addDrain(app: { id: number; name: string }, url: string): Promise<{ added: boolean; herokuApp: string }>;
}

export interface DrainsDeps {
  db: Kysely<Database>;
  box: SecretBox | null;
  clock: Clock;
  logger: Logger;
  /** This server process: its per-minute rows are its own (each process aggregates what it gets). */
  instance: string;
  /** Days the per-minute rows are kept. */
  retentionDays: number;
  /** The server's public URL ($DYNOSAUR_PUBLIC_URL) drain URLs start with; else the request's own. */
  publicUrl?: string;
  /** Heroku, to add an app's drain itself when asked (POST /api/apps/{name}/drain/register); none: not offered. */
  heroku?: DrainHeroku;
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
  /**
   * token → its hash, for the tokens that named an app: each drain posts about once a second,
   * and hashing its token every time cost more than reading its lines. Bounded: cleared when full.
   */
  #hashes = new Map<string, string>();
  #lastRefresh = 0;
  #loop: Promise<void> | null = null;
  readonly #stopping = new AbortController();
  readonly #seen = new Set<string>();
  #refreshing: Promise<void> | null = null;
  readonly counters: DrainCounters = { deliveries: 0, messages: 0, malformed: 0, duplicates: 0, unknown: 0 };

  constructor(private readonly deps: DrainsDeps) {}

  get publicUrl(): string | undefined {
    return this.deps.publicUrl || undefined;
  }

  /** Heroku, to add a drain with; undefined when this server does not. */
  get heroku(): DrainHeroku | undefined {
    return this.deps.heroku;
  }

  /** Loads the token map, then writes each finished minute's figures (in the background, on the clock). */
  async start(): Promise<void> {
    await this.load();
    this.#loop ??= this.#persistLoop();
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
    const known = this.#hashes.get(token);
    const hash = known ?? sha256(token);
    const app = this.#apps.get(hash) ?? null;
    if (app === null) this.#refreshSoon();
    else if (known === undefined) {
      if (this.#hashes.size >= MAX_CACHED_TOKENS) this.#hashes.clear();
      this.#hashes.set(token, hash);
    }
    return app;
  }

  /** The feed of an app's deliveries. */
  feed(app: string): RouterFeed {
    this.#seen.add(app);
    return drainFeed(this.#key(app));
  }

  #key(app: string): string {
    return drainFeedKey(app, this.deps.instance);
  }

  /** Stops writing minutes and forgets the feeds of the apps this server saw (the server is stopping). */
  async close(): Promise<void> {
    this.#stopping.abort();
    await this.#loop;
    await this.#refreshing;
    for (const app of this.#names()) dropDrainFeed(this.#key(app));
    this.#seen.clear();
  }

  /**
   * Writes the figures of the minute starting at `minute` (ms) for every app whose drain
   * delivered in it, and deletes rows older than the retention. Idempotent per process.
   *
   * Runs beside the deliveries on one event loop, and SQLite's statements run on it too: the
   * work goes in slices (figures of APPS_PER_SLICE apps, ROWS_PER_INSERT rows, an hour of old
   * rows), each followed by a turn of the loop, so a delivery waits for one slice, not all.
   */
  async persist(minute: number): Promise<number> {
    const figures = new Map<string, WindowStats>();
    let n = 0;
    for (const name of this.#names()) {
      // Its own deliveries only: the other processes store theirs.
      const stats = findDrainFeed(this.#key(name))?.ownWindow(minute + MINUTE - 1, MINUTE / 1000, "web");
      if (stats && stats.messages > 0) figures.set(name, stats);
      if (++n % APPS_PER_SLICE === 0) await yieldToLoop();
    }
    let written = 0;
    for (const names of chunks([...figures.keys()], ROWS_PER_INSERT)) {
      const apps = await this.deps.db.selectFrom("apps").select(["id", "name"]).where("name", "in", names).execute();
      const rows = apps.map(({ id, name }) =>
        minuteRow(id, minute, this.deps.instance, figures.get(name) as WindowStats),
      );
      if (rows.length > 0) {
        await this.deps.db
          .insertInto("drain_minutes")
          .values(rows)
          .onConflict((oc) => oc.columns(["app_id", "minute", "instance"]).doNothing())
          .execute();
        written += rows.length;
      }
      await yieldToLoop();
    }
    await this.#deleteBefore(this.deps.clock.now() - this.deps.retentionDays * 24 * 60 * MINUTE);
    return written;
  }

  /** Deletes the rows of minutes before `cutoff`, an hour of them at a time (a server back after days has many). */
  async #deleteBefore(cutoff: number): Promise<void> {
    for (;;) {
      const oldest = await this.deps.db
        .selectFrom("drain_minutes")
        .select((eb) => eb.fn.min("minute").as("minute"))
        .executeTakeFirst();
      const from = oldest?.minute === null || oldest?.minute === undefined ? null : Number(oldest.minute);
      if (from === null || from >= cutoff) return;
      await this.deps.db
        .deleteFrom("drain_minutes")
        .where("minute", "<", Math.min(cutoff, from + 60 * MINUTE))
        .execute();
      await yieldToLoop();
    }
  }

  /** The app's per-minute rows since `since` (ms), oldest first, every process's. */
  async minutes(appId: number, since: number, limit: number) {
    return this.deps.db
      .selectFrom("drain_minutes")
      .selectAll()
      .where("app_id", "=", appId)
      .where("minute", ">=", since)
      .orderBy("minute")
      .limit(limit)
      .execute();
  }

  /** Whether the app has a drain URL (one was asked for: GET /api/apps/{name}/drain). */
  async hasDrain(appId: number): Promise<boolean> {
    const row = await this.deps.db.selectFrom("drains").select("app_id").where("app_id", "=", appId).executeTakeFirst();
    return row !== undefined;
  }

  /**
   * When the app's drain last sent a line (ms), as this server knows it: this process's
   * deliveries and the other processes' minutes (the feed); with none (after a restart the feed
   * starts empty), the end of the newest stored minute. Null when it never sent one.
   */
  async lastLineAt(app: { id: number; name: string }): Promise<number | null> {
    const live = this.feed(app.name).lastMessageAt;
    if (live !== null) return live;
    const stored = await this.deps.db
      .selectFrom("drain_minutes")
      .select((eb) => eb.fn.max("minute").as("minute"))
      .where("app_id", "=", app.id)
      .where("messages", ">", 0)
      .executeTakeFirst();
    return stored?.minute === null || stored?.minute === undefined ? null : Number(stored.minute) + MINUTE;
  }

  #names(): Set<string> {
    return new Set([...this.#seen, ...this.#apps.values()]);
  }

  async #persistLoop(): Promise<void> {
    const signal = this.#stopping.signal;
    while (!signal.aborted) {
      const now = this.deps.clock.now();
      // A little after the minute ends, so a delivery sent in its last second has arrived.
      const due = (Math.floor(now / MINUTE) + 1) * MINUTE + SETTLE_MS;
      await this.deps.clock.sleep(due - now, signal).catch(() => {});
      if (signal.aborted) return;
      const minute = due - SETTLE_MS - MINUTE;
      await this.persist(minute).catch((e) =>
        this.deps.logger.warn(`storing the drains' minutes failed: ${describeError(e)}`, { event: "drain-error" }),
      );
      const peersAt = minute + MINUTE + PEERS_MS;
      await this.deps.clock.sleep(peersAt - this.deps.clock.now(), signal).catch(() => {});
      if (signal.aborted) return;
      await this.readPeers(minute).catch((e) =>
        this.deps.logger.warn(`reading the other processes' drain minutes failed: ${describeError(e)}`, {
          event: "drain-error",
        }),
      );
    }
  }

  /**
   * Hands every app's feed the minute starting at `minute` as the other server processes stored
   * it (none: their figures drop out). Their minute stands for their share of the drain now.
   */
  async readPeers(minute: number): Promise<void> {
    const rows = await this.deps.db
      .selectFrom("drain_minutes")
      .innerJoin("apps", "apps.id", "drain_minutes.app_id")
      .selectAll("drain_minutes")
      .select("apps.name")
      .where("drain_minutes.minute", "=", minute)
      .where("drain_minutes.instance", "!=", this.deps.instance)
      .execute();
    const byApp = new Map<string, PeerMinute[]>();
    for (const r of rows) {
      const m = Number(r.minute);
      const peer: PeerMinute = {
        minute: m,
        requests: r.requests,
        messages: r.messages,
        service:
          r.service_p50 === null
            ? null
            : {
                p50: r.service_p50,
                p95: r.service_p95 ?? r.service_p50,
                p99: r.service_p99 ?? r.service_p95 ?? r.service_p50,
                max: r.service_max ?? r.service_p99 ?? r.service_p95 ?? r.service_p50,
              },
        queue:
          r.queue_p95 === null
            ? null
            : {
                n: r.queue_n,
                p50: r.queue_p50 ?? r.queue_p95,
                p95: r.queue_p95,
                max: r.queue_max ?? r.queue_p95,
              },
      };
      byApp.set(r.name, [...(byApp.get(r.name) ?? []), peer]);
    }
    for (const name of new Set([...this.#names(), ...byApp.keys()])) this.feed(name).setPeers(byApp.get(name) ?? []);
  }

  /** The server's clock. */
  now(): number {
    return this.deps.clock.now();
  }

  /** The app's web requests of the last 60 s: this process's deliveries and the others' latest minute. */
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

  /** A delivery that could not be taken (a bug, never the body's content): logged; answered 500. */
  deliveryFailed(app: string, e: unknown): void {
    this.deps.logger.error(`taking a delivery to ${app}'s drain failed: ${describeError(e)}`, { event: "http-error" });
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

/** A turn of the event loop: deliveries waiting are served before the next slice of work. */
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

/** One app's row of drain_minutes. */
function minuteRow(appId: number, minute: number, instance: string, s: WindowStats) {
  return {
    app_id: appId,
    minute,
    instance,
    requests: s.requests,
    service_p50: s.service?.p50 ?? null,
    service_p95: s.service?.p95 ?? null,
    service_p99: s.service?.p99 ?? null,
    service_max: s.service?.max ?? null,
    connect_mean: s.connect?.mean ?? null,
    queue_n: s.queue?.n ?? 0,
    queue_p50: s.queue?.p50 ?? null,
    queue_p95: s.queue?.p95 ?? null,
    queue_max: s.queue?.max ?? null,
    statuses: JSON.stringify(s.statuses),
    errors: JSON.stringify(s.errors),
    messages: s.messages,
  };
}
