import { z } from "zod";
import { inputError } from "../errors.js";

const EMAIL = z.email();

/** The entries of an address list (`a@x.example, b@y.example`, or a YAML list) that are not email addresses. */
export function notAddresses(list: string | readonly string[]): string[] {
  return (typeof list === "string" ? list.split(",") : list)
    .map((a) => a.trim())
    .filter((a) => a.length > 0 && !EMAIL.safeParse(a).success);
}

const ADDRESS_HINT = "write an address such as ops@example.com (several as a list, or separated by commas)";

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
  .strict()
  // SendGrid refuses the whole email for one bad address: say so now, not at the first alert.
  .superRefine((a, ctx) => {
    for (const key of ["email", "from"] as const) {
      const [bad] = notAddresses(a[key] ?? []);
      if (bad !== undefined)
        ctx.addIssue({ code: "custom", path: [key], message: `"${bad}" is not an email address: ${ADDRESS_HINT}` });
    }
  });

/**
 * Refuses a bad address in `DYNOSAUR_ADMIN_EMAIL` or `DYNOSAUR_FROM_EMAIL` where the config
 * leaves the recipient or sender to them, so it shows at start (and in `check`).
 */
export function checkEnvAddresses(config: AlertsConfigInput, env: Record<string, string | undefined>): void {
  const vars = [
    ["DYNOSAUR_ADMIN_EMAIL", config.email, "alerts.email"],
    ["DYNOSAUR_FROM_EMAIL", config.from, "alerts.from"],
  ] as const;
  for (const [name, set, key] of vars) {
    const [bad] = set === undefined ? notAddresses(env[name] ?? "") : [];
    if (bad !== undefined)
      throw inputError("DYNO_CONFIG_INVALID", `${name}: "${bad}" is not an email address`, {
        path: name,
        hint: `set ${name} to an address such as ops@example.com (several separated by commas), or set ${key}`,
      });
  }
}

export type AlertsConfig = z.output<typeof alertsConfigSchema>;
export type AlertsConfigInput = z.input<typeof alertsConfigSchema>;
