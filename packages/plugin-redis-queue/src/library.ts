import type { z } from "@dynosaur/core";
import type { Redis } from "./connection.js";

/** What one poll found in the queues it read. */
export interface QueueReading {
  /** Jobs waiting, plus scheduled/retry jobs already due where the library keeps them. */
  depth: number;
  /**
   * Epoch ms since which the longest-waiting runnable job has been runnable (its enqueue
   * time, or the time a scheduled job fell due); null when none waits or none says.
   */
  oldestRunnableMs: number | null;
  /** Jobs running now; undefined where the library does not record them in Redis. */
  busy: number | undefined;
}

/** How one queue library keeps its queues in Redis. Every command it sends is read-only. */
export interface QueueLibrary<Options = unknown> {
  type: string;
  description: string;
  /** Options of this library only, e.g. Sidekiq's `namespace`. */
  shape: z.ZodRawShape;
  /** Where the library registers its queues, for messages, e.g. "the `queues` set". */
  registry(options: Options): string;
  /** Whether latency can be measured; if not, why (shown in the config error). */
  latency: true | { refusal: string };
  /** Every queue the library has registered. */
  discover(redis: Redis, options: Options, signal: AbortSignal): Promise<string[]>;
  /** Which of `queues` the library knows (has registered). */
  known(redis: Redis, queues: string[], options: Options, signal: AbortSignal): Promise<Set<string>>;
  /**
   * One reading of `queues` at `nowMs`. `all` is true when they are every registered queue
   * (no `queues` option): then jobs kept outside the queues (scheduled, running) count
   * whatever queue they name.
   */
  read(redis: Redis, queues: string[], nowMs: number, options: Options, all: boolean): Promise<QueueReading>;
}

/** The smallest of some numbers, skipping nulls; null when there is none. */
export function earliest(values: (number | null | undefined)[]): number | null {
  let best: number | null = null;
  for (const v of values) if (typeof v === "number" && Number.isFinite(v) && (best === null || v < best)) best = v;
  return best;
}

export function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** Parses JSON a library wrote; a malformed entry reads as undefined, never as a failed poll. */
export function parseJson(text: string | null | undefined): Record<string, unknown> | undefined {
  if (typeof text !== "string") return undefined;
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Iterates a SCAN to the end (never KEYS, which blocks the server), checking `signal` between pages. */
export async function scanKeys(redis: Redis, match: string, signal: AbortSignal): Promise<string[]> {
  const keys = new Set<string>();
  let cursor = "0";
  do {
    signal.throwIfAborted();
    const page = await redis.scan(cursor, { MATCH: match, COUNT: 1000 });
    cursor = String(page.cursor);
    for (const key of page.keys) keys.add(String(key));
  } while (cursor !== "0");
  return [...keys];
}
