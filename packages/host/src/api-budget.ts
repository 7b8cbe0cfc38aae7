import { type Clock, type FormationApi, type FormationState, systemClock } from "@dynosaur/core";

/*
 * One Platform API budget per Heroku account. Heroku gives an account a bucket of 4500
 * request tokens, refilled at about 75 a minute, and every app and tool using the account
 * spends from it. One server polling 150 apps' formations every minute would need 9000 an
 * hour, so the apps on one key share one budget here:
 *
 * - Dynosaur spends at most SHARE (90 %) of the hourly refill; the rest is left to the
 *   account's other users (the CLI, dashboards, CI).
 * - Changes come first: a share of that (CHANGE_RESERVE, or what changes really spent in the
 *   last hour if more) is kept for them, and they are never held back. Each change costs two
 *   requests, the fresh read right before it and the PATCH.
 * - The rest is for the formation reads that notice a manual `heroku ps:scale`: the n apps on
 *   the key read every n × 1 h / (reads an hour), or at their own poll interval if longer.
 * - `RateLimit-Remaining` is followed as it goes: below a quarter of the bucket, reads slow in
 *   proportion (someone else is spending the account); below CHANGES_ONLY tokens they wait for
 *   the refill and what is left goes to changes.
 *
 * An account is known by a hash of its API key (apps that share a key share a budget); the
 * key itself is never kept. Across the processes of a server on PostgreSQL, each process
 * tells the others (a `BudgetShare`) how many apps it runs on each key and what they spend,
 * so two processes never each assume the whole budget.
 */

/** Heroku's bucket per account. */
export const HEROKU_RATE_LIMIT = { capacity: 4500, refillPerHour: 4500 } as const;
/** The share of the hourly refill Dynosaur allows itself. */
const SHARE = 0.9;
/** At least this share of Dynosaur's budget is kept for changes. */
const CHANGE_RESERVE = 0.1;
/** What a change costs: the read right before it, and the PATCH. */
const REQUESTS_PER_CHANGE = 2;
/** Below this many tokens left (a quarter of the bucket), reads slow down in proportion. */
const LOW_REMAINING = HEROKU_RATE_LIMIT.capacity / 4;
/** ...to no less than this share of their pace. */
const SLOWEST = 0.1;
/** Below this many tokens left, scheduled reads wait for the refill: what is left is for changes. */
const CHANGES_ONLY = 100;
const HOUR_MS = 3_600_000;

/** What the apps of this process on one key ask of its budget (what a `BudgetShare` passes around). */
export interface AccountUse {
  /** The hash of the key (`accountOf`), never the key. */
  account: string;
  apps: number;
  /** Formation reads an hour the apps' own poll intervals ask for. */
  wantedPerHour: number;
  /** Requests changes made in the last hour (reads right before a change included). */
  changesPerHour: number;
}

/** How the processes of one server share their use of each account (PostgreSQL holds it when there are several). */
export interface BudgetShare {
  /** Publishes this process's use of each key, and answers the other live processes' use, summed per key. */
  exchange(mine: readonly AccountUse[]): Promise<readonly AccountUse[]>;
}

/** The budget of one key as the overview shows it. */
export interface BudgetNotice {
  account: string;
  /** Apps on the key, every process of the server. */
  apps: number;
  /** Reads an hour the apps' own poll intervals need. */
  wantedPerHour: number;
  /** Reads an hour the budget allows now. */
  allowedPerHour: number;
  /** Requests an hour kept for changes. */
  reservedForChanges: number;
  /** Seconds between two formation reads of one app now (at least its own poll interval). */
  readEverySeconds: number;
  /** The last `RateLimit-Remaining` Heroku sent, or null before any answer. */
  rateLimitRemaining: number | null;
  /** Whether reads are spaced beyond what the apps ask for: then `message` says so. */
  spaced: boolean;
  message: string | null;
}

/** One app's place in its key's budget. */
export interface BudgetMember {
  readonly account: string;
  /** The fewest milliseconds between two formation reads of this app now. */
  minPollIntervalMs(): number;
  /** A request went out (`remaining`: the `RateLimit-Remaining` it got back, if any). */
  spent(kind: "read" | "change", remaining: number | null): void;
  /** The app stopped (or moved to another key): its share goes to the others. */
  leave(): void;
}

