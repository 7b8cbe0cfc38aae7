import { createHmac, randomUUID } from "node:crypto";
import type { NotifyEventKind } from "@dynosaur/core";

/** One thing a target is told about. Every text here comes from the engine, which keeps secrets out. */
export interface NotifyEvent {
  kind: NotifyEventKind;
  /** Milliseconds since the epoch. */
  time: number;
  app: string;
  /** Null for the app as a whole. */
  processType: string | null;
  from: number | null;
  to: number | null;
  /** Why, in a few words (`scale up`, the engine's message...). */
  reason: string;
  /** The source whose estimate won, when it matters. */
  winner: string | null;
}

const TITLES: Record<NotifyEventKind, string> = {
  scale: "scaled",
  refused: "Heroku refused to scale",
  outage: "outage",
  recovered: "recovered",
  "manual-change": "scaled by hand",
  "config-changed": "config changed",
  budget: "Heroku API budget",
};

/** One line a phone can show on its own: `shop web scaled 2 → 5 (scale up, winner ga)`. */
export function summary(e: NotifyEvent): string {
  const who = [e.app, e.processType].filter(Boolean).join(" ");
  const move = e.from !== null && e.to !== null ? ` ${e.from} → ${e.to}` : "";
  const why = [e.reason, e.winner ? `winner ${e.winner}` : ""].filter(Boolean).join(", ");
  return `${who} ${TITLES[e.kind]}${move}${why ? ` (${why})` : ""}`;
}

function appLink(publicUrl: string | undefined, app: string): string | null {
  if (!publicUrl) return null;
  return `${publicUrl.replace(/\/+$/, "")}/apps/${encodeURIComponent(app)}`;
}

// Slack refuses a message of more than 50 blocks; a burst beyond that is counted, not listed.
const MAX_LISTED = 20;

/** A Slack incoming-webhook body: `text` for notifications, `blocks` for the channel. */
export function slackMessage(events: readonly NotifyEvent[], publicUrl?: string): Record<string, unknown> {
  const first = events[0];
  if (!first) throw new Error("no event to send");
  const more = events.length > 1 ? ` (+${events.length - 1} more)` : "";
  const blocks: unknown[] = events.slice(0, MAX_LISTED).map((e) => {
    const fields = [
      `*App:* ${e.app}`,
      e.processType ? `*Process type:* ${e.processType}` : null,
      e.from !== null && e.to !== null ? `*From → to:* ${e.from} → ${e.to}` : null,
      `*Reason:* ${e.reason || TITLES[e.kind]}`,
      e.winner ? `*Winning source:* ${e.winner}` : null,
    ].filter((f): f is string => f !== null);
    return {
      type: "section",
      text: { type: "mrkdwn", text: `*${TITLES[e.kind]}* at ${new Date(e.time).toISOString()}` },
      fields: fields.map((text) => ({ type: "mrkdwn", text })),
    };
  });
  if (events.length > MAX_LISTED)
    blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: `…and ${events.length - MAX_LISTED} more` }] });
  const link = appLink(publicUrl, first.app);
  if (link) blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: `<${link}|Open ${first.app}>` }] });
  return { text: `${summary(first)}${more}`, blocks };
}

/** The JSON body of a signed webhook: every event of the burst, in order. */
export function webhookBody(events: readonly NotifyEvent[], publicUrl?: string): Record<string, unknown> {
  return {
    type: "dynosaur.events",
    timestamp: new Date(events[0]?.time ?? 0).toISOString(),
    data: events.map((e) => ({
      type: e.kind,
      time: new Date(e.time).toISOString(),
      app: e.app,
      process_type: e.processType,
      from: e.from,
      to: e.to,
      reason: e.reason,
      winner: e.winner,
      summary: summary(e),
      url: appLink(publicUrl, e.app),
    })),
  };
}

/** A new message id; a retry keeps it, so a receiver can drop a delivery it already has. */
export const messageId = (): string => `msg_${randomUUID()}`;

/**
 * Standard Webhooks headers: the signature is the base64 HMAC-SHA256, keyed with the
 * base64-decoded part of `whsec_…`, of `<id>.<timestamp in seconds>.<body>`.
 */
export function signedHeaders(secret: string, id: string, nowMs: number, body: string): Record<string, string> {
  const timestamp = String(Math.floor(nowMs / 1000));
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const signature = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64");
  return { "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": `v1,${signature}` };
}
