import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A loopback stand-in for the JSON endpoint the plugin reads. It checks what such an
 * endpoint checks (path, method, bearer token, accepted content type) and rejects the rest,
 * so a plugin that sends the wrong request fails its tests.
 */
export interface FakeStatsOptions {
  /**
   * Bearer token every request must carry.
   * @default none required
   */
  token?: string;
  /**
   * Path of the stats document.
   * @default "/stats"
   */
  path?: string;
}

export interface FakeStats {
  /** The document's URL. */
  url: string;
  origin: string;
  /** Every request received, in order. */
  requests: { method: string; url: string; headers: IncomingHttpHeaders }[];
  /** What the endpoint answers from now on; a string body is sent as is, anything else as JSON. */
  answer(status: number, body: unknown, contentType?: string): void;
  /** Leaves the next requests unanswered; resolves when one arrives. */
  hang(): Promise<void>;
  close(): Promise<void>;
}

export const defaultDocument = { data: { active_users: 312 }, queues: [{ name: "default", depth: 17 }] };

export async function startFakeStats(options: FakeStatsOptions = {}): Promise<FakeStats> {
  const path = options.path ?? "/stats";
  let reply = { status: 200, body: defaultDocument as unknown, contentType: "application/json" };
  let hanging: (() => void) | undefined;
  const requests: FakeStats["requests"] = [];

  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    const send = (
      status: number,
      body: unknown,
      contentType = "application/json",
      headers: Record<string, string> = {},
    ) => {
      res.writeHead(status, { "content-type": contentType, ...headers });
      res.end(typeof body === "string" ? body : JSON.stringify(body));
    };
    const url = new URL(req.url ?? "/", "http://fake");
    if (url.pathname !== path) return send(404, { error: "not_found" });
    if (req.method !== "GET") return send(405, { error: "method_not_allowed" }, "application/json", { allow: "GET" });
    if (options.token !== undefined && req.headers.authorization !== `Bearer ${options.token}`) {
      return send(401, { error: "invalid_token" }, "application/json", { "www-authenticate": 'Bearer realm="stats"' });
    }
    const accept = req.headers.accept ?? "*/*";
    if (!/application\/json|\*\/\*/.test(accept)) return send(406, { error: "not_acceptable" });
    if (hanging) return hanging();
    send(reply.status, reply.body, reply.contentType);
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: `${origin}${path}`,
    origin,
    requests,
    answer(status, body, contentType = "application/json") {
      reply = { status, body, contentType };
    },
    hang: () =>
      new Promise<void>((received) => {
        hanging = received;
      }),
    async close() {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    },
  };
}