/**
 * The account a key belongs to, for budgets and for display: a short SHA-256 of the key.
 * Sixteen hex digits tell keys apart and say nothing of the key.
 */
export function accountOf(apiKey: string): string {
  const { createHash } = process.getBuiltinModule("node:crypto");
  return createHash("sha256").update(`dynosaur:heroku-key:${apiKey}`).digest("hex").slice(0, 16);
}

interface Member {
  pollMs: () => number;
}

class Account {
  readonly members = new Set<Member>();
  /** When each request made for a change in the last hour went out. */
  changes: number[] = [];
  remaining: number | null = null;
  remainingAt = 0;
  /** The other processes' use of this key (from the last exchange). */
  others: AccountUse;

  constructor(readonly id: string) {
    this.others = { account: id, apps: 0, wantedPerHour: 0, changesPerHour: 0 };
  }

  use(now: number): AccountUse {
    const since = now - HOUR_MS;
    this.changes = this.changes.filter((t) => t > since);
    let wanted = 0;
    for (const m of this.members) wanted += HOUR_MS / Math.max(m.pollMs(), 1);
    return { account: this.id, apps: this.members.size, wantedPerHour: wanted, changesPerHour: this.changes.length };
  }

  /** Tokens left now, from the last `RateLimit-Remaining` and the refill since; null before any answer. */
  estimatedRemaining(now: number): number | null {
    if (this.remaining === null) return null;
    const refilled = ((now - this.remainingAt) * HEROKU_RATE_LIMIT.refillPerHour) / HOUR_MS;
    return Math.min(HEROKU_RATE_LIMIT.capacity, this.remaining + Math.max(0, refilled));
  }

  plan(now: number) {
    const mine = this.use(now);
    const apps = mine.apps + this.others.apps;
    const wanted = mine.wantedPerHour + this.others.wantedPerHour;
    const budget = SHARE * HEROKU_RATE_LIMIT.refillPerHour;
    const reserved = Math.min(
      budget,
      Math.max(CHANGE_RESERVE * budget, mine.changesPerHour + this.others.changesPerHour),
    );
    const left = this.estimatedRemaining(now);
    const pace = left === null || left >= LOW_REMAINING ? 1 : Math.max(SLOWEST, left / LOW_REMAINING);
    // Never nothing at all: a key whose changes take the whole budget still reads now and then.
    const allowed = Math.max((budget - reserved) * pace, SLOWEST * CHANGE_RESERVE * budget);
    let spacingMs = apps === 0 ? 0 : (apps * HOUR_MS) / allowed;
    // Nearly empty: reads wait for the refill (the estimate grows back without any request).
    if (left !== null && left < CHANGES_ONLY) spacingMs = Math.max(spacingMs, HOUR_MS);
    return { apps, wanted, allowed, reserved, spacingMs, left, pace };
  }
}

export interface ApiBudgetsOptions {
  /** @default systemClock */
  clock?: Clock;
  /** Shares the use of each key with the server's other processes; none in a single process. */
  share?: BudgetShare;
}

/** The budgets of every key the apps of this process use. One per process: every app's runtime joins it. */
export class ApiBudgets {
  readonly #clock: Clock;
  readonly #share: BudgetShare | undefined;
  readonly #accounts = new Map<string, Account>();

  constructor(options: ApiBudgetsOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#share = options.share;
  }

  /** An app on `apiKey` whose own poll interval is `pollMs()` joins the key's budget. */
  join(apiKey: string, pollMs: () => number): BudgetMember {
    const id = accountOf(apiKey);
    let account = this.#accounts.get(id);
    if (!account) {
      account = new Account(id);
      this.#accounts.set(id, account);
    }
    const member: Member = { pollMs };
    account.members.add(member);
    const clock = this.#clock;
    const accounts = this.#accounts;
    const a = account;
    return {
      account: id,
      minPollIntervalMs: () => a.plan(clock.now()).spacingMs,
      spent(kind, remaining) {
        const now = clock.now();
        if (kind === "change") for (let i = 0; i < REQUESTS_PER_CHANGE; i++) a.changes.push(now);
        if (remaining !== null) {
          a.remaining = remaining;
          a.remainingAt = now;
        }
      },
      leave() {
        a.members.delete(member);
        if (a.members.size === 0 && accounts.get(id) === a) accounts.delete(id);
      },
    };
  }

