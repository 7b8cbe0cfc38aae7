import {
  type Clock,
  type DynosaurConfig,
  describeError,
  type FormationNews,
  type Logger,
  Redactor,
  type TickReport,
} from "@dynosaur/core";
import { type ApiBudgets, accountOf, type BudgetNotice, type NotifyOutbox, type Ownership } from "@dynosaur/host";
import type { Dispatcher } from "undici";
import { statusNeedsAttention } from "./app-state.js";
import type { ConfigService } from "./configs.js";
import { type AppEngine, createAppEngine, type EngineEvent, type EngineStatus } from "./engine.js";
import type { Recorder } from "./recorder.js";
import { planShare } from "./share.js";
import type { AppRow, AppStore } from "./store/apps.js";
import type { InstanceRow, InstanceStore } from "./store/instances.js";

interface Running {
  app: AppRow;
  engine: AppEngine;
  /** Paused apps keep reading and reporting, but never change the formation. */
  paused: boolean;
  version: number;
  /** Every secret of the versions it ran (config, `${VAR}` values, plugin-declared options). */
  redactor: Redactor;
  /** The hash of the app's Heroku key (its API budget), null in a dry run. */
  account: string | null;
  /** The last status text scrubbed, with the number of secrets it was scrubbed of, and the result. */
  scrubbedStatus?: { text: string; secrets: number; clean: string };
}

export interface SupervisorDeps {
  apps: AppStore;
  configs: ConfigService;
  instances: InstanceStore;
  ownership: Ownership;
  recorder: Recorder;
  clock: Clock;
  http: Dispatcher;
  /** Logger of the process; each app's lines carry `app`, and pass through that app's secret scrubber. */
  logger: Logger;
  /** Builds an app's logger from its scrubber. */
  appLogger: (app: string, scrub: (text: string) => string) => Logger;
  env: Record<string, string | undefined>;
  instance: { id: string; host: string; pid: number; startedAt: number };
  userAgent: string;
  /** Milliseconds between two rounds (new versions, locks, heartbeat). */
  pollMs: number;
  /** Milliseconds a stopping engine may finish its tick. */
  graceMs: number;
  /** An app's undelivered `notify:` messages (in the database): only the process scaling the app sends them. */
  notifyOutbox?: (appId: number) => NotifyOutbox;
  /** Milliseconds after its last heartbeat an instance no longer counts as live. */
  instanceTtlMs: number;
  /** The Platform API budgets every engine shares (one per Heroku key), shared with the other processes each round. */
  apiBudgets?: ApiBudgets;
  /** Where this process's use of each key is published: it leaves when the process stops. */
  budgetShare?: { remove(): Promise<void> };
}

/** Rounds an app this process let go of is left for the others before it may claim it again. */
const RELEASE_COOLDOWN_ROUNDS = 3;

/**
 * Runs one engine per app this process owns, and keeps each in step with the database:
 * every round it reads the apps' versions (so a change saved through any process reaches
 * the scaling one within a round), claims apps nobody holds (taking over from a process
 * that died), applies new versions live, and stops engines of deleted apps. Processes on one
 * PostgreSQL share the apps (share.ts): each claims only about its share, and lets a few go
 * each round while it holds more (a process joined): their engines finish the tick in
 * progress, then the lock is freed, and the next owner claims the app within its next round.
 */
export class Supervisor {
  readonly #running = new Map<string, Running>();
  /** Apps whose config cannot run, and why (logged once per version). */
  readonly #broken = new Map<string, { version: number; error: string }>();
  readonly #tickListeners = new Set<(app: string, report: TickReport) => void>();
  #round: Promise<void> = Promise.resolve();
  #rounds = 0;
  /** Apps this process let go of to even the load, and the round it did. */
  readonly #released = new Map<string, number>();
  /** This process's fair share, as of the last round. */
  #share = 0;
  #loop: Promise<void> | null = null;
  readonly #stopping = new AbortController();

  constructor(private readonly deps: SupervisorDeps) {}

