import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type ServerOptions as HttpServerOptions, type RequestListener } from "node:http";
import { hostname } from "node:os";
import { dirname, resolve } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath } from "node:url";
import { type Clock, type Logger, type LogLevel, Redactor, systemClock } from "@dynosaur/core";
import { ApiBudgets, localOwnership, type Ownership, PluginLoader, pgOwnership } from "@dynosaur/host";
import { serve } from "@hono/node-server";
import { Agent, type Dispatcher } from "undici";
import { ConfigService, DEFAULT_MAX_APPS } from "./configs.js";
import { openStore, type Store } from "./db/connect.js";
import { Drains, drainFeedKey } from "./drains.js";
import { pgFormationNewsRelay } from "./formation-news-relay.js";
import { herokuAppCalls } from "./heroku-app-calls.js";
import { HerokuWebhooks } from "./heroku-webhooks.js";
import { createApi } from "./http/api.js";
import { ensureAdmin, loginLimit } from "./http/auth.js";
import { withDrainIngest } from "./http/drain-ingest.js";
import { withHerokuWebhookIngest } from "./http/heroku-webhook-ingest.js";
import { defaultPagesDir } from "./http/pages.js";
import { createServerLogger, type LogFormat } from "./log.js";
import { LoginLimiter } from "./login-limiter.js";
import { Pruner, retention } from "./pruner.js";
import { Recorder } from "./recorder.js";
import { createSecretBox, loadSecretKey, type SecretBox } from "./secret-box.js";
import { holdSqliteLock } from "./single-process.js";
import { ApiBudgetStore } from "./store/api-budgets.js";
import { AppDirectory } from "./store/app-directory.js";
import { AppStore } from "./store/apps.js";
import { AuthStore } from "./store/auth.js";
import { InstanceStore } from "./store/instances.js";
import { NotifyOutboxStore } from "./store/notify-outbox.js";
import { ReadingStore } from "./store/readings.js";
import { Supervisor } from "./supervisor.js";

export interface ServerOptions {
  env: Record<string, string | undefined>;
  cwd: string;
  /** SQLite file when there is no DATABASE_URL. @default "dynosaur.db" in `cwd` */
  db?: string;
  /** @default $PORT, else 3000 */
  port?: number;
  /** @default 0.0.0.0 when $PORT is set (Heroku), else 127.0.0.1 */
  host?: string;
  clock?: Clock;
  /** HTTP dispatcher of plugins and the Heroku client. */
  http?: Dispatcher;
  logFormat?: LogFormat;
  logLevel?: LogLevel;
  write?: (line: string) => void;
  /** Milliseconds between supervision rounds. @default 2000 */
  pollMs?: number;
  /** Milliseconds a stopping engine may finish its tick. @default 7000 (all of it fits in Heroku's 10 s) */
  graceMs?: number;
  /** Days the per-minute series are kept. @default $DYNOSAUR_RETENTION_DAYS, else 14 */
  retentionDays?: number;
  /** @default 256 KiB */
  bodyLimit?: number;
  /** The built pages. @default $DYNOSAUR_PAGES_DIR, else apps/web-ui/dist in the repository */
  pagesDir?: string;
}

/** Everything the server needs that lives in the database. */
export interface Stores {
  store: Store;
  apps: AppStore;
  readings: ReadingStore;
  auth: AuthStore;
  instances: InstanceStore;
  box: SecretBox | null;
  loader: PluginLoader;
}

/** Opens the database (SQLite file or DATABASE_URL) and what reads and writes it. */
export async function openStores(options: Pick<ServerOptions, "env" | "cwd" | "db">): Promise<Stores> {
  const databaseUrl = options.env.DATABASE_URL;
  const file = resolve(options.cwd, options.db ?? "dynosaur.db");
  const store = await openStore(databaseUrl ? { databaseUrl } : { file });
  // SQLite keeps its generated key next to the database; PostgreSQL needs DYNOSAUR_SECRET_KEY.
  const key = loadSecretKey(options.env, databaseUrl ? null : `${file}.key`);
  return {
    store,
    apps: new AppStore(store.db),
    readings: new ReadingStore(store.db),
    auth: new AuthStore(store.db),
    instances: new InstanceStore(store.db),
    box: key ? createSecretBox(key) : null,
    // Installed packages only, from the working directory, then from where dynosaur-web is installed.
    loader: new PluginLoader({
      from: options.cwd,
      installDir: dirname(fileURLToPath(import.meta.url)),
      program: "dynosaur-web",
      allowPaths: false,
    }),
  };
}

export interface RunningServer {
  url: string;
  port: number;
  instanceId: string;
  supervisor: Supervisor;
  pruner: Pruner;
  recorder: Recorder;
  stores: Stores;
  drains: Drains;
  webhooks: HerokuWebhooks;
  /** Stops taking requests, lets every engine finish its tick, flushes, frees the locks. */
  close(): Promise<void>;
}

