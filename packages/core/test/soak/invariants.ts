import type { LogRecord } from "../../src/logger.js";
import type { Problem, TickReport } from "../../src/report.js";
import type { HerokuFaultKind, PluginFaultKind } from "./scenario.js";

/** Every property the soak checks, each counted every time it is checked. */
export const INVARIANTS = {
  "tick-resolves": "every tick resolves (never rejects, never hangs)",
  "quantity-whole-in-bounds":
    "every quantity asked of Heroku is a whole number within [min, max], or, after Heroku refused min_dynos, the most it allows on the way up to min",
  "no-drop-while-unhealthy": "no PATCH lower than the running quantity while any source is stale or out",
  "blackout-holds":
    "no PATCH lower than the running quantity within `blackout` of any change (ours, a person's, or before a restart)",
  "step-holds": "a scale-down removes at most `scale_down_step` dynos",
  "leader-only": "no PATCH while the leader hook says another scaler leads",
  "one-change-per-tick": "at most one PATCH per tick",
  "rate-budget": "requests Heroku received in any sliding hour stay below 4500, and the real bucket is never emptied",
  "rate-limit-honoured": "after a 429 (or RateLimit-Remaining: 0) nothing is sent before the back-off ends",
  "heroku-failure-logged":
    "every failed Heroku call is logged exactly once (one error line per failed call, at most one per tick)",
  "source-failure-logged": "every failed or rejected reading is logged exactly once, saying why",
  "bad-data-never-used":
    "a reading that was NaN, negative, infinite, not a number or absurd never becomes a value or estimate",
  "no-secret": "no secret in any log line, alert, email or stats payload",
  "alert-once-per-problem":
    "each problem is emailed at most once per min_interval, every problem is emailed, every recovery follows an announced problem",
  "alerts-clear": "a problem's alert is cleared when the problem ends (Heroku answers again, a source recovers)",
  "no-unhandled-rejection": "no unhandled rejection or uncaught exception",
  "memory-flat": "heap after GC does not grow with simulated time",
} as const;
export type InvariantName = keyof typeof INVARIANTS;

export class SoakViolation extends Error {
  override name = "SoakViolation";
}

/** One request as the client handed it to the network (before the fake saw it). */
export interface SentRequest {
  method: string;
  at: number;
  /** PATCH body's quantity, exactly as sent. */
  quantity?: unknown;
  fault?: HerokuFaultKind;
  /** For a 429/0-remaining fault: the least back-off (ms) the client owes. */
  backoffMs?: number;
  /** The client received the whole response (a request it gave up on owes no back-off). */
  answered?: boolean;
}

export interface PluginEvent {
  source: string;
  kind: "good" | PluginFaultKind;
  detail?: string;
  value?: number;
}

export interface TickObservation {
  report: TickReport;
  /** Quantity Heroku ran when the tick began. */
  before: number;
  /** When Heroku's quantity last changed (by anyone), ms. */
  lastActualChange: number;
  sent: SentRequest[];
  plugin: PluginEvent[];
  logs: LogRecord[];
  leader: boolean;
  /** Good values each source produced lately (for "never used"). */
  recentGood: ReadonlyMap<string, readonly number[]>;
}

export interface CheckerSettings {
  min: number;
  max: number;
  blackoutMs: number;
  step: number;
  intervalMs: number;
  alertMinIntervalMs: number;
  secrets: readonly string[];
}

const FAILURE_TEXT: Record<PluginFaultKind, (detail: string) => RegExp> = {
  nan: () => /returned NaN, not a number >= 0/,
  negative: () => /returned -\d+, not a number >= 0/,
  infinity: () => /returned Infinity, not a number >= 0/,
  string: () => /returned the string "/,
  null: (d) => (d === "null" ? /returned null, not a number/ : /returned undefined, not a number/),
  huge: () => /over 100x max_dynos\): taken for a bad reading/,
  throw: (d) =>
    d === "plugin-error"
      ? /the metrics API answered 503/
      : d === "type-error"
        ? /Cannot read properties of undefined/
        : /a plain string thrown/,
  hang: () => /gave no reading within/,
  "estimate-throws": () => /per-dyno capacity table is empty/,
  "estimate-garbage": () => /turned 1 into .* dynos; reading ignored/,
};

/**
 * Checks every invariant on every tick and counts each check, so the report can say how
 * many times each property was actually exercised. The first violation throws, with what
 * led to it, so fast-check can shrink the scenario.
 */
