import { createHash } from "node:crypto";

/*
 * How server processes on one PostgreSQL share the apps. Each process knows the live
 * instances and takes about its fair share, ceil(apps / live): it claims free apps only up
 * to its share plus a small slack (so no app stays free while every process sits at its
 * share), and when it holds more than that (a process joined) it lets a few go each round.
 * Which apps a process prefers is decided by rendezvous hashing of app × instance: every
 * process ranks the same way, so a process joining or leaving moves only the apps whose
 * best instance changed, and two processes never trade the same apps back and forth.
 */

export interface SharePlanInput {
  /** This process's instance id. */
  self: string;
  /** Ids of the live instances (this one included). */
  live: readonly string[];
  /** How many apps there are in all. */
  apps: number;
  /** The apps this process scales now. */
  held: readonly string[];
  /** Apps it may claim (not scaled here, not cooling down after a release), any order. */
  candidates: readonly string[];
}

export interface SharePlan {
  /** ceil(apps / live instances): what this process should scale. */
  share: number;
  /** The most it claims up to; above it, it releases down to `share`. */
  limit: number;
  /** Apps to stop scaling this round (the ones it least prefers). */
  release: string[];
  /** Apps to try to claim, best first; take at most `claimLimit` of them. */
  claim: string[];
  claimLimit: number;
}

export function fairShare(apps: number, live: number): number {
  return Math.ceil(apps / Math.max(1, live));
}

/** The room above the share: a twentieth of it, at least one app. */
export function shareSlack(share: number): number {
  return Math.max(1, Math.ceil(share / 20));
}

/** At most this fraction of the share is released per round, so a blip in the count of instances moves few apps. */
const RELEASE_FRACTION = 4;

export function planShare(input: SharePlanInput): SharePlan {
  const live = input.live.includes(input.self) ? input.live : [...input.live, input.self];
  const share = fairShare(input.apps, live.length);
  const limit = share + shareSlack(share);
  pruneCache(live, input.apps);
  const rank = ranker(input.self, live, [...input.held, ...input.candidates]);
  if (input.held.length > limit) {
    const batch = Math.max(1, Math.ceil(share / RELEASE_FRACTION));
    const release = [...input.held]
      .sort((a, b) => compare(rank(a), rank(b)))
      .slice(0, Math.min(batch, input.held.length - share));
    return { share, limit, release, claim: [], claimLimit: 0 };
  }
  const claim = [...input.candidates].sort((a, b) => compare(rank(b), rank(a)));
  return { share, limit, release: [], claim, claimLimit: limit - input.held.length };
}

type Rank = [home: number, weight: number, app: string];

/** How much `self` wants each app: first the apps it is the best instance for, then by its own weight. */
function ranker(self: string, live: readonly string[], apps: readonly string[]): (app: string) => Rank {
  const others = live.filter((i) => i !== self);
  const ranks = new Map<string, Rank>();
  for (const app of apps) {
    const mine = cachedWeight(app, self);
    const home = others.every((other) => cachedWeight(app, other) < mine) ? 1 : 0;
    ranks.set(app, [home, mine, app]);
  }
  return (app) => ranks.get(app) ?? [0, 0, app];
}

function compare(a: Rank, b: Rank): number {
  return a[0] - b[0] || a[1] - b[1] || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0);
}

/** The rendezvous weight of an app on an instance: 48 bits of a SHA-256 (exact as a number). */
export function weight(app: string, instance: string): number {
  return createHash("sha256").update(`${app}\n${instance}`).digest().readUIntBE(0, 6);
}

/**
 * Weights already worked out, per instance: a round ranks every app on every live instance
 * (4,000 hashes for 1,000 apps on 4 processes, tens of milliseconds), and they never change.
 */
const cache = new Map<string, Map<string, number>>();

function cachedWeight(app: string, instance: string): number {
  let apps = cache.get(instance);
  if (!apps) {
    apps = new Map();
    cache.set(instance, apps);
  }
  let w = apps.get(app);
  if (w === undefined) {
    w = weight(app, instance);
    apps.set(app, w);
  }
  return w;
}

/** Forgets instances no longer live, and apps long gone (a table grown past twice the apps there are). */
function pruneCache(live: readonly string[], apps: number): void {
  for (const [instance, weights] of cache)
    if (!live.includes(instance) || weights.size > 2 * apps + 100) cache.delete(instance);
}