  /**
   * A request made with `apiKey` besides the apps' formation calls (subscribing a webhook,
   * checking preboot): it comes off the share kept for changes, as a change's requests do.
   */
  spentOutside(apiKey: string, remaining: number | null): void {
    const a = this.#accounts.get(accountOf(apiKey));
    if (!a) return;
    const now = this.#clock.now();
    a.changes.push(now);
    if (remaining !== null) {
      a.remaining = remaining;
      a.remainingAt = now;
    }
  }

  /** This process's use of each key. */
  use(): AccountUse[] {
    const now = this.#clock.now();
    return [...this.#accounts.values()].map((a) => a.use(now));
  }

  /** Tells the other processes what this one uses, and learns what they do (a no-op in a single process). */
  async sync(): Promise<void> {
    if (!this.#share) return;
    const others = await this.#share.exchange(this.use());
    const byAccount = new Map(others.map((u) => [u.account, u]));
    for (const a of this.#accounts.values())
      a.others = byAccount.get(a.id) ?? { account: a.id, apps: 0, wantedPerHour: 0, changesPerHour: 0 };
  }

  /** The budget of the key `account` (from `accountOf`), or null when no app of this process uses it. */
  notice(account: string): BudgetNotice | null {
    const a = this.#accounts.get(account);
    if (!a) return null;
    const p = a.plan(this.#clock.now());
    let fastest = Number.POSITIVE_INFINITY;
    for (const m of a.members) fastest = Math.min(fastest, m.pollMs());
    const readEveryMs = Math.max(p.spacingMs, fastest);
    const spaced = p.spacingMs > fastest;
    const low = p.pace < 1 || (p.left !== null && p.left < CHANGES_ONLY);
    const apps = `${p.apps} app${p.apps === 1 ? "" : "s"} on this key`;
    const message = spaced
      ? `${apps} need ${Math.round(p.wanted)} formation reads/h; the budget allows ${Math.floor(p.allowed)} ` +
        `(90 % of Heroku's 4500 requests/h, less ${Math.ceil(p.reserved)} kept for scaling` +
        `${low ? `, slowed because only ${Math.floor(p.left ?? 0)} requests are left: something else is spending this account` : ""}); ` +
        `reads spaced to every ${duration(readEveryMs)}, so a manual \`heroku ps:scale\` shows that much later. ` +
        "Use Heroku webhooks to see changes sooner, or give apps their own keys."
      : null;
    return {
      account,
      apps: p.apps,
      wantedPerHour: Math.round(p.wanted),
      allowedPerHour: Math.floor(p.allowed),
      reservedForChanges: Math.ceil(p.reserved),
      readEverySeconds: Math.round(readEveryMs / 1000),
      rateLimitRemaining: a.remaining,
      spaced,
      message,
    };
  }

  /** Every key's budget, the most stretched first. */
  notices(): BudgetNotice[] {
    return [...this.#accounts.keys()]
      .map((id) => this.notice(id) as BudgetNotice)
      .sort((x, y) => y.readEverySeconds - x.readEverySeconds || (x.account < y.account ? -1 : 1));
  }
}

/** What the budget needs of a Heroku client: its calls, and the `RateLimit-Remaining` it saw last. */
interface BudgetedClient extends FormationApi {
  readonly rateLimitRemaining: number | null;
}

/**
 * A Heroku formation port that counts its requests against the key's budget and asks the
 * controller to space its reads to fit. Changes are never held back.
 */
export function budgetedFormation(client: BudgetedClient, member: BudgetMember): FormationApi {
  // A call the client refused without sending anything (its rate-limit back-off) cost nothing.
  const sent = (e: unknown) => typeof (e as { status?: unknown } | null)?.status === "number";
  const call = async <T>(kind: "read" | "change", run: () => Promise<T>): Promise<T> => {
    try {
      const result = await run();
      member.spent(kind, client.rateLimitRemaining);
      return result;
    } catch (e) {
      if (sent(e)) member.spent(kind, client.rateLimitRemaining);
      throw e;
    }
  };
  return {
    list: (signal?: AbortSignal): Promise<FormationState[]> => call("read", () => client.list(signal)),
    update: (updates, signal) => call("change", () => client.update(updates, signal)),
    minPollIntervalMs: () => member.minPollIntervalMs(),
  };
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  const min = s / 60;
  return min < 120 ? `${Number(min.toFixed(1))} min` : `${Number((min / 60).toFixed(1))} h`;
}
