import type { Clock } from "../clock.js";
import { DynosaurError, describeError, type ErrorCode } from "../errors.js";
import type { EngineEvent } from "../report.js";
import type { FormationApi, FormationState } from "./simulated.js";

/** How long Heroku's refusal of a quantity (422, e.g. a plan's dyno limit) is remembered. */
const REFUSAL_MEMORY_MS = 60 * 60 * 1000;
/** Two changes nobody here made within this window look like another scaler. */
const FOREIGN_WINDOW_MS = 15 * 60 * 1000;
/**
 * The formation is read at least this often while Heroku's app webhooks tell every change:
 * a safety read for a delivery that got lost.
 */
export const WEBHOOK_SAFETY_READ_MS = 10 * 60 * 1000;

/** Who may change the formation when several scalers watch one app (the leader lock). */
export interface LeaderGate {
  isLeader(): boolean;
  /** Why this process does not scale, for the tick's reason. */
  describe(): string;
}

export interface FormationControllerOptions {
  /** Where the quantities live: Heroku, or a simulation in a dry run. */
  formation: FormationApi;
  app: string;
  /** The process types scaled. */
  processTypes: readonly string[];
  /** Milliseconds between two engine ticks: failed calls are retried 1, 2, 4... ticks later. */
  intervalMs: number;
  /** Milliseconds a read stays good when nothing changes; also the longest retry wait. */
  pollIntervalMs: number;
  clock: Clock;
  leader?: LeaderGate;
}

/** What `read` tells the loop: each process type's quantity, or why there is none. */
export type FormationRead = { ok: true; quantities: ReadonlyMap<string, number> } | { ok: false; code: ErrorCode };

/** A change the loop asks for. */
export interface Change {
  type: string;
  from: number;
  target: number;
}

/** What became of a change. */
export type ApplyResult =
  | { kind: "applied"; quantity: number }
  /** Heroku refused it (422); `quantity` is what runs now (the plan's limit, when Heroku named it). */
  | { kind: "refused"; quantity: number; limit: number | null }
  | { kind: "unavailable"; quantity: number; code: ErrorCode }
  /** Another scaler holds the lead. */
  | { kind: "standby"; quantity: number; reason: string }
  /** Changes are held (Heroku is prebooting a release and refuses them). */
  | { kind: "held"; quantity: number; reason: string };

/** What Heroku's app webhooks told (the web server's ingest), handled at once rather than at the next tick. */
export type FormationNews =
  /** An `api:formation` update: `type` runs `quantity` now, changed by `actor` (an email), if named. */
  | { kind: "formation"; type: string; quantity: number; from?: number | null; actor: string | null }
  /** No formation change until `until` (ms) or until lifted, and why (Heroku prebooting a release). */
  | { kind: "hold"; reason: string; until: number }
  /** The hold is over (the release finished or failed). */
  | { kind: "lift" }
  /** A verified delivery arrived: webhooks flow, so reads drop to a safety read. */
  | { kind: "webhook" };

/** A hold on formation changes: why, and until when (ms). */
export interface FormationHold {
  reason: string;
  until: number;
}

/** What the controller remembers of one process type. */
interface TypeState {
  current: number | null;
  lastChange: number | null;
  refused: { quantity: number; at: number } | null;
  /** A change whose response was lost may still have been applied: seeing it later is no foreign change. */
  asked: number | null;
  /** The quantity of a change under way: its webhook may come before its answer. */
  applying: number | null;
  foreignChanges: number[];
  warnedForeignAt: number | null;
}

/**
 * Everything Heroku-shaped, behind two calls: `read` (one call for every process type,
 * cached, backed off after failures) and `apply` (one batch call for the tick's changes).
 * Per process type it remembers when the formation last changed — from Heroku's
 * `updated_at` on the first read, so a restart never lets an immediate scale-down
 * through — notices changes made by hand or by another scaler, and remembers refused
 * quantities. It only changes the formation while it holds the lead. What happened goes
 * out as events.
 */
