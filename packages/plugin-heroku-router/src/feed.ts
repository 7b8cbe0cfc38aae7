import { type DrainLine, processOf, readDrainLine } from "./lines.js";
import type { SyslogMessage } from "./logplex.js";
import { currentPeers, type PeerMinute, peerServicePercentile, withPeers } from "./peers.js";
import type { WindowStats } from "./window.js";

export type { WindowStats } from "./window.js";

/** How much a feed keeps, so its memory is bounded whatever the traffic. */
export interface FeedLimits {
  /**
   * Seconds of per-second buckets kept: the longest `window` a source can read.
   * @default 900
   */
  keepSeconds?: number;
  /**
   * Service times (and HireFire queue times) kept per second and process type; past it, a
   * uniform sample. Counts are never sampled.
   * @default 1000
   */
  samplesPerSecond?: number;
  /**
   * Frame ids remembered to count a retried delivery once: those of the last `keepSeconds`
   * (Logplex retries within seconds), at most this many.
   * @default 10000
   */
  frameIds?: number;
}

/** Nearest-rank percentile of ascending `sorted` (non-empty). */
export function percentile(sorted: readonly number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}

class Reservoir {
  readonly values: number[] = [];
  seen = 0;
  constructor(
    private readonly cap: number,
    private readonly random: () => number,
  ) {}
  add(v: number): void {
    this.seen++;
    if (this.values.length < this.cap) this.values.push(v);
    else {
      const slot = Math.floor(this.random() * this.seen);
      if (slot < this.cap) this.values[slot] = v;
    }
  }
}

/**
 * One second of one process type. A feed keeps 900 of them per process type and app (a hundred
 * apps: 90,000), so what most seconds never use is made on first use: the error codes, the
 * HireFire samples; status classes are counted in a small array, not a map.
 */
class ProcessBucket {
  requests = 0;
  readonly service: Reservoir;
  #queueSamples: Reservoir | null = null;
  connectSum = 0;
  connectCount = 0;
  connectMax = 0;
  /** Requests by status class: index 2 counts the 2xx. */
  readonly statusClasses: number[] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  errors: Map<string, number> | null = null;
  readonly dynos = new Map<string, number>();
  queueLines = 0;
  queueN = 0;
  queueP50Sum = 0;
  queueP95Sum = 0;
  queueMax = 0;
  constructor(
    private readonly cap: number,
    private readonly random: () => number,
  ) {
    this.service = new Reservoir(cap, random);
  }

  get queueSamples(): readonly number[] {
    return this.#queueSamples?.values ?? NONE;
  }

  addQueueSample(ms: number): void {
    this.#queueSamples ??= new Reservoir(this.cap, this.random);
    this.#queueSamples.add(ms);
  }
}

const NONE: readonly number[] = [];

interface Bucket {
  second: number;
  messages: number;
  /** The web process's second (nearly always the only one: the router serves web dynos). */
  web: ProcessBucket | null;
  /** Other process types' (queue-time lines from worker dynos), made when one comes. */
  others: Map<string, ProcessBucket> | null;
}

const processIn = (bucket: Bucket, name: string): ProcessBucket | undefined =>
  (name === "web" ? bucket.web : bucket.others?.get(name)) ?? undefined;

const bump = (map: Map<string, number>, key: string, by = 1) => map.set(key, (map.get(key) ?? 0) + by);

/**
 * One app's drain, aggregated in memory: per-second buckets of what the router and the app's
 * queue-time lines said, per process type. The host fills it (`ingest`), sources read it
 * (`window`). Times are the host's clock at delivery, not the lines' own timestamps, so a
 * late or skewed delivery still counts in the window it arrived in.
 */
export class RouterFeed {
  readonly #buckets: Bucket[] = [];
  /** Frame id → when it arrived, oldest first. */
  readonly #frameIds = new Map<string, number>();
  readonly #keepMs: number;
  readonly #cap: number;
  readonly #maxFrameIds: number;
  #seed = 0x2545f491;
  /** `#random` as one function for every reservoir of the feed. */
  readonly #sample = () => this.#random();
  #lastMessageAt: number | null = null;
  #peers: readonly PeerMinute[] = [];
  /** Deliveries taken, retries counted once. */
  deliveries = 0;
  /** Deliveries whose frame id was seen before (Logplex retried): not counted again. */
  duplicates = 0;
  /** Frames that could not be read, over the feed's life. */
  malformed = 0;

  constructor(limits: FeedLimits = {}) {
    this.#keepMs = (limits.keepSeconds ?? 900) * 1000;
    this.#cap = limits.samplesPerSecond ?? 1000;
    this.#maxFrameIds = limits.frameIds ?? 10_000;
  }

