import { createHash } from "node:crypto";
import type { NotifyTarget } from "@dynosaur/core";
import type { NotifyEvent } from "./messages.js";

/** One event waiting to be told to one target. */
export interface PendingNotification {
  /** Made by the notifier when the event is queued (the row's key in a database). */
  id: string;
  /** The target's identity (`targetKeys`): never its URL or secret, which stay in the config. */
  target: string;
  event: NotifyEvent;
  /** The id of the message it was last sent in: a retry keeps it, so a receiver can drop a duplicate. */
  messageId: string | null;
  /** Failed deliveries of that message. */
  attempts: number;
  /** Not retried before (ms since the epoch); 0 when never tried. */
  nextAt: number;
  /** When it was queued: it is dropped a day later if still undelivered. */
  createdAt: number;
}

/**
 * Where the notifier keeps what it has not delivered yet, for one app: in memory for the
 * CLI, in the database for `dynosaur-web` (so a restart loses none). Calls come one at a
 * time, in order; a failing call is logged and the notifier goes on from memory.
 */
export interface NotifyOutbox {
  /** Where the messages are kept, for log lines (`memory`, `the database`). */
  readonly where: string;
  /** Whether what is kept outlives the process. */
  readonly durable: boolean;
  /** Everything still to deliver, oldest first. */
  load(): Promise<PendingNotification[]>;
  add(rows: readonly PendingNotification[]): Promise<void>;
  /** A message of these rows failed: its id, its attempts so far and when to try again. */
  failed(ids: readonly string[], update: { messageId: string; attempts: number; nextAt: number }): Promise<void>;
  /** Delivered, dropped for age, or for a target no longer in the config. */
  remove(ids: readonly string[]): Promise<void>;
}

/**
 * The CLI's outbox: kept in the process, so a reconfiguration that rebuilds the notifier
 * loses nothing, but a restart does.
 */
export function memoryOutbox(): NotifyOutbox & { rows: Map<string, PendingNotification> } {
  const rows = new Map<string, PendingNotification>();
  return {
    rows,
    where: "memory",
    durable: false,
    load: async () => [...rows.values()].map((r) => ({ ...r })),
    async add(added) {
      for (const r of added) rows.set(r.id, { ...r });
    },
    async failed(ids, update) {
      for (const id of ids) {
        const r = rows.get(id);
        if (r) Object.assign(r, update);
      }
    },
    async remove(ids) {
      for (const id of ids) rows.delete(id);
    },
  };
}

/**
 * Each target's identity: its type, URL and secret hashed (a pending message finds its
 * target again after a restart or a reconfiguration that moved it, and nothing stored
 * reveals the URL, whose path is a Slack webhook's credential). A target listed twice gets
 * `#2`, `#3`… Changing a target's URL or secret makes it another target.
 */
export function targetKeys(targets: readonly NotifyTarget[]): string[] {
  const seen = new Map<string, number>();
  return targets.map((t) => {
    const hash = createHash("sha256")
      .update(JSON.stringify([t.type, t.url, t.type === "webhook" ? t.secret : ""]))
      .digest("hex")
      .slice(0, 32);
    const key = `${t.type}:${hash}`;
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    return n === 1 ? key : `${key}#${n}`;
  });
}
