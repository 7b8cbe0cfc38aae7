import type { Dispatcher } from "undici";
import { HttpFailure, httpCall, joinUrl, quoteBody } from "../stats/http.js";

export interface Email {
  to: readonly string[];
  from: string;
  subject: string;
  /** Plain text body. */
  text: string;
}

export interface Mailer {
  send(email: Email): Promise<void>;
}

export interface SendGridOptions {
  apiKey: string;
  /** @default "https://api.sendgrid.com" */
  endpoint?: string;
  http: Dispatcher;
  /** @default 10_000 */
  timeoutMs?: number;
}

/** Sends plain-text email through SendGrid's v3 Mail Send API (`POST /v3/mail/send`, 202 on success). */
export function createSendGridMailer(options: SendGridOptions): Mailer {
  const url = joinUrl(options.endpoint ?? "https://api.sendgrid.com", "/v3/mail/send");
  const secrets = [options.apiKey];
  return {
    async send(email) {
      const body = {
        personalizations: [{ to: email.to.map((address) => ({ email: address })) }],
        from: { email: email.from, name: "Dynosaur" },
        subject: email.subject,
        content: [{ type: "text/plain", value: email.text }],
      };
      const reply = await httpCall(
        {
          method: "POST",
          url,
          headers: {
            authorization: `Bearer ${options.apiKey}`,
            "content-type": "application/json",
            "user-agent": "dynosaur",
          },
          body: JSON.stringify(body),
          dispatcher: options.http,
          timeoutMs: options.timeoutMs ?? 10_000,
          secrets,
        },
        "SendGrid",
      );
      if (reply.status >= 200 && reply.status < 300) return;
      throw new HttpFailure(sendGridError(reply.status, reply.text, secrets), reply.status);
    },
  };
}

/** SendGrid's errors: `{"errors":[{"message":..,"field":..,"help":..}]}`. */
function sendGridError(status: number, body: string, secrets: string[]): string {
  let detail = quoteBody(body, secrets);
  try {
    const errors = (JSON.parse(body) as { errors?: { message?: unknown; field?: unknown }[] }).errors;
    if (Array.isArray(errors) && errors.length > 0) {
      detail = quoteBody(
        errors.map((e) => (e.field ? `${String(e.field)}: ${String(e.message)}` : String(e.message))).join("; "),
        secrets,
      );
    }
  } catch {
    // Not JSON (a proxy's error page): the quoted text is all there is.
  }
  const hint =
    status === 401
      ? " (check SENDGRID_API_KEY / alerts.sendgrid_api_key)"
      : status === 403
        ? " (the key needs the Mail Send permission, and alerts.from / DYNOSAUR_FROM_EMAIL must be a verified sender in SendGrid)"
        : "";
  return `SendGrid answered HTTP ${status}${detail ? `: ${detail}` : ""}${hint}`;
}
