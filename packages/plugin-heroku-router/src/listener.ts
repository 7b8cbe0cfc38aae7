import { createServer, type Server } from "node:http";
import type { Clock } from "@dynosaur/core";
import { takeDelivery } from "./delivery.js";
import { drainFeed } from "./feed.js";
import { LOGPLEX_CONTENT_TYPE } from "./logplex.js";

/** Logplex sends at most about 1 MB per delivery; more is not a drain. */
const MAX_BODY = 4 * 1024 * 1024;

interface Shared {
  server: Server;
  users: number;
  ready: Promise<void>;
}

const listeners = new Map<string, Shared>();

/** The feed a CLI listener on `address` fills. */
export const listenerFeedKey = (address: string) => `listen:${address}`;

/**
 * Starts (or joins) the CLI's drain listener on `host:port`: POSTs of Logplex deliveries on
 * `path` (any path when null) go to the feed `listen:<address>`. Sources on the same address
 * share one server; it stops when the last one leaves. Resolves once listening.
 */
export async function joinListener(
  address: string,
  path: string | null,
  clock: Clock,
): Promise<{ leave(): Promise<void> }> {
  let shared = listeners.get(address);
  if (!shared) {
    const [host, port] = [
      address.slice(0, address.lastIndexOf(":")),
      Number(address.slice(address.lastIndexOf(":") + 1)),
    ];
    const feed = drainFeed(listenerFeedKey(address));
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://drain");
      if (path !== null && url.pathname !== path) {
        res.writeHead(404).end();
        req.resume();
        return;
      }
      if (req.method !== "POST") {
        res.writeHead(405, { allow: "POST" }).end();
        req.resume();
        return;
      }
      if (!String(req.headers["content-type"] ?? "").startsWith(LOGPLEX_CONTENT_TYPE)) {
        res.writeHead(415).end(`expected Content-Type: ${LOGPLEX_CONTENT_TYPE}`);
        req.resume();
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      req.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY) {
          res.writeHead(413).end();
          req.destroy();
          return;
        }
        chunks.push(chunk);
      });
      req.on("end", () => {
        if (res.headersSent) return;
        takeDelivery(
          feed,
          Buffer.concat(chunks),
          { msgCount: header(req.headers["logplex-msg-count"]), frameId: header(req.headers["logplex-frame-id"]) },
          clock.now(),
        );
        res.writeHead(204).end();
      });
    });
    const ready = new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    shared = { server, users: 0, ready };
    listeners.set(address, shared);
    ready.catch(() => listeners.delete(address));
  }
  shared.users++;
  const mine = shared;
  try {
    await mine.ready;
  } catch (e) {
    mine.users--;
    throw e;
  }
  let left = false;
  return {
    async leave() {
      if (left) return;
      left = true;
      mine.users--;
      if (mine.users > 0) return;
      listeners.delete(address);
      await new Promise<void>((done) => mine.server.close(() => done()));
    },
  };
}

function header(value: string | string[] | undefined): string | null {
  return Array.isArray(value) ? (value[0] ?? null) : (value ?? null);
}
