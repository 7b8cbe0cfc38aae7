import type { TickReport } from "@dynosaur/core";
import { type Kysely, sql } from "kysely";
import type { Database } from "../db/schema.js";

/*
 * The list of apps the overview pages through, sorted with the apps that need attention first.
 * Kept in memory and rebuilt when the apps change (a cheap aggregate of the apps table says so)
 * or, for the health of their newest ticks, at most every `healthTtlMs`: a request filters and
 * slices this list, it never reads every app's rows.
 */

export const APP_STATES = ["erroring", "paused", "scaling"] as const;
export type AppState = (typeof APP_STATES)[number];

export interface DirectoryEntry {
  id: number;
  name: string;
  state: AppState;
  /** Not erroring, but a look is due (a process type at its max): listed right after the erroring apps. */
  attention: boolean;
}

export interface AppPageQuery {
  limit: number;
  /** From a previous page's `next`. */
  cursor?: string;
  /** Part of the name, any case. */
  q?: string;
  state?: AppState;
}

export interface AppPage {
  entries: DirectoryEntry[];
  /** The cursor of the next page; null on the last. */
  next: string | null;
  /** How many apps match the query (all pages). */
  total: number;
}

/** A cursor that does not decode: the caller answers 422. */
export class BadCursor extends Error {}

type Position = { state: AppState; attention: boolean; name: string };

/** Erroring first, then the others that need a look, then paused, then scaling. */
const rank = (e: Position): number => (e.state === "erroring" ? 0 : e.attention ? 1 : e.state === "paused" ? 2 : 3);

function compare(a: Position, b: Position): number {
  return rank(a) - rank(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

export function encodeCursor(e: Position): string {
  return Buffer.from(JSON.stringify([e.state, e.name, e.attention])).toString("base64url");
}

export function decodeCursor(cursor: string): Position {
  try {
    const [state, name, attention = false] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown[];
    if (APP_STATES.includes(state as AppState) && typeof name === "string" && typeof attention === "boolean")
      return { state: state as AppState, name, attention };
  } catch {}
  throw new BadCursor("the cursor is not one this server handed out: start again without `cursor`");
}

/** An app whose newest ticks show trouble: Heroku not read, a source stale or down, a read failing. */
export function troubled(reports: readonly TickReport[]): boolean {
  return reports.some(
    (r) => r.before === null || r.sources.some((s) => s.health !== "ok" || (s.lastError ?? null) !== null),
  );
}

export class AppDirectory {
  #entries: DirectoryEntry[] = [];
  #marker = "";
  #builtAt = Number.NEGATIVE_INFINITY;
  #building: Promise<void> | null = null;

  constructor(
    private readonly db: Kysely<Database>,
    /** Why an app cannot run (its config), when it cannot: such an app is erroring. */
    private readonly problem: (name: string) => string | null,
    /** Whether an app that is not erroring needs a look all the same (at its max, here). */
    private readonly attention: (name: string) => boolean = () => false,
    private readonly healthTtlMs = 5000,
  ) {}

  /** One page of the apps matching `query`, in order (erroring, needing a look, paused, scaling; by name within). */
  async page(query: AppPageQuery): Promise<AppPage> {
    const after = query.cursor === undefined ? null : decodeCursor(query.cursor);
    await this.#fresh();
    const q = query.q?.toLowerCase();
    const matching = this.#entries.filter(
      (e) => (query.state === undefined || e.state === query.state) && (q === undefined || e.name.includes(q)),
    );
    let from = 0;
    if (after) {
      // First entry after the cursor: a binary search, the list being sorted.
      let lo = 0;
      let hi = matching.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (compare(matching[mid] as DirectoryEntry, after) <= 0) lo = mid + 1;
        else hi = mid;
      }
      from = lo;
    }
    const entries = matching.slice(from, from + query.limit);
    const last = entries.at(-1);
    return {
      entries,
      next: last && from + query.limit < matching.length ? encodeCursor(last) : null,
      total: matching.length,
    };
  }

  /** Rebuilds the list now (after a change this process made and must show at once). */
  invalidate(): void {
    this.#builtAt = Number.NEGATIVE_INFINITY;
  }

  async #fresh(): Promise<void> {
    // Apps added, removed, paused or edited show at once; the health of ticks within healthTtlMs.
    // Which apps are paused is in `sum(paused * id)`: a pause and a resume in the same millisecond still change it.
    const m = await this.db
      .selectFrom("apps")
      .select([
        sql<number>`count(*)`.as("n"),
        sql<number>`max(updated_at)`.as("updated"),
        sql<number>`sum(paused * id)`.as("paused"),
        sql<number>`max(id)`.as("id"),
      ])
      .executeTakeFirstOrThrow();
    const marker = `${m.n}:${m.updated}:${m.paused}:${m.id}`;
    if (marker === this.#marker && performance.now() - this.#builtAt < this.healthTtlMs) return;
    this.#building ??= this.#build(marker).finally(() => {
      this.#building = null;
    });
    await this.#building;
  }

  async #build(marker: string): Promise<void> {
    const startedAt = performance.now();
    const [apps, latest] = await Promise.all([
      this.db.selectFrom("apps").select(["id", "name", "paused"]).execute(),
      // Only each app's newest ticks: a process type no longer in the config has an older one.
      this.db
        .selectFrom("latest")
        .select(["app_id", "time", "report"])
        .where("time", "=", sql<number>`(select max(l2.time) from latest l2 where l2.app_id = latest.app_id)`)
        .execute(),
    ]);
    const reports = new Map<number, TickReport[]>();
    for (const r of latest) reports.set(r.app_id, [...(reports.get(r.app_id) ?? []), JSON.parse(r.report)]);
    this.#entries = apps
      .map((a): DirectoryEntry => {
        const state: AppState =
          this.problem(a.name) !== null || troubled(reports.get(a.id) ?? [])
            ? "erroring"
            : a.paused === 1
              ? "paused"
              : "scaling";
        return { id: a.id, name: a.name, state, attention: state !== "erroring" && this.attention(a.name) };
      })
      .sort(compare);
    this.#marker = marker;
    this.#builtAt = startedAt;
  }
}
