import type { WindowStats } from "./feed.js";

/*
 * Other processes that take the same drain. Heroku spreads an app's deliveries over every dyno
 * behind the drain URL, so the process running an app's engine gets only its share. Each
 * process stores its finished minutes; the engine's feed adds the others' latest minute to its
 * own live window, taking that minute as their rate now. Percentiles of several processes
 * cannot be merged exactly from summaries: they are averaged, weighted by requests (service
 * time) or by the requests the queue-time lines summarised.
 */

const MINUTE = 60_000;

/** What another process saw of the web process type in one finished minute. */
export interface PeerMinute {
  /** Start of the minute (ms since the epoch). */
  minute: number;
  /** Router lines (requests) in the minute. */
  requests: number;
  /** Every drain message of the minute. */
  messages: number;
  service: { p50: number; p95: number; p99: number; max: number } | null;
  queue: { n: number; p50: number; p95: number; max: number } | null;
}

/**
 * The peers that stand for their process now: a minute that has ended, less than two minutes
 * ago (a peer whose newer minute never came, or a refresh that stopped, drops out: never a
 * figure of long ago).
 */
export function currentPeers(peers: readonly PeerMinute[], now: number): PeerMinute[] {
  return peers.filter((p) => p.minute + MINUTE <= now && now - (p.minute + MINUTE) < 2 * MINUTE);
}

/** `own` (this process's window) with `peers`' minutes added, scaled to the window's length. */
export function withPeers(own: WindowStats, peers: readonly PeerMinute[]): WindowStats {
  if (peers.length === 0) return own;
  const scale = own.windowSeconds / 60;
  const peerRequests = peers.reduce((n, p) => n + p.requests, 0) * scale;
  const requests = Math.round(own.requests + peerRequests);
  const weighted = <T>(
    mine: T | null,
    myWeight: number,
    theirs: (p: PeerMinute) => T | null,
    weight: (p: PeerMinute) => number,
    pick: (t: T) => number,
  ) => {
    let sum = 0;
    let total = 0;
    if (mine !== null && myWeight > 0) {
      sum += pick(mine) * myWeight;
      total += myWeight;
    }
    for (const p of peers) {
      const t = theirs(p);
      const w = weight(p);
      if (t === null || w <= 0) continue;
      sum += pick(t) * w;
      total += w;
    }
    return total === 0 ? null : sum / total;
  };
  const svc = (pick: (s: NonNullable<WindowStats["service"]>) => number) =>
    weighted(
      own.service,
      own.requests,
      (p) => p.service,
      (p) => p.requests,
      pick,
    );
  const anyService = own.service !== null || peers.some((p) => p.service !== null && p.requests > 0);
  const service = anyService
    ? {
        p50: svc((s) => s.p50) ?? 0,
        p95: svc((s) => s.p95) ?? 0,
        p99: svc((s) => s.p99) ?? 0,
        max: Math.max(own.service?.max ?? 0, ...peers.map((p) => p.service?.max ?? 0)),
      }
    : null;
  const peerQueues = peers.filter((p) => p.queue !== null);
  let queue = own.queue;
  if (peerQueues.length > 0) {
    const q = (pick: (s: { p50: number; p95: number; max: number }) => number) =>
      weighted(
        own.queue,
        Math.max(1, own.queue?.n ?? 0),
        (p) => p.queue,
        (p) => Math.max(1, p.queue?.n ?? 0),
        pick,
      ) ?? 0;
    queue = {
      lines: (own.queue?.lines ?? 0) + peerQueues.length,
      n: (own.queue?.n ?? 0) + peerQueues.reduce((n, p) => n + (p.queue?.n ?? 0), 0),
      p50: q((s) => s.p50),
      p95: q((s) => s.p95),
      max: Math.max(own.queue?.max ?? 0, ...peerQueues.map((p) => p.queue?.max ?? 0)),
    };
  }
  return {
    ...own,
    requests,
    requestsPerMinute: (requests * 60) / own.windowSeconds,
    service,
    queue,
    messages: Math.round(own.messages + peers.reduce((n, p) => n + p.messages, 0) * scale),
  };
}

/** A peer's service time at percentile `p`, read between the percentiles it stored (p50, p95, p99, max). */
export function peerServicePercentile(service: NonNullable<PeerMinute["service"]>, p: number): number {
  const points: [number, number][] = [
    [50, service.p50],
    [95, service.p95],
    [99, service.p99],
    [100, service.max],
  ];
  if (p <= 50) return service.p50;
  for (let i = 1; i < points.length; i++) {
    const [hiP, hiV] = points[i] as [number, number];
    const [loP, loV] = points[i - 1] as [number, number];
    if (p <= hiP) return loV + ((hiV - loV) * (p - loP)) / (hiP - loP);
  }
  return service.max;
}