export class Checker {
  readonly counts = Object.fromEntries(Object.keys(INVARIANTS).map((k) => [k, 0])) as Record<InvariantName, number>;
  readonly #s: CheckerSettings;
  /** Times of requests Heroku received in the last hour. */
  #window: number[] = [];
  #windowStart = 0;
  peakPerHour = 0;
  /** The client owes silence until this time (ms). */
  #quietUntil = 0;
  // Alert bookkeeping: what is active, what awaits an email, when each key was last emailed.
  readonly #active = new Set<string>();
  readonly #pending = new Map<string, number>();
  readonly #lastEmail = new Map<string, number>();
  readonly #announced = new Set<string>();
  /**
   * The method of the last Heroku call that failed: only a call of that kind working again
   * proves Heroku answers again (a read-only key reads fine and never scales); a PATCH that
   * works proves everything.
   */
  #failingMethod: string | null = null;
  /** The last quantity Heroku refused (422) and when: the engine may stop short of min_dynos below it for an hour. */
  #refused: { quantity: number; at: number } | null = null;
  emails = 0;
  context: () => string = () => "";

  constructor(settings: CheckerSettings) {
    this.#s = settings;
  }

  fail(invariant: InvariantName, message: string): never {
    throw new SoakViolation(
      `invariant "${invariant}" (${INVARIANTS[invariant]}) violated: ${message}\n${this.context()}`,
    );
  }

