import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** The whole request body as text. */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** Answers with a JSON body (or none), with the length set as real servers do. */
export function sendJson(
  res: ServerResponse,
  status: number,
  payload?: unknown,
  contentType = "application/json",
): void {
  if (payload === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(payload);
  res.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(text) }).end(text);
}

/**
 * Starts `server` on a free port of 127.0.0.1. `close()` drops every open connection,
 * hanging ones included, so a test never waits on a fake.
 */
export async function listenOnLoopback(server: Server): Promise<{ origin: string; close(): Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
