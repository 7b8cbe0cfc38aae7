/**
 * Loopback receivers for `notify:` messages. The Slack one answers as an incoming webhook
 * does: `POST /services/<path>` with a JSON body carrying `text` or `blocks` gets 200 `ok`,
 * a body without either 400 `no_text`, bad JSON 400 `invalid_payload`, another path 404
 * `no_service`. The generic one keeps every POST as it came (raw body and headers), so a
 * test can check a signature itself. `mode: "down"` drops each connection unanswered, as
 * a receiver that is not there; `"fail"` answers 503.
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import { listenOnLoopback } from "./http.js";

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  /** The body exactly as sent (signatures are over these bytes). */
  raw: string;
  json: unknown;
}

export interface NotifyReceiver {
  /** Where to POST (for Slack, the webhook URL with its secret path). */
  url: string;
  /** Messages accepted, in order. */
  received: Received[];
  /** Every request, with the status it got (0 when dropped). */
  requests: { path: string; status: number }[];
  mode: "ok" | "fail" | "down";
  close(): Promise<void>;
}

export async function startNotifyReceiver(options: { slack?: { path: string } } = {}): Promise<NotifyReceiver> {
  const fake: NotifyReceiver = { url: "", received: [], requests: [], mode: "ok", close: async () => {} };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const record = { path, status: 0 };
    fake.requests.push(record);
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (fake.mode === "down") return req.socket.destroy();
      const reply = (status: number, text: string) => {
        record.status = status;
        res.writeHead(status, { "content-type": "text/plain; charset=utf-8" }).end(text);
      };
      if (fake.mode === "fail") return reply(503, "unavailable");
      if (req.method !== "POST") return reply(405, "invalid_method");
      if (options.slack && path !== options.slack.path) return reply(404, "no_service");
      const raw = Buffer.concat(chunks).toString("utf8");
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch {
        return reply(400, "invalid_payload");
      }
      if (options.slack) {
        const body = json as { text?: unknown; blocks?: unknown };
        if (typeof body?.text !== "string" && !Array.isArray(body?.blocks)) return reply(400, "no_text");
      }
      fake.received.push({ path, headers: req.headers, raw, json });
      return reply(200, "ok");
    });
  });
  const { origin, close } = await listenOnLoopback(server);
  fake.url = `${origin}${options.slack?.path ?? "/hooks/dynosaur"}`;
  fake.close = close;
  return fake;
}
