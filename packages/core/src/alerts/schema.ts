import { z } from "zod";

/**
 * `alerts:` in the config. Every key is optional: as in the seed, alerts can be set up from
 * the environment alone (`SENDGRID_API_KEY`, `DYNOSAUR_ADMIN_EMAIL`). Email is on when both
 * a SendGrid key and a recipient are known.
 */
export const alertsConfigSchema = z
  .object({
    /**
     * Who gets the alert emails: one address, a comma-separated list, or a list.
     * @default $DYNOSAUR_ADMIN_EMAIL
     */
    email: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
      .optional()
      .describe("Recipient(s) of alert emails; defaults to DYNOSAUR_ADMIN_EMAIL."),
    /**
     * Sender address. SendGrid sends only from a verified sender identity, so the default is
     * the (first) recipient, the address most likely verified already.
     * @default $DYNOSAUR_FROM_EMAIL, else the first recipient
     */
    from: z
      .string()
      .min(1)
      .optional()
      .describe(
        "Sender address (a SendGrid verified sender); defaults to DYNOSAUR_FROM_EMAIL, else the first recipient.",
      ),
    /**
     * SendGrid API key with the Mail Send permission. Prefer the environment variable; in a
     * config file write `${SENDGRID_API_KEY}`.
     * @default $SENDGRID_API_KEY
     */
    sendgrid_api_key: z
      .string()
      .min(1)
      .optional()
      .describe("SendGrid API key (Mail Send); defaults to SENDGRID_API_KEY."),
    /**
     * Base URL of the SendGrid v3 API; `/v3/mail/send` is appended. The EU region uses
     * `https://api.eu.sendgrid.com`.
     * @default "https://api.sendgrid.com"
     */
    sendgrid_endpoint: z.url().default("https://api.sendgrid.com").describe("Base URL of the SendGrid v3 API."),
    /**
     * Seconds between two emails about the same problem. Repeats in between are counted and
     * the count goes in the next email. Recoveries are always sent.
     * @default 900
     */
    min_interval: z
      .number()
      .min(0)
      .default(900)
      .describe("Seconds between two emails about one problem; repeats are counted."),
    /**
     * URL pinged (GET) after healthy ticks, for a dead man's switch (healthchecks.io, Cronitor,
     * Dead Man's Snitch...). Never logged beyond its origin, as such URLs carry a token.
     */
    heartbeat_url: z
      .url()
      .optional()
      .describe("URL pinged (GET) after healthy ticks, for a dead man's switch service."),
    /**
     * Least seconds between two heartbeat pings.
     * @default 60
     */
    heartbeat_interval: z.number().positive().default(60).describe("Least seconds between two heartbeat pings."),
    /**
     * Seconds to wait for SendGrid or the heartbeat URL before a call is given up (and logged).
     * @default 10
     */
    timeout: z.number().positive().max(120).default(10).describe("Seconds to wait for SendGrid or the heartbeat URL."),
  })
  .strict();

export type AlertsConfig = z.output<typeof alertsConfigSchema>;
export type AlertsConfigInput = z.input<typeof alertsConfigSchema>;
