/**
 * A loopback SendGrid v3 Mail Send API: `POST /v3/mail/send` with `Authorization: Bearer <key>`
 * (401 with SendGrid's `{"errors":[{"message","field","help"}]}` body otherwise),
 * `Content-Type: application/json`, and a body with `personalizations[].to[].email`,
 * `from.email`, `subject` and `content[].{type,value}` (400 naming the bad field otherwise).
 * With `verifiedSenders`, any other `from` gets SendGrid's 403 sender-identity error.
 * Accepted mail answers 202 with an empty body and an `X-Message-Id`, and is kept in `emails`.
 */
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { listenOnLoopback, readBody, sendJson } from "./http.js";

export interface SentEmail {
  to: string[];
  from: string;
  subject: string;
  /** The `text/plain` content. */
  text: string;
  /** The whole decoded request body. */
  body: Record<string, unknown>;
}

export interface SendGridFake {
  /** Base URL, e.g. `http://127.0.0.1:1234` (the client appends `/v3/mail/send`). */
  url: string;
  emails: SentEmail[];
  /** Every request that reached the server, with the status it got. */
  requests: { method: string; path: string; status: number }[];
  close(): Promise<void>;
}

interface SendGridError {
  message: string;
  field: string | null;
  help: string | null;
}

const HELP = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html";
const EMAIL = /^[^@\s]+@[^@\s]+$/;

export async function startSendGridFake(options: {
  apiKey: string;
  verifiedSenders?: string[];
}): Promise<SendGridFake> {
  const fake: SendGridFake = { url: "", emails: [], requests: [], close: async () => {} };

  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const record = { method: req.method ?? "", path, status: 0 };
    fake.requests.push(record);
    const raw = await readBody(req);
    const fail = (status: number, ...errors: SendGridError[]) => {
      record.status = status;
      sendJson(res, status, { errors });
    };

    if (path !== "/v3/mail/send") return fail(404, { message: "resource not found", field: null, help: null });
    if (req.method !== "POST") return fail(405, { message: "method not allowed", field: null, help: null });
    const auth = req.headers.authorization;
    if (!auth) return fail(401, { message: "authorization required", field: null, help: null });
    if (auth !== `Bearer ${options.apiKey}`) {
      return fail(401, {
        message: "The provided authorization grant is invalid, expired, or revoked",
        field: null,
        help: null,
      });
    }
    if (!(req.headers["content-type"] ?? "").toLowerCase().startsWith("application/json")) {
      return fail(415, { message: "Content-Type should be application/json.", field: null, help: null });
    }
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return fail(400, { message: "Bad Request", field: null, help: null });
    }
    const checked = check(body, options.verifiedSenders);
    if ("status" in checked) return fail(checked.status, ...checked.errors);
    fake.emails.push(checked);
    record.status = 202;
    res.writeHead(202, { "x-message-id": randomUUID().replaceAll("-", "") }).end();
  });

  const { origin, close } = await listenOnLoopback(server);
  fake.url = origin;
  fake.close = close;
  return fake;
}

function check(body: unknown, verified: string[] | undefined): SentEmail | { status: number; errors: SendGridError[] } {
  const errors: SendGridError[] = [];
  const b = (body && typeof body === "object" ? body : {}) as Record<string, unknown>;

  const personalizations = b.personalizations;
  const to: string[] = [];
  if (!Array.isArray(personalizations) || personalizations.length === 0) {
    errors.push({
      message: "The personalizations field is required and must have at least one personalization.",
      field: "personalizations",
      help: `${HELP}#-Personalizations-Errors`,
    });
  } else {
    personalizations.forEach((p, i) => {
      const list = (p as { to?: unknown }).to;
      if (!Array.isArray(list) || list.length === 0) {
        errors.push({
          message:
            "The to array is required for all personalization objects, and must have at least one email object with a valid email address.",
          field: `personalizations.${i}.to`,
          help: `${HELP}#message.personalizations.to`,
        });
        return;
      }
      list.forEach((r, j) => {
        const email = (r as { email?: unknown }).email;
        if (typeof email !== "string" || !EMAIL.test(email)) {
          errors.push({
            message: "Does not contain a valid address.",
            field: `personalizations.${i}.to.${j}.email`,
            help: `${HELP}#message.personalizations.to`,
          });
        } else to.push(email);
      });
    });
  }

  const from = (b.from as { email?: unknown } | undefined)?.email;
  if (typeof from !== "string" || !EMAIL.test(from)) {
    errors.push({
      message:
        "The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter.",
      field: "from.email",
      help: `${HELP}#message.from`,
    });
  }

  const everyHasSubject =
    Array.isArray(personalizations) &&
    personalizations.every((p) => typeof (p as { subject?: unknown }).subject === "string");
  if ((typeof b.subject !== "string" || b.subject === "") && !everyHasSubject) {
    errors.push({
      message:
        "The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.",
      field: "subject",
      help: `${HELP}#message.subject`,
    });
  }

  let text = "";
  const content = b.content;
  if (!Array.isArray(content) || content.length === 0) {
    errors.push({
      message:
        "Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block.",
      field: "content",
      help: `${HELP}#message.content`,
    });
  } else {
    content.forEach((c, i) => {
      const { type, value } = (c ?? {}) as { type?: unknown; value?: unknown };
      if (typeof type !== "string" || type === "")
        errors.push({
          message: "The content type cannot contain ';', or CRLF characters, and must be at least 1 character long.",
          field: `content.${i}.type`,
          help: `${HELP}#message.content.type`,
        });
      if (typeof value !== "string" || value === "")
        errors.push({
          message: "The content value must be a string at least one character in length.",
          field: `content.${i}.value`,
          help: `${HELP}#message.content.value`,
        });
      if (type === "text/plain" && typeof value === "string") text = value;
    });
  }

  if (errors.length > 0) return { status: 400, errors };
  if (verified && !verified.includes(from as string)) {
    return {
      status: 403,
      errors: [
        {
          message:
            "The from address does not match a verified Sender Identity. Mail cannot be sent until this error is resolved. Visit https://sendgrid.com/docs/for-developers/sending-email/sender-identity/ to see the Sender Identity requirements",
          field: "from",
          help: null,
        },
      ],
    };
  }
  return { to, from: from as string, subject: b.subject as string, text, body: b };
}
