import { z } from "zod";

/** What a `notify:` target can be told about. */
export const NOTIFY_EVENTS = [
  "scale",
  "refused",
  "outage",
  "recovered",
  "manual-change",
  "config-changed",
  "budget",
] as const;
export type NotifyEventKind = (typeof NOTIFY_EVENTS)[number];
/** What a target hears about when its `events:` is left out. */
export const DEFAULT_NOTIFY_EVENTS: readonly NotifyEventKind[] = ["scale", "refused", "outage", "recovered"];

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

// Messages name the app and its figures: plain http would show them to anyone on the path
// (loopback is allowed so that tests and local relays work).
const targetUrl = z.url().refine(
  (u) => {
    const url = new URL(u);
    return url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK.has(url.hostname));
  },
  { message: "must be an https:// URL (http:// only on 127.0.0.1 or localhost)" },
);

const events = z
  .array(z.enum(NOTIFY_EVENTS))
  .min(1, "list at least one event, or remove the target")
  .default([...DEFAULT_NOTIFY_EVENTS])
  .describe(`What this target is told about: ${NOTIFY_EVENTS.join(", ")}. Default: scale, refused, outage, recovered.`);

const WHSEC = /^whsec_[A-Za-z0-9+/]+={0,2}$/;

const slackTarget = z
  .object({
    type: z.literal("slack").describe("A Slack incoming webhook."),
    // The URL of an incoming webhook is its credential: never logged beyond its origin.
    url: targetUrl.describe("The Slack incoming webhook URL (https://hooks.slack.com/services/...)."),
    events,
  })
  .strict();

const webhookTarget = z
  .object({
    type: z.literal("webhook").describe("A JSON POST signed as Standard Webhooks does."),
    url: targetUrl.describe("Where the signed JSON is POSTed."),
    secret: z
      .string()
      .regex(WHSEC, "a Standard Webhooks secret: whsec_ followed by a base64 key, e.g. ${DYNOSAUR_WEBHOOK_SECRET}")
      .refine((s) => Buffer.from(s.slice(6), "base64").length >= 16, {
        message: "the key after whsec_ must decode to at least 16 bytes (openssl rand -base64 32)",
      })
      .describe("Signing secret, `whsec_<base64 key>` (Standard Webhooks). In a file, write ${VAR}."),
    events,
  })
  .strict();

/** `notify:` in the config: where a message goes when the scaler scales, is refused, or a source is out. */
export const notifyConfigSchema = z
  .array(z.discriminatedUnion("type", [slackTarget, webhookTarget]))
  .describe("Messages on scaling and problems: Slack incoming webhooks and signed webhooks (Standard Webhooks).");

export type NotifyTarget = z.output<typeof slackTarget> | z.output<typeof webhookTarget>;
export type NotifyConfig = z.output<typeof notifyConfigSchema>;
