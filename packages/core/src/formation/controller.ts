import type { Clock } from "../clock.js";
import { DynosaurError, describeError, type ErrorCode } from "../errors.js";
import type { EngineEvent } from "../report.js";
import type { FormationApi, FormationState } from "./simulated.js";

/** How long Heroku's refusal of a quantity (422, e.g. a plan's dyno limit) is remembered. */
const REFUSAL_MEMORY_MS = 60 * 60 * 1000;
/** Two changes nobody here made within this window look like another scaler. */
const FOREIGN_WINDOW_MS = 15 * 60 * 1000;

/** Who may change the formation when several scalers watch one app (the leader lock). */
export interface LeaderGate {
  isLeader(): boolean;
  /** Why this process does not scale, for the tick's reason. */
  describe(): string;
}

export interface FormationControllerOptions {
  /** Where the quantity lives: Heroku, or a simulation in a dry run. */
  formation: FormationApi;
  app: string;
  processType: string;
  /** Milliseconds between two engine ticks: failed calls are retried 1, 2, 4... ticks later. */
  intervalMs: number;
  /** Milliseconds a read stays good when nothing changes; also the longest retry wait. */
  pollIntervalMs: number;
  clock: Clock;
  leader?: LeaderGate;
}

/** What `read` tells the loop. */
export type FormationRead = { ok: true; quantity: number } | { ok: false; code: ErrorCode };

/** What became of a target the loop asked for. */
export type ApplyResult =
  | { kind: "applied"; quantity: number }
  /** Heroku refused it (422); `quantity` is what runs now (the plan's limit, when Heroku named it). */
  | { kind: "refused"; quantity: number; limit: number | null }
  | { kind: "unavailable"; quantity: number; code: ErrorCode }
  /** Another scaler holds the lead. */
  | { kind: "standby"; quantity: number; reason: string };

/**
 * Everything Heroku-shaped, behind two calls: `read` (cached, backed off after failures)
 * and `apply`. It remembers when the formation last changed — from Heroku's `updated_at`
 * on the first read, so a restart never lets an immediate scale-down through — notices
 * changes made by hand or by another scaler, remembers refused quantities, and only
 * changes the formation while it holds the lead. What happened goes out as events.
 */
export class FormationController {
  readonly #o: FormationControllerOptions;
  #current: number | null = null;
  #readAt: number | null = null;
  #lastChange: number | null = null;
  #refused: { quantity: number; at: number } | null = null;
  #failures = 0;
  #retryAt = 0;
  #errorCode: ErrorCode | null = null;
  /** A PATCH that failed on our side may still have been applied: seeing it later is no foreign change. */
  #asked: number | null = null;
  #foreignChanges: number[] = [];
  #warnedForeignAt: number | null = null;
  #events: EngineEvent[] = [];

  constructor(options: FormationControllerOptions) {
    this.#o = options;
  }

  /** Quantity as last read or set; null before Heroku answered. */
  get current(): number | null {
    return this.#current;
  }

  /** When the formation last changed (by us or by hand), or null if unknown. */
  get lastChange(): number | null {
    return this.#lastChange;
  }

  /** The error of the last failed call while it is not yet answered by a success, or null. */
  get errorCode(): ErrorCode | null {
    return this.#errorCode;
  }