  #check(invariant: InvariantName, ok: boolean, message: () => string): void {
    this.counts[invariant]++;
    if (!ok) this.fail(invariant, message());
  }

  /** Scans text that leaves the process (log line, email, alert, stats) for secrets. */
  secretFree(where: string, text: string): void {
    this.counts["no-secret"]++;
    for (const s of this.#s.secrets)
      if (text.includes(s)) this.fail("no-secret", `${where} contains a secret: ${text.slice(0, 300)}`);
  }

  /** A new process: its client and alert sink start with no memory. */
  restarted(): void {
    this.#quietUntil = 0;
    this.#pending.clear();
    this.#lastEmail.clear();
    this.#announced.clear();
    this.#active.clear();
    this.#failingMethod = null;
    this.#refused = null;
  }

  raised(p: Problem, now: number): void {
    this.secretFree("alert", p.message);
    this.#active.add(p.key);
    if (!this.#pending.has(p.key)) this.#pending.set(p.key, now);
  }

  cleared(key: string): void {
    this.#active.delete(key);
  }

  emailed(subject: string, text: string, now: number): void {
    this.emails++;
    this.secretFree("email", `${subject}\n${text}`);
    const key = /^Problem: (.+) \([a-z-]+\)$/m.exec(text)?.[1];
    this.#check("alert-once-per-problem", key !== undefined, () => `an email names no problem: ${subject}`);
    if (key === undefined) return;
    if (/: recovered: /.test(subject)) {
      this.#check(
        "alert-once-per-problem",
        this.#announced.has(key),
        () => `recovery email for ${key}, which was never announced`,
      );
      this.#announced.delete(key);
      // The recovery email counts the repeats since the last one: they are reported.
      this.#pending.delete(key);
      return;
    }
    const last = this.#lastEmail.get(key);
    this.#check(
      "alert-once-per-problem",
      last === undefined || now - last >= this.#s.alertMinIntervalMs,
      () => `two emails about ${key} ${now - (last ?? 0)} ms apart (min_interval ${this.#s.alertMinIntervalMs} ms)`,
    );
    this.#lastEmail.set(key, now);
    this.#pending.delete(key);
    if (!/happened again and cleared/.test(subject)) this.#announced.add(key);
  }

  /** Every invariant that can be judged from one tick. */
  tick(o: TickObservation): void {
    const { report, sent, logs } = o;
    const now = report.time;
    const s = this.#s;
    const unhealthy = report.sources.filter((x) => x.health !== "ok");

    // What was asked of Heroku.
    const patches = sent.filter((r) => r.method === "PATCH");
    this.#check("one-change-per-tick", patches.length <= 1, () => `${patches.length} PATCHes in one tick`);
    for (const p of patches) {
      const q = p.quantity;
      // Heroku refused min_dynos itself (a plan's limit): going up as far as it allows beats staying put.
      const refused = this.#refused !== null && now - this.#refused.at < 60 * 60 * 1000 ? this.#refused.quantity : null;
      const shortOfMin = typeof q === "number" && refused !== null && refused <= s.min && q < refused && q > o.before;
      this.#check(
        "quantity-whole-in-bounds",
        typeof q === "number" && Number.isSafeInteger(q) && (q >= s.min || shortOfMin) && q <= s.max,
        () =>
          `asked Heroku for ${JSON.stringify(q)} (bounds [${s.min}, ${s.max}], at ${o.before}, last refused ${refused ?? "none"})`,
      );
      this.#check("leader-only", o.leader, () => `PATCH ${q} while another scaler leads`);
      const quantity = q as number;
      // Bringing a hand-scaled quantity back under max_dynos is the one drop allowed whatever the data says.
      const down = quantity < o.before && o.before <= s.max;
      if (down) {
        this.#check(
          "no-drop-while-unhealthy",
          unhealthy.length === 0,
          () => `PATCH ${o.before} → ${quantity} while ${unhealthy.map((x) => `${x.name} ${x.health}`).join(", ")}`,
        );
        // Heroku's updated_at has whole seconds: after a restart the blackout may count from up to 1 s earlier.
        this.#check(
          "blackout-holds",
          now - o.lastActualChange >= s.blackoutMs - 1000,
          () =>
            `PATCH ${o.before} → ${quantity} ${Math.round((now - o.lastActualChange) / 1000)} s after the last change (blackout ${s.blackoutMs / 1000} s)`,
        );
        this.#check(
          "step-holds",
          s.step === 0 || o.before - quantity <= s.step,
          () => `PATCH ${o.before} → ${quantity} with scale_down_step ${s.step}`,
        );
      } else {
        this.counts["no-drop-while-unhealthy"]++;
        this.counts["blackout-holds"]++;
        this.counts["step-holds"]++;
      }
      if (p.fault === "422" && p.answered && typeof q === "number") this.#refused = { quantity: q, at: now };
    }

    // The rate budget and back-off, as the client sent them.
    for (const r of sent) {
      this.#check(
        "rate-limit-honoured",
        r.at >= this.#quietUntil,
        () => `request at ${iso(r.at)} during a back-off that lasts until ${iso(this.#quietUntil)}`,
      );
      if (r.backoffMs !== undefined && r.answered) this.#quietUntil = Math.max(this.#quietUntil, r.at + r.backoffMs);
    }

    // Logged, once per failure.
    const herokuErrors = logs.filter((l) => l.fields.event === "heroku-error" || l.fields.event === "heroku-refused");
    const failedSent = sent.filter((r) => r.fault !== undefined && r.fault !== "low-remaining").length;
    this.#check(
      "heroku-failure-logged",
      herokuErrors.length <= 1 && failedSent <= herokuErrors.length,
      () =>
        `${failedSent} failed Heroku calls, ${herokuErrors.length} error lines: ${herokuErrors.map((l) => l.message).join(" / ")}`,
    );
    for (const e of herokuErrors)
      this.#check(
        "heroku-failure-logged",
        /^Heroku(: | refused )/.test(e.message) && typeof e.fields.code === "string",
        () => `unclear Heroku error line: ${e.message}`,
      );

    const failLines = logs.filter(
      (l) => l.level === "warn" && / reading failed, (keeping the last good reading|no reading yet): /.test(l.message),
    );
    for (const ev of o.plugin) {
      const mine = failLines.filter((l) => l.fields.source === ev.source);
      if (ev.kind === "good") {
        this.#check(
          "source-failure-logged",
          mine.length === 0,
          () => `a good reading of ${ev.source} was logged as failed: ${mine[0]?.message}`,
        );
        continue;
      }
      const expected = FAILURE_TEXT[ev.kind](ev.detail ?? "");
      this.#check(
        "source-failure-logged",
        mine.length === 1 && expected.test(mine[0]?.message ?? ""),
        () =>
          `${ev.kind} reading of ${ev.source} logged ${mine.length} times: ${mine.map((l) => l.message).join(" / ") || "(never)"}`,
      );
      if (ev.kind !== "throw" && ev.kind !== "hang" && ev.kind !== "estimate-throws")
        this.#check(
          "source-failure-logged",
          mine[0]?.fields.code === "DYNO_BAD_READING",
          () => `bad data from ${ev.source} logged without DYNO_BAD_READING`,
        );
    }
    this.#check(
      "source-failure-logged",
      failLines.length === o.plugin.filter((e) => e.kind !== "good").length,
      () => `${failLines.length} failure lines for ${o.plugin.filter((e) => e.kind !== "good").length} failed readings`,
    );

    // Bad data never becomes a number.
    for (const src of report.sources) {
      const recent = o.recentGood.get(src.name) ?? [];
      const v = src.value;
      this.#check(
        "bad-data-never-used",
        v === null || (typeof v === "number" && Number.isFinite(v) && v >= 0 && recent.includes(v)),
        () => `source ${src.name} shows value ${String(v)}, not one of its recent good readings [${recent.join(", ")}]`,
      );
      const e = src.estimate;
      this.#check(
        "bad-data-never-used",
        e === null || (Number.isInteger(e) && e >= 0 && e <= s.max * 100),
        () => `source ${src.name} estimate ${String(e)}`,
      );
    }

    // Alerts follow the problems.
    for (const [key, since] of this.#pending) {
      const due =
        Math.max(since, (this.#lastEmail.get(key) ?? since - this.#s.alertMinIntervalMs) + this.#s.alertMinIntervalMs) +
        2 * s.intervalMs;
      this.#check(
        "alert-once-per-problem",
        now <= due,
        () => `problem ${key}, raised at ${iso(since)}, was not emailed by ${iso(due)} (now ${iso(now)})`,
      );
    }
    // A 422 is a refusal with an alert of its own, not an error of Heroku's.
    // A request the client gave up on (its timeout, on a loaded machine) failed as the client
    // sees it, whatever the fake answered later.
    const failing = sent.filter(
      (r) => !r.answered || (r.fault !== undefined && r.fault !== "low-remaining" && r.fault !== "422"),
    );
    const worked = sent.filter((r) => r.answered && (r.fault === undefined || r.fault === "low-remaining"));
    const herokuAnswered =
      herokuErrors.length === 0 &&
      worked.some((r) => r.method === "PATCH" || this.#failingMethod === null || r.method === this.#failingMethod);
    const lastFailing = failing.at(-1);
    if (lastFailing) this.#failingMethod = lastFailing.method;
    else if (herokuAnswered) this.#failingMethod = null;
    if (herokuAnswered) {
      const stuck = [...this.#active].filter((k) => k.startsWith("heroku-error"));
      this.#check(
        "alerts-clear",
        stuck.length === 0,
        () => `Heroku answers again but alert ${stuck.join(", ")} is still raised (its recovery is never announced)`,
      );
    }
    const allOut = report.sources.length > 0 && report.sources.every((x) => x.health === "outage");
    this.#check(
      "alerts-clear",
      this.#active.has(`all-sources-out:${report.processType}`) === allOut,
      () => `every source out: ${allOut}, but the all-sources-out alert is ${allOut ? "not raised" : "still raised"}`,
    );
    for (const src of report.sources) {
      const key = `source-outage:${src.name}`;
      this.#check(
        "alerts-clear",
        this.#active.has(key) === (src.health === "outage"),
        () =>
          `source ${src.name} is ${src.health} but its outage alert is ${this.#active.has(key) ? "raised" : "not raised"}`,
      );
    }

    // Everything that leaves the process.
    for (const l of logs) this.secretFree(`log line`, `${l.message} ${JSON.stringify(l.fields)}`);
  }

  /** Requests the fake received (its own clock), for the sliding-hour budget. */
  received(times: readonly number[], bucketRemaining: number): void {
    for (const t of times) {
      this.#window.push(t);
      while ((this.#window[this.#windowStart] ?? t) <= t - 3_600_000) this.#windowStart++;
      const inHour = this.#window.length - this.#windowStart;
      this.peakPerHour = Math.max(this.peakPerHour, inHour);
      this.#check("rate-budget", inHour < 4500, () => `${inHour} requests in the hour before ${iso(t)}`);
    }
    if (this.#windowStart > 1024) {
      this.#window = this.#window.slice(this.#windowStart);
      this.#windowStart = 0;
    }
    this.#check(
      "rate-budget",
      bucketRemaining >= 1,
      () => `the account's real bucket ran dry (${bucketRemaining} left)`,
    );
  }

  count(invariant: InvariantName, n = 1): void {
    this.counts[invariant] += n;
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