export class FormationController {
  readonly #o: FormationControllerOptions;
  readonly #types = new Map<string, TypeState>();
  #readAt: number | null = null;
  #failures = 0;
  /** Until when every call is held back after failures (or Heroku's Retry-After). */
  #retryAt = 0;
  /**
   * What kind of call is failing. A read that works does not end a streak of failed scales
   * (a read-only key reads fine and can never scale): only a call of the failing kind does.
   */
  #failing: "read" | "scale" | null = null;
  #errorCode: ErrorCode | null = null;
  /** Process types of a batch Heroku refused without naming a limit: each goes alone at a tick of its own. */
  readonly #tryAlone = new Set<string>();
  #events: EngineEvent[] = [];
  /** Heroku's webhooks tell every change: reads drop to a safety read. */
  #webhooks = false;
  #hold: FormationHold | null = null;

  constructor(options: FormationControllerOptions) {
    this.#o = options;
    for (const type of options.processTypes) {
      this.#types.set(type, {
        current: null,
        lastChange: null,
        refused: null,
        asked: null,
        applying: null,
        foreignChanges: [],
        warnedForeignAt: null,
      });
    }
  }

  /** Quantity of `type` as last read or set; null before Heroku answered. */
  current(type: string): number | null {
    return this.#state(type).current;
  }

  /** When `type`'s formation last changed (by us or by hand), or null if unknown. */
  lastChange(type: string): number | null {
    return this.#state(type).lastChange;
  }

  /** The error of the last failed call until a call succeeds, or null. */
  get errorCode(): ErrorCode | null {
    return this.#errorCode;
  }

  /** A quantity of `type` Heroku refused within the last hour (never ask for it or more), or null. */
  refusedQuantity(type: string, now: number): number | null {
    const s = this.#state(type);
    if (s.refused && now - s.refused.at > REFUSAL_MEMORY_MS) this.#liftRefusal(type);
    return s.refused?.quantity ?? null;
  }

  /** Forgets every refused quantity (the settings changed: the limits may be new). */
  forgetRefusals(): void {
    for (const type of this.#types.keys()) this.#liftRefusal(type);
  }

  /** Whether the last read was made at `now` (no need to read again before a change). */
  readIsFresh(now: number): boolean {
    return this.#readAt === now;
  }

  /**
   * Milliseconds a read stays good now: the configured poll interval, or longer when the
   * formation port asks (an API budget), or the safety read's while webhooks flow.
   */
  pollIntervalMs(): number {
    const spacing = this.#readSpacingMs();
    return this.#webhooks ? Math.max(spacing, WEBHOOK_SAFETY_READ_MS) : spacing;
  }

  /** The configured poll interval, or longer when the formation port asks: also the longest retry wait. */
  #readSpacingMs(): number {
    return Math.max(this.#o.pollIntervalMs, this.#o.formation.minPollIntervalMs?.() ?? 0);
  }

  /** What happened since the last call (scales, manual changes, refusals, errors). */
  drainEvents(): EngineEvent[] {
    const events = this.#events;
    this.#events = [];
    return events;
  }

  /** Whether Heroku's webhooks tell the changes (reads are safety reads). */
  get webhooksFlowing(): boolean {
    return this.#webhooks;
  }

  /** The hold on formation changes in force at `now`, or null. */
  held(now: number): FormationHold | null {
    if (this.#hold && now >= this.#hold.until) this.#hold = null;
    return this.#hold;
  }

  /**
   * Takes what a webhook told, at the clock's now, and returns the events it made (they do not
   * wait for the next tick, nor go out with it). A formation change nobody here asked for is a
   * manual change as one seen by a read: the blackout restarts.
   */
  observe(news: FormationNews): EngineEvent[] {
    const now = this.#o.clock.now();
    const before = this.#events.length;
    switch (news.kind) {
      case "webhook":
        this.#webhooks = true;
        break;
      case "hold":
        this.#hold = { reason: news.reason, until: news.until };
        break;
      case "lift":
        this.#hold = null;
        break;
      case "formation":
        this.#webhooks = true;
        if (this.#types.has(news.type)) this.#observed(news, now);
        break;
    }
    return this.#events.splice(before);
  }

  #observed(news: Extract<FormationNews, { kind: "formation" }>, now: number): void {
    const { type, quantity, actor } = news;
    const s = this.#state(type);
    // Our own change (its answer came first, or is on its way), or nothing new: no event.
    if (s.current === null || quantity === s.current || quantity === s.asked || quantity === s.applying) return;
    const from = news.from ?? s.current;
    this.#event(
      type,
      "manual-change",
      "warn",
      `formation changed outside Dynosaur by ${actor ?? "someone"}: ${type} ${from} → ${quantity} (Heroku webhook); counting it as a change for the blackout`,
      { from, to: quantity, actor, via: "webhook" },
    );
    s.lastChange = now;
    if (this.#o.leader?.isLeader() ?? true) this.#noticeForeign(type, s, quantity);
    s.current = quantity;
    if (s.refused && quantity >= s.refused.quantity) this.#liftRefusal(type);
  }

  /** A read found changes no webhook told: webhooks do not reach this server, so reads go back to the configured interval. */
  #webhooksMissed(events: readonly EngineEvent[]): void {
    const missed = events.filter((e) => e.kind === "manual-change");
    if (missed.length === 0) return;
    this.#webhooks = false;
    const every = Math.round(this.#readSpacingMs() / 1000);
    for (const e of missed) {
      e.message += `; no Heroku webhook told it, so reading every ${every} s again until one arrives`;
      e.fields.webhooks = false;
    }
  }

  /**
   * Every process type's quantity: from the cache while it is younger than the poll
   * interval, else from Heroku (always with `force`, as right before a change). While
   * failed calls are backed off, answers unavailable without calling, forced or not.
   */
  async read(now: number, signal: AbortSignal, force = false): Promise<FormationRead> {
    const cached = this.#readAt !== null && now - this.#readAt < this.pollIntervalMs();
    if (!force && cached) return { ok: true, quantities: this.#quantities() };
    if (now < this.#retryAt) return { ok: false, code: this.#errorCode ?? "HEROKU_UNAVAILABLE" };
    try {
      const formations = await this.#o.formation.list(signal);
      const missing = [...this.#types.keys()].filter((t) => !formations.some((f) => f.type === t));
      if (missing.length > 0) {
        throw new DynosaurError(
          "HEROKU_NOT_FOUND",
          `app ${this.#o.app} has no process type ${missing.join(", ")} in its formation`,
          {
            hint: `list the app's process types with \`heroku ps -a ${this.#o.app}\`; each must be in the released Procfile`,
          },
        );
      }
      this.#answered("read");
      const before = this.#events.length;
      for (const f of formations) if (this.#types.has(f.type)) this.#notice(f);
      if (this.#webhooks) this.#webhooksMissed(this.#events.slice(before));
      this.#readAt = now;
      return { ok: true, quantities: this.#quantities() };
    } catch (e) {
      // Stopping (the user asked): not a failure of Heroku's, nothing to alert about.
      if (signal.aborted) return { ok: false, code: this.#errorCode ?? "HEROKU_UNAVAILABLE" };
      return { ok: false, code: this.#failed(e, now, "read", "reading the formation") };
    }
  }

  /**
   * Makes the tick's changes in one call, and never more than one call per tick. Heroku
   * refuses a batch whole (422): the changes above the limit Heroku names are refused and
   * the others go at the next tick; when Heroku names no limit, the batch's types are tried
   * one alone per tick from then on, so a refusal of one does not hold back the others.
   */
  async apply(changes: readonly Change[], now: number, signal: AbortSignal): Promise<Map<string, ApplyResult>> {
    const results = new Map<string, ApplyResult>();
    const leader = this.#o.leader;
    if (leader && !leader.isLeader()) {
      for (const c of changes) results.set(c.type, { kind: "standby", quantity: c.from, reason: leader.describe() });
      return results;
    }
    if (now < this.#retryAt) {
      const code = this.#errorCode ?? "HEROKU_UNAVAILABLE";
      for (const c of changes) results.set(c.type, { kind: "unavailable", quantity: c.from, code });
      return results;
    }
    const hold = this.held(now);
    if (hold) {
      for (const c of changes) results.set(c.type, { kind: "held", quantity: c.from, reason: hold.reason });
      return results;
    }
    const alone = changes.find((c) => this.#tryAlone.has(c.type));
    if (alone) {
      this.#tryAlone.delete(alone.type);
      const deferred = changes.filter((c) => c !== alone);
      for (const c of deferred)
        results.set(c.type, { kind: "unavailable", quantity: c.from, code: "HEROKU_UNPROCESSABLE" });
      for (const [type, result] of await this.apply([alone], now, signal)) results.set(type, result);
      return results;
    }
    try {
      const formations = await this.#update(changes, signal);
      this.#answered("scale");
      for (const c of changes)
        results.set(c.type, this.#applied(c, formations.find((f) => f.type === c.type)?.quantity ?? c.target, now));
      return results;
    } catch (e) {
      const refused = e instanceof DynosaurError && e.code === "HEROKU_UNPROCESSABLE";
      if (refused && changes.length > 1) return this.#refusedBatch(changes, e, now);
      const [change] = changes;
      if (!refused || !change || change.target < change.from) {
        const doing = `scaling ${changes.map((c) => `${c.type} to ${c.target}`).join(", ")}`;
        // Stopping: the change may or may not have gone through; no alert for a stop.
        const code = signal.aborted ? (this.#errorCode ?? "HEROKU_UNAVAILABLE") : this.#failed(e, now, "scale", doing);
        for (const c of changes) {
          this.#state(c.type).asked = c.target;
          results.set(c.type, { kind: "unavailable", quantity: c.from, code });
        }
        return results;
      }
      results.set(change.type, this.#refused(change, e, now));
      return results;
    }
  }

  /** The batch call, with each change marked under way (its webhook may arrive before the answer). */
  async #update(changes: readonly Change[], signal: AbortSignal): Promise<FormationState[]> {
    for (const c of changes) this.#state(c.type).applying = c.target;
    try {
      return await this.#o.formation.update(
        changes.map((c) => ({ type: c.type, quantity: c.target })),
        signal,
      );
    } finally {
      for (const c of changes) this.#state(c.type).applying = null;
    }
  }

  /** A refused batch, without a second call in this tick (Heroku asks for one change at a time). */
  #refusedBatch(changes: readonly Change[], e: DynosaurError, now: number): Map<string, ApplyResult> {
    const results = new Map<string, ApplyResult>();
    const limit = (e as { limit?: unknown }).limit;
    const over = typeof limit === "number" ? changes.filter((c) => c.target > limit && c.target > c.from) : [];
    if (over.length === 0) {
      // No limit to blame a change on: each type is tried alone at the next ticks.
      for (const c of changes) this.#tryAlone.add(c.type);
      const code = this.#failed(
        e,
        now,
        "scale",
        `scaling ${changes.map((c) => `${c.type} to ${c.target}`).join(", ")}`,
      );
      for (const c of changes) results.set(c.type, { kind: "unavailable", quantity: c.from, code });
      return results;
    }
    for (const c of changes)
      results.set(
        c.type,
        over.includes(c) ? this.#refused(c, e, now) : { kind: "unavailable", quantity: c.from, code: e.code },
      );
    return results;
  }

  /** A plan's dyno limit and the like: asking again would only fail again. */
  #refused(c: Change, e: DynosaurError, now: number): ApplyResult {
    const limit = (e as { limit?: unknown }).limit;
    const known = typeof limit === "number" && limit < c.target ? limit : null;
    // When Heroku said what the plan allows, nothing above that is asked for: the next tick
    // goes to the limit (not in this tick: one change per tick).
    this.#state(c.type).refused = { quantity: known === null ? c.target : known + 1, at: now };
    this.#errorCode = e.code;
    this.#event(
      c.type,
      "heroku-refused",
      "error",
      `Heroku refused ${c.type}=${c.target}: ${describeError(e)}; not asking for ${c.target} or more for an hour`,
      { code: e.code },
    );
    return { kind: "refused", quantity: c.from, limit: known };
  }

  #applied(c: Change, quantity: number, now: number): ApplyResult {
    const s = this.#state(c.type);
    s.current = quantity;
    s.asked = null;
    // When it happened: the call may have waited for the rate budget.
    s.lastChange = this.#o.clock.now();
    this.#readAt = now;
    if (s.refused && quantity >= s.refused.quantity) this.#liftRefusal(c.type);
    this.#event(c.type, "scale", "info", `scaled ${c.type} ${c.from} → ${quantity}`, { from: c.from, to: quantity });
    return { kind: "applied", quantity };
  }

  #notice(f: FormationState): void {
    const s = this.#state(f.type);
    const { quantity } = f;
    if (s.current === null) {
      // First read: the blackout counts from Heroku's last change.
      s.lastChange = f.updatedAt === null ? null : Math.min(f.updatedAt, this.#o.clock.now());
    } else if (quantity !== s.current && quantity === s.asked) {
      // A change we thought failed went through after all: scaling works.
      s.lastChange = this.#o.clock.now();
      this.#answered("scale");
    } else if (quantity !== s.current) {
      const message = `formation changed outside Dynosaur: ${s.current} → ${quantity} (someone ran heroku ps:scale?); counting it as a change for the blackout`;
      this.#event(f.type, "manual-change", "warn", message, { from: s.current, to: quantity });
      // When we saw it, not when the tick began: the read may have waited for the rate budget.
      s.lastChange = this.#o.clock.now();
      // A standby expects the leader's changes.
      if (this.#o.leader?.isLeader() ?? true) this.#noticeForeign(f.type, s, quantity);
    }
    s.asked = null;
    s.current = quantity;
    // Heroku runs this many now (a person scaled, or the plan changed): the refusal no longer holds.
    if (s.refused && quantity >= s.refused.quantity) this.#liftRefusal(f.type);
  }

  /** One change by hand is a person; two within the window look like another scaler. */
  #noticeForeign(type: string, s: TypeState, quantity: number): void {
    const now = this.#o.clock.now();
    s.foreignChanges = [...s.foreignChanges.filter((t) => now - t < FOREIGN_WINDOW_MS), now];
    if (s.foreignChanges.length < 2 || (s.warnedForeignAt !== null && now - s.warnedForeignAt < FOREIGN_WINDOW_MS))
      return;
    s.warnedForeignAt = now;
    const { app } = this.#o;
    this.#event(
      type,
      "foreign-scaler",
      "warn",
      `ANOTHER SCALER? the ${type} formation of app ${app} changed ${s.foreignChanges.length} times in ${FOREIGN_WINDOW_MS / 60_000} min without this Dynosaur (now ${quantity}); another Dynosaur, another autoscaler or a person is scaling ${app} ${type} too. Run one Dynosaur per app and process type, or give them all the same DATABASE_URL so only one scales.`,
      { app, process_type: type, changes: s.foreignChanges.length },
    );
  }

  #liftRefusal(type: string): void {
    const s = this.#state(type);
    if (s.refused === null) return;
    s.refused = null;
    this.#event(type, "heroku-refusal-lifted", "info", `Heroku's refusal of ${type} no longer holds`);
  }

  /** A call of `kind` worked: a streak of failures of that kind (or of reads, after a scale) is over. */
  #answered(kind: "read" | "scale"): void {
    if (this.#failing === null || (kind === "read" && this.#failing === "scale")) return;
    this.#event(null, "heroku-recovered", "info", "Heroku answers again");
    this.#failing = null;
    this.#failures = 0;
    this.#retryAt = 0;
    this.#errorCode = null;
  }

  #failed(e: unknown, now: number, kind: "read" | "scale", doing: string): ErrorCode {
    const code: ErrorCode = e instanceof DynosaurError ? e.code : "HEROKU_UNAVAILABLE";
    this.#failures++;
    // Only a scale that went unanswered or was not allowed needs a scale to prove it works. A
    // refusal (422) or the account's rate limit is Heroku answering: its next answer of any
    // kind ends the streak, so the alert never outlives the problem when no scale follows.
    this.#failing = code === "HEROKU_UNPROCESSABLE" || code === "HEROKU_RATE_LIMITED" ? "read" : kind;
    // Retry after 1, 2, 4... ticks, at most one poll interval apart: never hammer a failing API.
    // After a 429, Heroku says when (Retry-After); the client sends nothing before then anyway.
    const backoff = Math.min(this.#o.intervalMs * 2 ** (this.#failures - 1), this.#readSpacingMs());
    const limitedUntil = (e as { retryAt?: unknown } | null)?.retryAt;
    this.#retryAt = typeof limitedUntil === "number" && limitedUntil > now ? limitedUntil : now + backoff;
    this.#errorCode = code;
    this.#event(
      null,
      "heroku-error",
      "error",
      `Heroku: ${doing} failed: ${describeError(e)}; retrying in ${Math.ceil((this.#retryAt - now) / 1000)} s`,
      { code },
    );
    return code;
  }

  #quantities(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [type, s] of this.#types) if (s.current !== null) out.set(type, s.current);
    return out;
  }

  #state(type: string): TypeState {
    const s = this.#types.get(type);
    if (!s) throw new DynosaurError("DYNO_USAGE", `process type ${type} is not scaled by this controller`);
    return s;
  }

  #event(
    type: string | null,
    kind: EngineEvent["kind"],
    level: EngineEvent["level"],
    message: string,
    fields: Record<string, unknown> = {},
  ): void {
    this.#events.push({ kind, level, message, processType: type, fields });
  }
}