  /**
   * When the newest message arrived (ms since the epoch); null before any. A peer's minute
   * counts as ending with a message: the drain was alive then, whichever process got it.
   */
  get lastMessageAt(): number | null {
    const peers = this.#peers.filter((p) => p.messages > 0).map((p) => p.minute + 60_000);
    if (peers.length === 0) return this.#lastMessageAt;
    return Math.max(this.#lastMessageAt ?? 0, ...peers);
  }

  /**
   * The latest finished minute of each other process that takes this drain (web requests),
   * replacing the last ones given. `window` and `servicePercentile` add them to this feed's own
   * deliveries while they are current (see peers.ts); `ownWindow` never does.
   */
  setPeers(peers: readonly PeerMinute[]): void {
    this.#peers = [...peers];
  }

  /**
   * Takes one delivery's messages, received at `now`. A `frameId` seen before (Logplex's
   * retry of a delivery it thinks failed) is counted once: returns false and adds nothing.
   */
  ingest(messages: readonly SyslogMessage[], now: number, frameId?: string | null, malformed = 0): boolean {
    if (frameId) {
      // A Map iterates in insertion order: the oldest ids go first, once past the window or the cap.
      for (const [id, at] of this.#frameIds) {
        if (this.#frameIds.size < this.#maxFrameIds && at >= now - this.#keepMs) break;
        this.#frameIds.delete(id);
      }
      if (this.#frameIds.has(frameId)) {
        this.duplicates++;
        return false;
      }
      this.#frameIds.set(frameId, now);
    }
    this.deliveries++;
    this.malformed += malformed;
    if (messages.length === 0) return true;
    const bucket = this.#bucket(now);
    bucket.messages += messages.length;
    this.#lastMessageAt = Math.max(this.#lastMessageAt ?? now, now);
    for (const message of messages) {
      const line = readDrainLine(message);
      if (line) this.#add(bucket, line);
    }
    return true;
  }

  /**
   * The figures of process type `process` over the `windowSeconds` up to `now`: this feed's
   * deliveries, and for web the other processes' latest minutes (`setPeers`).
   */
  window(now: number, windowSeconds: number, process = "web"): WindowStats {
    const own = this.ownWindow(now, windowSeconds, process);
    return process === "web" ? withPeers(own, currentPeers(this.#peers, now)) : own;
  }

  /** The figures of the deliveries this feed took itself (what a process stores as its minute). */
  ownWindow(now: number, windowSeconds: number, process = "web"): WindowStats {
    const from = Math.floor((now - windowSeconds * 1000) / 1000);
    const to = Math.floor(now / 1000);
    let requests = 0;
    let messages = 0;
    const service: number[] = [];
    const queueSamples: number[] = [];
    let connectSum = 0;
    let connectCount = 0;
    let connectMax = 0;
    const statuses = new Map<string, number>();
    const errors = new Map<string, number>();
    const dynos = new Map<string, number>();
    let queueLines = 0;
    let queueN = 0;
    let queueP50Sum = 0;
    let queueP95Sum = 0;
    let queueMax = 0;
    for (const bucket of this.#buckets) {
      // (from, to]: a window of exactly windowSeconds whole seconds.
      if (bucket.second <= from || bucket.second > to) continue;
      messages += bucket.messages;
      const p = processIn(bucket, process);
      if (!p) continue;
      requests += p.requests;
      service.push(...p.service.values);
      queueSamples.push(...p.queueSamples);
      connectSum += p.connectSum;
      connectCount += p.connectCount;
      connectMax = Math.max(connectMax, p.connectMax);
      p.statusClasses.forEach((n, c) => {
        if (n > 0) bump(statuses, `${c}xx`, n);
      });
      if (p.errors) for (const [k, v] of p.errors) bump(errors, k, v);
      for (const [k, v] of p.dynos) bump(dynos, k, v);
      queueLines += p.queueLines;
      queueN += p.queueN;
      queueP50Sum += p.queueP50Sum;
      queueP95Sum += p.queueP95Sum;
      queueMax = Math.max(queueMax, p.queueMax);
    }
    service.sort((a, b) => a - b);
    queueSamples.sort((a, b) => a - b);
    let queue: WindowStats["queue"] = null;
    if (queueLines > 0 || queueSamples.length > 0) {
      // Summaries carry percentiles, not samples: each weighs by its request count, and the
      // HireFire samples by theirs.
      const rawN = queueSamples.length;
      const weight = queueN + rawN;
      const mix = (summarySum: number, p: number) =>
        weight === 0 ? 0 : (summarySum + (rawN > 0 ? percentile(queueSamples, p) * rawN : 0)) / weight;
      queue = {
        lines: queueLines + rawN,
        n: queueN + rawN,
        p50: mix(queueP50Sum, 50),
        p95: mix(queueP95Sum, 95),
        max: Math.max(queueMax, queueSamples.at(-1) ?? 0),
      };
    }
    return {
      windowSeconds,
      requests,
      requestsPerMinute: (requests * 60) / windowSeconds,
      service:
        service.length > 0
          ? {
              p50: percentile(service, 50),
              p95: percentile(service, 95),
              p99: percentile(service, 99),
              max: service.at(-1) as number,
            }
          : null,
      connect: connectCount > 0 ? { mean: connectSum / connectCount, max: connectMax } : null,
      statuses: Object.fromEntries(statuses),
      errors: Object.fromEntries(errors),
      dynos: Object.fromEntries(dynos),
      queue,
      messages,
    };
  }

  /** Sorted service times of the window, for a percentile other than those `window` gives. */
  servicePercentile(now: number, windowSeconds: number, process: string, p: number): number | null {
    const from = Math.floor((now - windowSeconds * 1000) / 1000);
    const to = Math.floor(now / 1000);
    const all: number[] = [];
    for (const b of this.#buckets) {
      if (b.second <= from || b.second > to) continue;
      const values = processIn(b, process)?.service.values;
      if (values) all.push(...values);
    }
    const own =
      all.length === 0
        ? null
        : percentile(
            all.sort((a, b) => a - b),
            p,
          );
    const peers = process === "web" ? currentPeers(this.#peers, now).filter((q) => q.service && q.requests > 0) : [];
    if (peers.length === 0) return own;
    // Several processes: each one's percentile, weighted by its requests (see peers.ts).
    let sum = 0;
    let weight = 0;
    if (own !== null) {
      const mine = Math.max(1, this.ownWindow(now, windowSeconds, process).requests);
      sum += own * mine;
      weight += mine;
    }
    for (const q of peers) {
      sum += peerServicePercentile(q.service as NonNullable<PeerMinute["service"]>, p) * q.requests;
      weight += q.requests;
    }
    return sum / weight;
  }

  #bucket(now: number): Bucket {
    const second = Math.floor(now / 1000);
    const last = this.#buckets.at(-1);
    if (last && last.second === second) return last;
    // Deliveries come in clock order; an out-of-order one (a clock set back) finds its bucket.
    const found = this.#buckets.find((b) => b.second === second);
    if (found) return found;
    const bucket: Bucket = { second, messages: 0, web: null, others: null };
    this.#buckets.push(bucket);
    if (last && last.second > second) this.#buckets.sort((a, b) => a.second - b.second);
    const keepFrom = second - this.#keepMs / 1000;
    while ((this.#buckets[0]?.second ?? Number.POSITIVE_INFINITY) <= keepFrom) this.#buckets.shift();
    return bucket;
  }

  #process(bucket: Bucket, dyno: string | null): ProcessBucket {
    // The router sends requests to web dynos only: one without a dyno was meant for web.
    const name = dyno ? processOf(dyno) : "web";
    let p = processIn(bucket, name);
    if (!p) {
      p = new ProcessBucket(this.#cap, this.#sample);
      if (name === "web") bucket.web = p;
      else {
        bucket.others ??= new Map();
        bucket.others.set(name, p);
      }
    }
    return p;
  }

  #add(bucket: Bucket, line: DrainLine): void {
    const p = this.#process(bucket, line.dyno);
    switch (line.kind) {
      case "request": {
        p.requests++;
        if (line.service !== null) p.service.add(line.service);
        if (line.connect !== null) {
          p.connectSum += line.connect;
          p.connectCount++;
          p.connectMax = Math.max(p.connectMax, line.connect);
        }
        if (line.status !== null) {
          const c = Math.floor(line.status / 100);
          p.statusClasses[c] = (p.statusClasses[c] ?? 0) + 1;
        }
        if (line.code !== null) {
          p.errors ??= new Map();
          bump(p.errors, line.code);
        }
        if (line.dyno !== null) bump(p.dynos, line.dyno);
        return;
      }
      case "queue-summary":
        p.queueLines++;
        p.queueN += line.n;
        p.queueP50Sum += line.p50 * line.n;
        p.queueP95Sum += line.p95 * line.n;
        p.queueMax = Math.max(p.queueMax, line.max);
        return;
      case "queue-sample":
        p.addQueueSample(line.ms);
        return;
    }
  }

  /** A small LCG: reservoir sampling needs no crypto, and the same input samples the same way. */
  #random(): number {
    this.#seed = (Math.imul(this.#seed, 1664525) + 1013904223) >>> 0;
    return this.#seed / 2 ** 32;
  }
}

const REGISTRY = Symbol.for("@dynosaur/plugin-heroku-router/feeds");

/** The process's feeds, shared by every copy of this package that is loaded. */
function registry(): Map<string, RouterFeed> {
  const holder = globalThis as { [REGISTRY]?: Map<string, RouterFeed> };
  holder[REGISTRY] ??= new Map();
  return holder[REGISTRY];
}

/**
 * The feed named `key` in this process, created on first use. The host that takes the drain
 * (dynosaur-web: one per app) ingests into it; `heroku-router` sources with `feed: key` read it.
 */
export function drainFeed(key: string, limits?: FeedLimits): RouterFeed {
  const feeds = registry();
  let feed = feeds.get(key);
  if (!feed) {
    feed = new RouterFeed(limits);
    feeds.set(key, feed);
  }
  return feed;
}

/** Forgets a feed (its app was deleted). */
export function dropDrainFeed(key: string): void {
  registry().delete(key);
}

/** The feed named `key` if one exists, without creating it. */
export function findDrainFeed(key: string): RouterFeed | undefined {
  return registry().get(key);
}
