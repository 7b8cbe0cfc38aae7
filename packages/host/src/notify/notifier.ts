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

/** Engine events and the notification they are. */
const FROM_ENGINE: Partial<Record<EngineEvent["kind"], NotifyEventKind>> = {
  scale: "scale",
  "manual-change": "manual-change",
  "heroku-refused": "refused",
};

interface TargetState {
  target: NotifyTarget;
  wants: ReadonlySet<NotifyEventKind>;
  name: string;
  queue: NotifyEvent[];
  /** The message being (re)tried keeps its id across retries. */
  retry: { id: string; events: NotifyEvent[] } | null;
  lastSentAt: number | null;
  notBefore: number;
  failures: number;
  dead: boolean;
  inFlight: Promise<void> | null;
  wake: AbortController | null;
}

/**
 * Sends `notify:` messages: at most one a second per target (a burst waiting in between goes
 * as one message), retried with back-off while the target fails, kept in memory meanwhile.
 * A target that keeps failing raises one alert and clears it when it answers again. Nothing
 * here blocks the tick that called it.
 */
export function createNotifier(targets: readonly NotifyTarget[], deps: NotifierDeps): Notifier {
  const { clock, logger } = deps;
  const timeoutMs = (deps.timeoutSeconds ?? 10) * 1000;
  let closed = false;
  const states: TargetState[] = targets.map((target, i) => ({
    target,
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

  const pump = (s: TargetState) => {
    if (closed || s.inFlight || (s.queue.length === 0 && !s.retry)) return;
    const now = clock.now();
    const due = Math.max(s.notBefore, s.lastSentAt === null ? 0 : s.lastSentAt + MIN_GAP_MS);
    if (now < due) return schedule(s, due);
    // A retry goes as it was (same id); what came meanwhile follows in the next message.
    const message = s.retry ?? { id: messageId(), events: s.queue.splice(0) };
    s.retry = message;
    s.lastSentAt = now;
    s.inFlight = deliver(s, message.id, message.events)
      .then(
        () => {
          s.retry = null;
          s.failures = 0;
          s.notBefore = 0;
          if (s.dead) {
            s.dead = false;
            logger.info(`${s.name} answers again`);
            deps.alerts.clear(alertKey(s));
          }
        },
        (e: unknown) => {
          s.failures++;
          s.notBefore = clock.now() + backoffMs(s.failures);
          const reason = e instanceof HttpFailure ? e.reason : describeError(e);
          logger.info(`${s.name}: delivery failed, retried later`, { failures: s.failures, reason });
          if (s.failures >= DEAD_AFTER && !s.dead) {
            s.dead = true;
            deps.alerts.raise({
              key: alertKey(s),
              kind: "unexpected",
              message: `${s.name} has refused ${s.failures} deliveries in a row (last: ${reason}); its messages are kept and retried`,
            });
          }
        },
      )
      .finally(() => {
        s.inFlight = null;
        pump(s);
      });
  };

  const enqueue = (event: NotifyEvent) => {
    if (closed) return;
    for (const s of states) {
      if (!s.wants.has(event.kind)) continue;
      s.queue.push(event);
      if (s.queue.length > QUEUE_MAX) {
        s.queue.shift();
        logger.warn(`${s.name}: more than ${QUEUE_MAX} messages waiting; the oldest is dropped`);
      }
      pump(s);
    }
  };

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
      // A delivery that ends may start the next one (a burst queued meanwhile): wait for those too.
      while (states.some((s) => s.inFlight)) await Promise.all(states.map((s) => s.inFlight));
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const s of states) s.wake?.abort();
      await Promise.all(states.map((s) => s.inFlight));
      const left = states.reduce((n, s) => n + s.queue.length + (s.retry?.events.length ?? 0), 0);
      if (left > 0) logger.warn(`notify: ${left} message(s) not delivered at shutdown (kept in memory only)`);
    },
  };
}

const alertKey = (s: TargetState) => `notify:${s.name}`;