export function version(): string {
  return (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const env = options.env;
  const clock = options.clock ?? systemClock;
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const logOptions = { format: options.logFormat ?? "text", level: options.logLevel ?? "info", write } as const;
  // Secrets of the server itself: the database password, the admin password, the API token.
  const redactor = new Redactor();
  for (const v of [env.DATABASE_URL, env.DYNOSAUR_ADMIN_PASSWORD, env.DYNOSAUR_API_TOKEN, env.DYNOSAUR_SECRET_KEY])
    redactor.add(v);
  // The URL's password on its own, as written and decoded.
  redactor.collect(env.DATABASE_URL);
  const scrub = (t: string) => redactor.scrub(t);
  const logger: Logger = createServerLogger(logOptions, scrub);
  const instance = { id: randomUUID(), host: env.DYNO ?? hostname(), pid: process.pid, startedAt: clock.now() };

  const databaseUrl = env.DATABASE_URL;
  const dbFile = resolve(options.cwd, options.db ?? "dynosaur.db");
  let lock: { release(): void } | null = null;
  if (!databaseUrl) lock = holdSqliteLock(dbFile, () => describeHolder(dbFile));

  const cleanups: (() => Promise<void> | void)[] = [() => lock?.release()];
  const cleanup = async () => {
    for (const f of cleanups.splice(0).reverse()) await Promise.resolve(f()).catch(() => {});
  };
  try {
    const stores = await openStores({ env, cwd: options.cwd, db: options.db });
    cleanups.push(() => stores.store.close());
    await ensureAdmin(stores.auth, env.DYNOSAUR_ADMIN_PASSWORD, clock, logger);

    const pollMs = options.pollMs ?? 2000;
    // Past this without a heartbeat an instance is gone (one killed outright is gone at once: its lock is).
    const instanceTtlMs = 3 * pollMs + 5000;
    const ownership: Ownership = databaseUrl
      ? pgOwnership({
          databaseUrl,
          instance: `${instance.host} pid ${instance.pid}`,
          instanceId: instance.id,
          logger,
          clock,
          leaseMs: Math.max(3 * pollMs, 15_000),
        })
      : localOwnership();
    cleanups.push(() => ownership.close());
    const http = options.http ?? new Agent({ keepAliveTimeout: 30_000 });
    if (!options.http) cleanups.push(() => (http as Agent).close());

    const recorder = new Recorder(stores.readings, logger);
    let supervisor: Supervisor | null = null;
    const configs = new ConfigService({
      apps: stores.apps,
      readings: stores.readings,
      loader: stores.loader,
      box: stores.box,
      env,
      clock,
      maxApps: positiveInt(env.DYNOSAUR_MAX_APPS, "DYNOSAUR_MAX_APPS") ?? DEFAULT_MAX_APPS,
      drainFeed: (app) => drainFeedKey(app, instance.id),
    });
    // One Platform API budget per Heroku key, for every app of this process and shared with the other processes.
    // Shared through the database only on PostgreSQL: on SQLite this is the one process, with no one to tell.
    const budgetShare = databaseUrl
      ? new ApiBudgetStore(stores.store.db, instance.id, clock, 3 * pollMs + 5000)
      : undefined;
    const apiBudgets = new ApiBudgets({ clock, share: budgetShare });
    const userAgent = `dynosaur-web/${version()} (${instance.id})`;
    supervisor = new Supervisor({
      apps: stores.apps,
      configs,
      instances: stores.instances,
      ownership,
      recorder,
      clock,
      http,
      logger,
      appLogger: (app, scrubApp) => createServerLogger(logOptions, (t) => scrubApp(scrub(t)), { web_app: app }),
      env,
      instance,
      userAgent,
      pollMs,
      graceMs: options.graceMs ?? 7000,
      notifyOutbox: (appId) => new NotifyOutboxStore(stores.store.db, appId),
      instanceTtlMs,
      apiBudgets,
      budgetShare,
    });
    const pruner = new Pruner({
      readings: stores.readings,
      auth: stores.auth,
      instances: stores.instances,
      clock,
      logger,
      retention: retention(options.retentionDays ?? (Number(env.DYNOSAUR_RETENTION_DAYS) || 14)),
    });

    // The server's own Heroku calls (webhook subscription, preboot, drain registration): each app's key and budget.
    const herokuCalls = herokuAppCalls({ apps: stores.apps, configs, http, userAgent, budgets: apiBudgets });
    const drains = new Drains({
      db: stores.store.db,
      box: stores.box,
      clock,
      logger,
      publicUrl: env.DYNOSAUR_PUBLIC_URL,
      instance: instance.id,
      retentionDays: options.retentionDays ?? (Number(env.DYNOSAUR_RETENTION_DAYS) || 14),
      heroku: herokuCalls,
    });
    await drains.start();
    cleanups.push(() => drains.close());
    const running = supervisor;
    // Several processes: a delivery taken by one reaches the engine wherever it runs.
    const relay = databaseUrl
      ? await pgFormationNewsRelay({
          databaseUrl,
          instance: instance.id,
          logger,
          deliver: (app, news) => running.observe(app, news),
        })
      : null;
    if (relay) cleanups.push(() => relay.close());
    const webhooks = new HerokuWebhooks({
      db: stores.store.db,
      box: stores.box,
      clock,
      logger,
      engines: {
        observe: (app, news) => {
          if (running.observe(app, news)) return true;
          relay?.publish(app, news);
          return false;
        },
        note: (appId, event) => running.note(appId, event),
      },
      heroku: herokuCalls,
    });
    const app = createApi({
      drains,
      webhooks,
      apps: stores.apps,
      directory: new AppDirectory(
        stores.store.db,
        (name) => supervisor.problem(name),
        (name) => supervisor.needsAttention(name),
      ),
      configs,
      readings: stores.readings,
      recorder,
      supervisor,
      instances: stores.instances,
      loader: stores.loader,
      auth: {
        store: stores.auth,
        clock,
        limiter: new LoginLimiter(clock, loginLimit),
        bootstrapToken: env.DYNOSAUR_API_TOKEN || undefined,
        logger,
      },
      clock,
      bodyLimit: options.bodyLimit ?? 256 * 1024,
      version: version(),
      trustProxy: trustProxy(env),
      pagesDir: options.pagesDir ?? (env.DYNOSAUR_PAGES_DIR || defaultPagesDir()),
    });
    const port = options.port ?? (Number(env.PORT) || 3000);
    const host = options.host ?? (env.PORT ? "0.0.0.0" : "127.0.0.1");
    const server = await new Promise<ReturnType<typeof serve>>((resolveListen, reject) => {
      const s = serve(
        {
          fetch: withHerokuWebhookIngest(app.fetch, webhooks),
          port,
          hostname: host,
          // Deliveries are taken on Node's own request, before the fetch adapter (drain-ingest.ts).
          createServer: ((options: HttpServerOptions, listener: RequestListener) =>
            createServer(options, withDrainIngest(listener, drains))) as typeof createServer,
        },
        () => resolveListen(s),
      );
      s.once("error", reject);
    });
    cleanups.push(
      () =>
        new Promise<void>((done) => {
          server.close(() => done());
          // Event streams never end by themselves.
          (server as { closeAllConnections?: () => void }).closeAllConnections?.();
        }),
    );
    const address = server.address();
    const actualPort = typeof address === "object" && address ? address.port : port;

    recorder.start();
    supervisor.start();
    pruner.start();
    logger.info(
      `dynosaur-web ${version()} listening on http://${host}:${actualPort}, database ${stores.store.dialect === "sqlite" ? stores.store.where : `PostgreSQL ${stores.store.where}`}`,
      { event: "listening", port: actualPort },
    );

    let closing: Promise<void> | null = null;
    return {
      url: `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${actualPort}`,
      port: actualPort,
      instanceId: instance.id,
      supervisor,
      pruner,
      recorder,
      stores,
      drains,
      webhooks,
      close() {
        closing ??= (async () => {
          await pruner.stop();
          await supervisor.stop();
          await recorder.stop();
          await cleanup();
          logger.info("stopped", { event: "stopped" });
        })();
        return closing;
      },
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

/** A whole number > 0 from a variable; undefined when unset. */
function positiveInt(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} is "${value}": set it to a whole number of at least 1`);
  return n;
}

/**
 * Whether X-Forwarded-For names the client: DYNOSAUR_TRUST_PROXY (1/true/yes/on, 0/false/no/off);
 * unset, on when $DYNO says this runs on Heroku, whose router always adds the entry.
 */
export function trustProxy(env: Record<string, string | undefined>): boolean {
  const said = env.DYNOSAUR_TRUST_PROXY?.trim().toLowerCase();
  if (said && ["1", "true", "yes", "on"].includes(said)) return true;
  if (said && ["0", "false", "no", "off"].includes(said)) return false;
  if (said)
    throw new Error(
      `DYNOSAUR_TRUST_PROXY is "${env.DYNOSAUR_TRUST_PROXY}": set it to 1 (behind a proxy that sets X-Forwarded-For) or 0`,
    );
  return Boolean(env.DYNO);
}

/**
 * Who serves an SQLite file, from the instances table. A fixed query on a read-only
 * connection that never waits for a lock, made before (and apart from) the migrations and
 * Kysely: it runs only to word the refusal of a second process.
 */
function describeHolder(file: string): string | null {
  try {
    const db = new DatabaseSync(file, { readOnly: true, timeout: 0 });
    try {
      const row = db.prepare("SELECT host, pid, started_at FROM instances ORDER BY seen_at DESC LIMIT 1").get() as
        | { host: string; pid: number; started_at: number }
        | undefined;
      return row ? `pid ${row.pid} on ${row.host}, started ${new Date(row.started_at).toISOString()}` : null;
    } finally {
      db.close();
    }
  } catch {
    return null;
  }
}
