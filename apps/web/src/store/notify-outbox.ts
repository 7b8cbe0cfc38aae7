import type { NotifyEvent, NotifyOutbox, PendingNotification } from "@dynosaur/host";
import type { Kysely } from "kysely";
import type { Database } from "../db/schema.js";

/** Rows per statement: far below SQLite's and PostgreSQL's limits on bound parameters. */
const CHUNK = 500;

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

/**
 * One app's undelivered `notify:` messages, in the database: the server process that scales
 * the app (it holds the app's lock) is the only one that reads and delivers them, so a
 * restart, or another process taking the app over, sends what was left, and no two processes
 * send the same rows at once. A row holds the event and the target's hash, nothing secret.
 */
export class NotifyOutboxStore implements NotifyOutbox {
  readonly where = "the database";
  readonly durable = true;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly appId: number,
  ) {}

  async load(): Promise<PendingNotification[]> {
    const rows = await this.db
      .selectFrom("notify_outbox")
      .selectAll()
      .where("app_id", "=", this.appId)
      .orderBy("seq")
      .execute();
    return rows.map((r) => ({
      id: r.event_id,
      target: r.target,
      event: JSON.parse(r.event) as NotifyEvent,
      messageId: r.message_id,
      attempts: r.attempts,
      nextAt: r.next_at,
      createdAt: r.created_at,
    }));
  }

  async add(rows: readonly PendingNotification[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db
      .insertInto("notify_outbox")
      .values(
        rows.map((r) => ({
          app_id: this.appId,
          event_id: r.id,
          target: r.target,
          event: JSON.stringify(r.event),
          message_id: r.messageId,
          attempts: r.attempts,
          next_at: r.nextAt,
          created_at: r.createdAt,
        })),
      )
      .execute();
  }

  async failed(ids: readonly string[], update: { messageId: string; attempts: number; nextAt: number }) {
    for (const part of chunks(ids))
      await this.db
        .updateTable("notify_outbox")
        .set({ message_id: update.messageId, attempts: update.attempts, next_at: update.nextAt })
        .where("app_id", "=", this.appId)
        .where("event_id", "in", part)
        .execute();
  }

  async remove(ids: readonly string[]): Promise<void> {
    for (const part of chunks(ids))
      await this.db
        .deleteFrom("notify_outbox")
        .where("app_id", "=", this.appId)
        .where("event_id", "in", part)
        .execute();
  }
}