  /** A quantity Heroku refused within the last hour (never ask for it or more), or null. */
  refusedQuantity(now: number): number | null {
    if (this.#refused && now - this.#refused.at > REFUSAL_MEMORY_MS) this.#liftRefusal();
    return this.#refused?.quantity ?? null;
  }

  /** Whether a read at `now` would come from Heroku rather than the cache. */
  readIsFresh(now: number): boolean {
    return this.#readAt === now;
  }

  /** What happened since the last call (scales, manual changes, refusals, errors). */
  drainEvents(): EngineEvent[] {
    const events = this.#events;
    this.#events = [];
    return events;
  }

  /**
   * The quantity: from the cache while it is younger than the poll interval, else from
   * Heroku (always with `force`, as right before a change). While failed calls are backed
   * off, answers unavailable without calling.
   */
  async read(now: number, signal: AbortSignal, force = false): Promise<FormationRead> {
    const cached = this.#readAt !== null && now - this.#readAt < this.#o.pollIntervalMs;
    if (!force && cached && this.#current !== null) return { ok: true, quantity: this.#current };
    if (!force && now < this.#retryAt) return { ok: false, code: this.#errorCode ?? "HEROKU_UNAVAILABLE" };
    try {
      const formation = await this.#o.formation.getFormation(signal);
      this.#answered();
      this.#notice(formation);
      this.#readAt = now;
      return { ok: true, quantity: formation.quantity };
    } catch (e) {
      return { ok: false, code: this.#failed(e, now, "reading the formation") };
    }
  }

  /** Sets the quantity to `target`, unless another scaler leads or Heroku refuses. */
  async apply(from: number, target: number, now: number, signal: AbortSignal): Promise<ApplyResult> {
    const leader = this.#o.leader;
    if (leader && !leader.isLeader()) return { kind: "standby", quantity: from, reason: leader.describe() };
    try {
      const formation = await this.#o.formation.scale(target, signal);
      this.#answered();
      this.#current = formation.quantity;
      this.#readAt = now;
      this.#asked = null;
      // When it happened: the call may have waited for the rate budget.
      this.#lastChange = this.#o.clock.now();
      if (this.#refused && formation.quantity >= this.#refused.quantity) this.#liftRefusal();
      this.#event("scale", "info", `scaled ${this.#o.processType} ${from} → ${formation.quantity}`, { from, to: formation.quantity });
      return { kind: "applied", quantity: formation.quantity };
    } catch (e) {
      if (!(e instanceof DynosaurError && e.code === "HEROKU_UNPROCESSABLE" && target > from)) {
        this.#asked = target;
        return { kind: "unavailable", quantity: from, code: this.#failed(e, now, `scaling to ${target}`) };
      }
      // A plan's dyno limit and the like: asking again would only fail again. When Heroku
      // said what the plan allows, nothing above that is asked for.
      const limit = (e as { limit?: unknown }).limit;
      const known = typeof limit === "number" && limit < target ? limit : null;
      this.#refused = { quantity: known === null ? target : known + 1, at: now };
      this.#errorCode = e.code;
      this.#event("heroku-refused", "error", `Heroku refused ${this.#o.processType}=${target}: ${describeError(e)}; not asking for ${target} or more for an hour`, {
        code: e.code,
      });
      // Go to what the plan allows now, rather than one dyno per tick.
      if (known !== null && known > from) {
        const next = await this.apply(from, known, now, signal);
        return { kind: "refused", quantity: next.quantity, limit: known };
      }
      return { kind: "refused", quantity: from, limit: known };
    }
  }

  #notice(formation: FormationState): void {
    const { quantity } = formation;
    if (this.#current === null) {
      // First read: the blackout counts from Heroku's last change.
      this.#lastChange = formation.updatedAt === null ? null : Math.min(formation.updatedAt, this.#o.clock.now());
    } else if (quantity !== this.#current && quantity === this.#asked) {
      // A PATCH we thought failed went through after all.
      this.#lastChange = this.#o.clock.now();
    } else if (quantity !== this.#current) {
      this.#event(
        "manual-change",
        "warn",
        `formation changed outside Dynosaur: ${this.#current} → ${quantity} (someone ran heroku ps:scale?); counting it as a change for the blackout`,
        { from: this.#current, to: quantity },
      );
      // When we saw it, not when the tick began: the read may have waited for the rate budget.
      this.#lastChange = this.#o.clock.now();
      // A standby expects the leader's changes.
      if (this.#o.leader?.isLeader() ?? true) this.#noticeForeign(quantity);
    }
    this.#asked = null;
    this.#current = quantity;
    // Heroku runs this many now (a person scaled, or the plan changed): the refusal no longer holds.
    if (this.#refused && quantity >= this.#refused.quantity) this.#liftRefusal();
  }

  /** One change by hand is a person; two within the window look like another scaler. */
  #noticeForeign(quantity: number): void {
    const now = this.#o.clock.now();
    this.#foreignChanges = [...this.#foreignChanges.filter((t) => now - t < FOREIGN_WINDOW_MS), now];
    if (this.#foreignChanges.length < 2 || (this.#warnedForeignAt !== null && now - this.#warnedForeignAt < FOREIGN_WINDOW_MS)) return;
    this.#warnedForeignAt = now;
    const { app, processType } = this.#o;
    this.#event(
      "foreign-scaler",
      "warn",
      `ANOTHER SCALER? the ${processType} formation of app ${app} changed ${this.#foreignChanges.length} times in ${FOREIGN_WINDOW_MS / 60_000} min without this Dynosaur (now ${quantity}); another Dynosaur, another autoscaler or a person is scaling ${app} ${processType} too. Run one Dynosaur per app and process type, or give them all the same DATABASE_URL so only one scales.`,
      { app, process_type: processType, changes: this.#foreignChanges.length },
    );
  }

  /** Forgets a refused quantity (the settings changed: the limits may be new). */
  forgetRefusal(): void {
    this.#liftRefusal();
  }

  /** Forgets a refused quantity: its hour passed, or Heroku runs that many now. */
  #liftRefusal(): void {
    if (this.#refused === null) return;
    this.#refused = null;
    this.#event("heroku-refusal-lifted", "info", `Heroku's refusal of ${this.#o.processType} no longer holds`);
  }

  #answered(): void {
    if (this.#failures > 0) this.#event("heroku-recovered", "info", "Heroku answers again");
    this.#failures = 0;
    this.#retryAt = 0;
    this.#errorCode = null;
  }

  #failed(e: unknown, now: number, doing: string): ErrorCode {
    this.#failures++;
    // Retry after 1, 2, 4... ticks, at most one poll interval apart: never hammer a failing API.
    const backoff = Math.min(this.#o.intervalMs * 2 ** (this.#failures - 1), this.#o.pollIntervalMs);
    this.#retryAt = now + backoff;
    const code: ErrorCode = e instanceof DynosaurError ? e.code : "HEROKU_UNAVAILABLE";
    this.#errorCode = code;
    this.#event("heroku-error", "error", `Heroku: ${doing} failed: ${describeError(e)}; retrying in ${Math.round(backoff / 1000)} s`, { code });
    return code;
  }

  #event(kind: EngineEvent["kind"], level: EngineEvent["level"], message: string, fields: Record<string, unknown> = {}): void {
    this.#events.push({ kind, level, message, processType: this.#o.processType, fields });
  }
}
