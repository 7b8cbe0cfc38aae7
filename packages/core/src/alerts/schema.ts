import { z } from "zod";

/**
 * `alerts:` in the config. Every key is optional: as in the seed, alerts can be set up from
 * the environment alone (`SENDGRID_API_KEY`, `DYNOSAUR_ADMIN_EMAIL`). Email is on when both
 * a SendGrid key and a recipient are known. Each key's `.describe()` is its documentation
 * (`dynosaur schema` shows it).
 */
export const alertsConfigSchema = z
  .object({
    email: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
      .optional()
      .describe("Recipient(s) of alert emails; defaults to DYNOSAUR_ADMIN_EMAIL."),
    // SendGrid sends only from a verified sender identity: the recipient is the address most likely verified already.
    from: z
      .string()
      .min(1)
      .optional()
      .describe(
        "Sender address (a SendGrid verified sender); defaults to DYNOSAUR_FROM_EMAIL, else the first recipient.",
      ),
    sendgrid_api_key: z
      .string()
      .min(1)
      .optional()
      .describe("SendGrid API key (Mail Send); defaults to SENDGRID_API_KEY. In a file, write ${SENDGRID_API_KEY}."),
    sendgrid_endpoint: z
      .url()
      .default("https://api.sendgrid.com")
      .describe(
        "Base URL of the SendGrid v3 API (`/v3/mail/send` is appended); the EU region uses https://api.eu.sendgrid.com.",
      ),
    min_interval: z
      .number()
      .min(0)
      .default(900)
      .describe("Seconds between two emails about one problem; repeats are counted. Recoveries are always sent."),
    // Such URLs carry a token: never logged beyond their origin.
    heartbeat_url: z
      .url()
      .optional()
      .describe(
        "URL pinged (GET) after healthy ticks, for a dead man's switch service (healthchecks.io, Cronitor...).",
      ),
    heartbeat_interval: z.number().positive().default(60).describe("Least seconds between two heartbeat pings."),
    timeout: z
      .number()
      .positive()
      .max(120)
      .default(10)
      .describe("Seconds to wait for SendGrid or the heartbeat URL before a call is given up (and logged)."),
  })
  .strict();

export type AlertsConfig = z.output<typeof alertsConfigSchema>;
export type AlertsConfigInput = z.input<typeof alertsConfigSchema>;
