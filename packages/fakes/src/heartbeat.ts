/**
 * A loopback dead man's switch in the style of healthchecks.io: `GET` (or `HEAD`/`POST`) on
 * `/ping/<token>` records a ping and answers 200 `OK`; an unknown token gets 404 `not found`.
 * `mode` makes it fail (`500`) or hang, to test that a bad endpoint is logged and survived.
 */
import { createServer } from "node:http";
import { listenOnLoopback } from "./http.js";

export interface HeartbeatFake {
  /** The full ping URL, token included (treat it as a secret). */
  pingUrl: string;
  /** Pings received with the right token, in order. */
  pings: { method: string }[];
  /** Every request that reached the server, with the status it got (hung ones: 0). */
  requests: { method: string; path: string; status: number }[];
  mode: "ok" | "fail" | "hang";
  close(): Promise<void>;
}

export async function startHeartbeatFake(options: { token: string }): Promise<HeartbeatFake> {
  const fake: HeartbeatFake = { pingUrl: "", pings: [], requests: [], mode: "ok", close: async () => {} };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const record = { method: req.method ?? "", path, status: 0 };
    fake.requests.push(record);
    req.resume();
    if (fake.mode === "hang") return;
    const reply = (status: number, text: string) => {
      record.status = status;
      res
        .writeHead(status, { "content-type": "text/plain; charset=utf-8" })
        .end(req.method === "HEAD" ? undefined : text);
    };
    if (!["GET", "HEAD", "POST"].includes(req.method ?? "")) return reply(405, "method not allowed");
    if (path !== `/ping/${options.token}`) return reply(404, "not found");
    if (fake.mode === "fail") return reply(500, "internal error");
    fake.pings.push({ method: req.method ?? "" });
    return reply(200, "OK");
  });
  const { origin, close } = await listenOnLoopback(server);
  fake.pingUrl = `${origin}/ping/${options.token}`;
  fake.close = close;
  return fake;
}
