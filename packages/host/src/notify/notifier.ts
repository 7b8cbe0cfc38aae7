import { randomUUID } from "node:crypto";
import {
  type AlertSink,
  type Clock,
  DEFAULT_NOTIFY_EVENTS,
  describeError,
  type EngineEvent,
  type Logger,
  type NotifyEventKind,
  type NotifyTarget,
  type TickReport,
} from "@dynosaur/core";
import type { Dispatcher } from "undici";
import { HttpFailure, httpCall, safeOrigin } from "../stats/http.js";
import { messageId, type NotifyEvent, signedHeaders, slackMessage, webhookBody } from "./messages.js";
import { memoryOutbox, type NotifyOutbox, type PendingNotification, targetKeys } from "./outbox.js";

export interface NotifierDeps {
  http: Dispatcher;
  clock: Clock;
  logger: Logger;
  /** Where a target that keeps failing is reported (once), the same path as every other problem. */
  alerts: Pick<AlertSink, "raise" | "clear">;
  /** `DYNOSAUR_PUBLIC_URL`: messages link to the app's page when set. */
  publicUrl?: string;
  /** Seconds before a delivery is given up as failed. @default 10 */
  timeoutSeconds?: number;
  /** Where undelivered messages are kept (the server's database). @default in memory */
  outbox?: NotifyOutbox;
  /**
   * Loading the outbox waits for it: the notifier this one replaces must have closed
   * (finished its deliveries and writes) first, or both would send the same messages.
   */
  after?: Promise<unknown>;
  /** Blanks secrets out of an event's texts before it is queued, stored or sent. @default none */
  scrub?: (text: string) => string;
}

export interface Notifier {
  /** Queues what the tick did that the targets want to hear about. Never waits. */
  report(tick: TickReport): void;
  /** Queues one event (outages, recoveries, config changes). Never waits. */
  notify(event: NotifyEvent): void;
  /** Resolves when no delivery is in flight. */
  settled(): Promise<void>;
  /** Messages waiting per target (tests and status). */
  pending(): number[];
  close(): Promise<void>;
}

/** Least milliseconds between two messages to one target: a burst in between is coalesced. */
export const MIN_GAP_MS = 1000;
/** Back-off after failed deliveries: 1 s, 2 s, 4 s… at most 5 minutes. */
const backoffMs = (failures: number) => Math.min(300_000, 1000 * 2 ** Math.max(0, failures - 1));
/** Failed deliveries in a row after which the target is reported dead (one alert). */
export const DEAD_AFTER = 5;
/** Events kept per target while it is down; the oldest are dropped beyond (and counted). */
const QUEUE_MAX = 10_000;
/** How long an undelivered message is retried: older ones are dropped, with a log line. */
export const KEEP_MS = 24 * 3600_000;

/** Engine events and the notification they are. */
const FROM_ENGINE: Partial<Record<EngineEvent["kind"], NotifyEventKind>> = {
  scale: "scale",
  "manual-change": "manual-change",
  "heroku-refused": "refused",
};

interface TargetState {
  target: NotifyTarget;
  /** Its identity in the outbox (`targetKeys`). */
  key: string;
  wants: ReadonlySet<NotifyEventKind>;
  name: string;
  queue: PendingNotification[];
  /** The message being (re)tried keeps its id across retries, and restarts. */
  retry: { id: string; events: PendingNotification[] } | null;
  lastSentAt: number | null;
  notBefore: number;
  failures: number;
  dead: boolean;
  inFlight: Promise<void> | null;
  wake: AbortController | null;
}

/**
 * Sends `notify:` messages: at most one a second per target (a burst waiting in between goes
 * as one message), retried with back-off while the target fails, for a day. What is not
 * delivered yet is kept in the outbox (the server's database), so a restart loses none: a new
 * notifier loads it first. A target that keeps failing raises one alert and clears it when
 * it answers again. Nothing here blocks the tick that called it.
 */