  start(): void {
    this.#loop ??= (async () => {
      while (!this.#stopping.signal.aborted) {
        await this.sync();
        await this.deps.clock.sleep(this.deps.pollMs, this.#stopping.signal).catch(() => {});
      }
    })();
  }

  /** One round; rounds never overlap. Call it after a change made in this process. */
  sync(): Promise<void> {
    const run = this.#round.then(() =>
      this.#sync().catch((e) =>
        this.deps.logger.error(`supervising apps failed: ${describeError(e)}`, { event: "supervisor-error" }),
      ),
    );
    this.#round = run;
    return run;
  }

  async #sync(): Promise<void> {
    if (this.#stopping.signal.aborted) return;
    const { ownership } = this.deps;
    await ownership.heartbeat();
    const apps = await this.deps.apps.list();
    const names = new Set(apps.map((a) => a.name));
    for (const name of [...this.#running.keys()]) {
      if (!names.has(name)) await this.#stop(name, "the app was deleted");
      else if (!ownership.owns(name)) await this.#stop(name, "this process no longer holds the app's lock");
    }
    const free: AppRow[] = [];
    for (const app of apps) {
      const running = this.#running.get(app.name);
      if (running) {
        running.app = app;
        running.paused = app.paused;
        if (running.version !== app.version) await this.#reconfigure(running, app);
        continue;
      }
      const broken = this.#broken.get(app.name);
      if (!broken || broken.version !== app.version) free.push(app);
    }
    const round = ++this.#rounds;
    for (const [name, at] of this.#released) if (round - at > RELEASE_COOLDOWN_ROUNDS) this.#released.delete(name);
    const live = await this.#liveInstances();
    if (live === null) {
      // The only process: it scales every app.
      this.#share = apps.length;
      if (free.length > 0) {
        const claimed = await ownership.claim(free.map((a) => a.name));
        for (const app of free) if (claimed.has(app.name)) await this.#start(app);
      }
    } else {
      const byName = new Map(free.map((a) => [a.name, a]));
      const plan = planShare({
        self: this.deps.instance.id,
        live,
        apps: apps.length,
        held: [...this.#running.keys()],
        candidates: free.filter((a) => !this.#released.has(a.name)).map((a) => a.name),
      });
      this.#share = plan.share;
      if (plan.release.length > 0) {
        const why = `evening the load (${this.#running.size} apps here, a share of ${plan.share} among ${live.length} processes)`;
        for (const name of plan.release) this.#released.set(name, round);
        // Each engine finishes its tick before its lock is freed: in parallel, so a batch costs one tick at most.
        await Promise.all(plan.release.map((name) => this.#stop(name, why)));
      }
      if (plan.claim.length > 0 && plan.claimLimit > 0) {
        const claimed = await ownership.claim(plan.claim, plan.claimLimit);
        for (const name of plan.claim) {
          const app = byName.get(name);
          if (app && claimed.has(name)) await this.#start(app);
        }
      }
    }
    const now = this.deps.clock.now();
    await this.deps.instances.heartbeat({
      ...this.deps.instance,
      seenAt: now,
      apps: [...this.#running.keys()].sort(),
      share: this.#share,
    });
    await this.deps.apiBudgets?.sync();
  }

  /**
   * Ids of the instances sharing the apps (this one included); null when this process is
   * the only one there can be (SQLite).
   */
  async #liveInstances(): Promise<string[] | null> {
    const self = this.deps.instance.id;
    const { rows, shared } = await this.#live();
    if (!shared) return null;
    return [...new Set([self, ...rows.map((r) => r.id)])];
  }

  async #live(): Promise<{ rows: InstanceRow[]; shared: boolean }> {
    const rows = await this.deps.instances.live(this.deps.clock.now() - this.deps.instanceTtlMs);
    const running = await this.deps.ownership.live(rows.map((r) => r.id));
    if (running === null) return { rows, shared: false };
    return { rows: rows.filter((r) => r.id === this.deps.instance.id || running.has(r.id)), shared: true };
  }

  /**
   * The server processes running now: those that sent a heartbeat lately and, on
   * PostgreSQL, still hold their instance lock, so one killed outright leaves the list at once.
   */
  async liveInstances(): Promise<InstanceRow[]> {
    return (await this.#live()).rows;
  }

  async #start(app: AppRow): Promise<void> {
    let entry: Running | undefined;
    try {
      const redactor = new Redactor();
      const runnable = await this.deps.configs.runnable(app, redactor);
      const scrub = (text: string) => redactor.scrub(text);
      const logger = this.deps.appLogger(app.name, scrub);
      const engine = await createAppEngine({
        config: runnable.config,
        plugins: runnable.plugins,
        redactor,
        clock: this.deps.clock,
        http: this.deps.http,
        logger,
        env: this.deps.env,
        userAgent: this.deps.userAgent,
        notifyOutbox: this.deps.notifyOutbox?.(app.id),
        // A paused app reads and reports, but never changes the formation; nor does a process without the app's lock.
        gate: {
          isLeader: () => !entry?.paused && this.deps.ownership.owns(app.name),
          describe: () => (entry?.paused ? "the app is paused" : this.deps.ownership.describe(app.name)),
        },
        apiBudgets: this.deps.apiBudgets,
      });
      const running: Running = {
        app,
        engine,
        paused: app.paused,
        version: runnable.version,
        redactor,
        account: accountFor(runnable.config),
      };
      entry = running;
      // A plugin's error text may quote what a service answered, secrets included: scrubbed
      // before anything is stored or shown.
      engine.onTick((reports) => {
        for (const raw of reports) {
          const report = scrubbed(raw, scrub);
          this.deps.recorder.tick(running.app.id, report);
          for (const l of this.#tickListeners) l(app.name, report);
        }
      });
      engine.onEvent((event: EngineEvent) => this.deps.recorder.event(running.app.id, scrubbed(event, scrub)));
      this.#running.set(app.name, running);
      this.#broken.delete(app.name);
      engine.start();
      logger.info(`scaling ${app.name} (config version ${runnable.version}${app.paused ? ", paused" : ""})`, {
        event: "app-start",
        version: runnable.version,
      });
    } catch (e) {
      // A config that cannot run (a variable unset, a package gone) waits for the next version.
      this.#broken.set(app.name, { version: app.version, error: describeError(e) });
      this.deps.logger.error(`app ${app.name} version ${app.version} cannot run: ${describeError(e)}`, {
        event: "app-error",
        web_app: app.name,
      });
      await this.deps.ownership.release(app.name);
    }
  }

  async #reconfigure(running: Running, app: AppRow): Promise<void> {
    try {
      const runnable = await this.deps.configs.runnable(app, running.redactor);
      await running.engine.reconfigure(runnable.config, runnable.plugins);
      running.version = runnable.version;
      running.account = accountFor(runnable.config);
      this.deps.logger.info(`${app.name}: config version ${runnable.version} applied (live)`, {
        event: "app-reconfigured",
        web_app: app.name,
        version: runnable.version,
      });
    } catch (e) {
      // The engine keeps the version it runs; the next saved version gets another try.
      running.version = app.version;
      this.deps.logger.error(
        `${app.name}: config version ${app.version} cannot be applied, still running the previous one: ${describeError(e)}`,
        { event: "app-error", web_app: app.name },
      );
    }
  }

  async #stop(name: string, why: string): Promise<void> {
    const running = this.#running.get(name);
    if (!running) return;
    this.#running.delete(name);
    await running.engine.stop({ graceMs: this.deps.graceMs });
    await this.deps.ownership.release(name);
    this.deps.logger.info(`stopped scaling ${name}: ${why}`, { event: "app-stop", web_app: name });
  }

  /** Resolves when the round under way (if any) has ended; starts none. */
  idle(): Promise<void> {
    return this.#round;
  }

  /** Status of an app scaled here; null when another process (or none) scales it. */
  status(name: string): (EngineStatus & { version: number; paused: boolean; apiBudget: BudgetNotice | null }) | null {
    const r = this.#running.get(name);
    if (!r) return null;
    // GET /api/apps asks this of every app of its page, and a status changes little between ticks:
    // the scrub (a pass per secret and one for URLs) runs again only when the text or the secrets changed.
    const status = r.engine.status();
    const text = JSON.stringify(status);
    const memo = r.scrubbedStatus;
    const secrets = r.redactor.size;
    const clean = memo?.text === text && memo.secrets === secrets ? memo.clean : r.redactor.scrub(text);
    r.scrubbedStatus = { text, secrets, clean };
    return {
      ...(clean === text ? status : (JSON.parse(clean) as EngineStatus)),
      version: r.version,
      paused: r.paused,
      apiBudget: r.account === null ? null : (this.deps.apiBudgets?.notice(r.account) ?? null),
    };
  }

  /** The Platform API budget of each Heroku key the apps scaled here use, the most stretched first. */
  apiBudgets(): BudgetNotice[] {
    return this.deps.apiBudgets?.notices() ?? [];
  }

  /** Hands what a Heroku webhook told to the app's engine (its events are recorded at once); false when the app is not scaled here. */
  observe(name: string, news: FormationNews): boolean {
    const r = this.#running.get(name);
    if (!r) return false;
    r.engine.observe(news);
    return true;
  }

  /** Records an event of an app (from its webhook), scrubbed of the app's secrets when it is scaled here. */
  note(appId: number, event: EngineEvent): void {
    const r = [...this.#running.values()].find((x) => x.app.id === appId);
    this.deps.recorder.event(appId, r ? scrubbed(event, (t) => r.redactor.scrub(t)) : event);
  }

  /** Whether an app scaled here needs a look (a process type at its max, a source down or stale). */
  needsAttention(name: string): boolean {
    const r = this.#running.get(name);
    // Its engine's own status: nothing of it leaves the process, so no scrub.
    return r ? statusNeedsAttention(r.engine.status()) : false;
  }

  /** Why an app is not running here, when its config cannot run. */
  problem(name: string): string | null {
    return this.#broken.get(name)?.error ?? null;
  }

  get scaling(): string[] {
    return [...this.#running.keys()];
  }

  onTick(listener: (app: string, report: TickReport) => void): () => void {
    this.#tickListeners.add(listener);
    return () => this.#tickListeners.delete(listener);
  }

  /** Stops every engine (each finishes its tick), frees the locks, and leaves the instance list. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#loop;
    await this.#round;
    await Promise.all([...this.#running.keys()].map((name) => this.#stop(name, "the server is stopping")));
    await this.deps.instances.remove(this.deps.instance.id).catch(() => {});
    await this.deps.budgetShare?.remove().catch(() => {});
  }
}

/** The budget an app's Heroku calls count against: its key's hash (a dry run calls no Heroku). */
function accountFor(config: DynosaurConfig): string | null {
  const key = config.scaler.heroku_api_key;
  return config.scaler.dry_run || !key ? null : accountOf(key);
}

function scrubbed<T>(value: T, scrub: (text: string) => string): T {
  const text = JSON.stringify(value);
  const clean = scrub(text);
  return clean === text ? value : (JSON.parse(clean) as T);
}