export function createNotifier(targets: readonly NotifyTarget[], deps: NotifierDeps): Notifier {
  const { clock, logger } = deps;
  const timeoutMs = (deps.timeoutSeconds ?? 10) * 1000;
  const outbox = deps.outbox ?? memoryOutbox();
  const scrub = deps.scrub ?? ((text: string) => text);
  let closed = false;
  let ready = false;
  const keys = targetKeys(targets);
  const states: TargetState[] = targets.map((target, i) => ({
    target,
    key: keys[i] ?? String(i),
    wants: new Set(target.events ?? DEFAULT_NOTIFY_EVENTS),
    name: `notify[${i}] (${target.type} to ${safeOrigin(target.url)})`,
    queue: [],
    retry: null,
    lastSentAt: null,
    notBefore: 0,
    failures: 0,
    dead: false,
    inFlight: null,
    wake: null,
  }));
  // The secret and the Slack URL (its path is the credential) must not leak through an error.
  const secretsOf = (t: NotifyTarget) => [t.url, new URL(t.url).pathname, ...(t.type === "webhook" ? [t.secret] : [])];

  // The outbox's calls run one at a time, in the order made, after the load: a delivery's
  // removal never overtakes its rows' insertion, and the load never sees rows added since.
  // A failing outbox is said once, and the notifier goes on from memory (scaling never waits for it).
  let outboxFailing = false;
  // Set to the load just below, before anything can be written.
  let writes: Promise<void> = Promise.resolve();
  const write = (op: () => Promise<void>) => {
    writes = writes.then(op).then(
      () => {
        if (outboxFailing) logger.info(`notify: the outbox (${outbox.where}) works again`);
        outboxFailing = false;
      },
      (e: unknown) => {
        if (!outboxFailing)
          logger.warn(`notify: keeping undelivered messages in ${outbox.where} failed: ${describeError(e)}`);
        outboxFailing = true;
      },
    );
  };

  // The messages a previous notifier (this process's, or one before a restart) left.
  const loaded = (async () => {
    await deps.after?.catch(() => {});
    let rows: PendingNotification[];
    try {
      rows = await outbox.load();
    } catch (e) {
      logger.warn(`notify: undelivered messages in ${outbox.where} could not be read: ${describeError(e)}`);
      return;
    }
    const byKey = new Map(states.map((s) => [s.key, s]));
    const orphans: string[] = [];
    const restored = new Map<TargetState, PendingNotification[]>();
    for (const row of rows) {
      const s = byKey.get(row.target);
      if (!s) orphans.push(row.id);
      else restored.set(s, [...(restored.get(s) ?? []), row]);
    }
    if (orphans.length > 0) {
      logger.warn(
        `notify: ${orphans.length} undelivered message(s) for a target no longer in the config dropped (its URL or secret changed, or it was removed)`,
      );
      write(() => outbox.remove(orphans));
    }
    for (const [s, own] of restored) {
      // The message that was being retried goes first, with its id; the rest after, then what came meanwhile.
      const retryId = own.find((r) => r.messageId !== null)?.messageId ?? null;
      const retried = own.filter((r) => retryId !== null && r.messageId === retryId);
      if (retryId !== null && retried.length > 0) s.retry = { id: retryId, events: retried };
      s.queue.unshift(...own.filter((r) => !retried.includes(r)));
      s.failures = Math.max(0, ...retried.map((r) => r.attempts));
      s.notBefore = Math.max(0, ...retried.map((r) => r.nextAt));
    }
    const count = rows.length - orphans.length;
    if (count > 0) logger.info(`notify: ${count} undelivered message(s) from ${outbox.where} taken up again`);
  })().finally(() => {
    ready = true;
    for (const s of states) pump(s);
  });
  writes = loaded;

  const deliver = async (s: TargetState, id: string, events: NotifyEvent[]) => {
    const t = s.target;
    const body = JSON.stringify(
      t.type === "slack" ? slackMessage(events, deps.publicUrl) : webhookBody(events, deps.publicUrl),
    );
    const headers: Record<string, string> = { "content-type": "application/json", "user-agent": "dynosaur" };
    if (t.type === "webhook") Object.assign(headers, signedHeaders(t.secret, id, clock.now(), body));
    const reply = await httpCall(
      { method: "POST", url: t.url, headers, body, dispatcher: deps.http, timeoutMs, secrets: secretsOf(t) },
      "notify",
    );
    if (reply.status < 200 || reply.status >= 300)
      throw new HttpFailure(`notify: HTTP ${reply.status}`, reply.status, `HTTP ${reply.status}`);
  };

  const schedule = (s: TargetState, at: number) => {
    if (closed || s.wake) return;
    const wake = new AbortController();
    s.wake = wake;
    clock.sleep(Math.max(0, at - clock.now()), wake.signal).then(
      () => {
        if (s.wake === wake) s.wake = null;
        pump(s);
      },
      () => {},
    );
  };

  /** Drops what has waited more than a day, saying so (a receiver gone that long is told nothing of it). */
  const dropExpired = (s: TargetState, now: number) => {
    const old = (r: PendingNotification) => now - r.createdAt > KEEP_MS;
    const dropped = [...(s.retry?.events.filter(old) ?? []), ...s.queue.filter(old)];
    if (dropped.length === 0) return;
    if (s.retry) s.retry.events = s.retry.events.filter((r) => !old(r));
    if (s.retry?.events.length === 0) s.retry = null;
    s.queue = s.queue.filter((r) => !old(r));
    logger.warn(`${s.name}: ${dropped.length} message(s) undelivered for more than a day dropped`, {
      event: "notify-dropped",
      dropped: dropped.length,
    });
    write(() => outbox.remove(dropped.map((r) => r.id)));
  };

  const pump = (s: TargetState) => {
    if (closed || !ready || s.inFlight || (s.queue.length === 0 && !s.retry)) return;
    const now = clock.now();
    dropExpired(s, now);
    if (s.queue.length === 0 && !s.retry) return;
    const due = Math.max(s.notBefore, s.lastSentAt === null ? 0 : s.lastSentAt + MIN_GAP_MS);
    if (now < due) return schedule(s, due);
    // A retry goes as it was (same id); what came meanwhile follows in the next message.
    const message = s.retry ?? { id: messageId(), events: s.queue.splice(0) };
    s.retry = message;
    s.lastSentAt = now;
    const ids = message.events.map((r) => r.id);
    s.inFlight = deliver(
      s,
      message.id,
      message.events.map((r) => r.event),
    )
      .then(
        () => {
          s.retry = null;
          s.failures = 0;
          s.notBefore = 0;
          write(() => outbox.remove(ids));
          if (s.dead) {
            s.dead = false;
            logger.info(`${s.name} answers again`);
            deps.alerts.clear(alertKey(s));
          }
        },
        (e: unknown) => {
          s.failures++;
          s.notBefore = clock.now() + backoffMs(s.failures);
          const update = { messageId: message.id, attempts: s.failures, nextAt: s.notBefore };
          for (const r of message.events) Object.assign(r, update);
          write(() => outbox.failed(ids, update));
          const reason = e instanceof HttpFailure ? e.reason : describeError(e);
          logger.info(`${s.name}: delivery failed, retried later`, { failures: s.failures, reason });
          if (s.failures >= DEAD_AFTER && !s.dead) {
            s.dead = true;
            deps.alerts.raise({
              key: alertKey(s),
              kind: "unexpected",
              message: `${s.name} has refused ${s.failures} deliveries in a row (last: ${reason}); its messages are kept in ${outbox.where} and retried for a day`,
            });
          }
        },
      )
      .finally(() => {
        s.inFlight = null;
        pump(s);
      });
  };

  const enqueue = (raw: NotifyEvent) => {
    if (closed) return;
    const event = { ...raw, reason: scrub(raw.reason), winner: raw.winner === null ? null : scrub(raw.winner) };
    const added: PendingNotification[] = [];
    const now = clock.now();
    for (const s of states) {
      if (!s.wants.has(event.kind)) continue;
      const row = { id: randomUUID(), target: s.key, event, messageId: null, attempts: 0, nextAt: 0, createdAt: now };
      s.queue.push(row);
      added.push(row);
      if (s.queue.length > QUEUE_MAX) {
        const gone = s.queue.shift();
        if (gone) write(() => outbox.remove([gone.id]));
        logger.warn(`${s.name}: more than ${QUEUE_MAX} messages waiting; the oldest is dropped`);
      }
    }
    if (added.length === 0) return;
    // Stored before it can be delivered (the write queue keeps that order), never waited for.
    write(() => outbox.add(added));
    for (const s of states) pump(s);
  };

  const waiting = () => states.reduce((n, s) => n + s.queue.length + (s.retry?.events.length ?? 0), 0);

  return {
    report(tick) {
      for (const e of tick.events) {
        const kind = FROM_ENGINE[e.kind];
        if (!kind) continue;
        const from = typeof e.fields.from === "number" ? e.fields.from : tick.before;
        const to = typeof e.fields.to === "number" ? e.fields.to : tick.after;
        enqueue({
          kind,
          time: tick.time,
          app: tick.app,
          processType: e.processType ?? tick.processType,
          from,
          to,
          reason: kind === "scale" ? tick.reason : e.message,
          winner: kind === "scale" ? tick.winner : null,
        });
      }
    },
    notify: enqueue,
    pending: () => states.map((s) => s.queue.length + (s.retry?.events.length ?? 0)),
    settled: async () => {
      await loaded;
      // A delivery that ends may start the next one (a burst queued meanwhile): wait for those too.
      while (states.some((s) => s.inFlight)) await Promise.all(states.map((s) => s.inFlight));
      await writes;
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const s of states) s.wake?.abort();
      await loaded;
      await Promise.all(states.map((s) => s.inFlight));
      await writes;
      const left = waiting();
      if (left > 0)
        logger[outbox.durable ? "info" : "warn"](
          `notify: ${left} message(s) not delivered yet, kept in ${outbox.where}${outbox.durable ? " and sent after the next start" : " (lost if the process exits)"}`,
        );
    },
  };
}

const alertKey = (s: TargetState) => `notify:${s.name}`;
