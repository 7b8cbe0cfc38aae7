import { createServer } from "node:net";
import { ManualClock } from "@dynosaur/core";
import { createTestInstance } from "@dynosaur/core/testing";
import { afterEach, describe, expect, it } from "vitest";
import plugin, { dropDrainFeed, LOGPLEX_CONTENT_TYPE, listenerFeedKey } from "../src/index.js";
import { body, ROUTER_1, router } from "./bodies.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((done) => probe.listen(0, "127.0.0.1", done));
  const { port } = probe.address() as { port: number };
  await new Promise((done) => probe.close(done));
  return port;
}

describe("the CLI's drain listener (listen: host:port)", () => {
  it("takes Logplex POSTs on its path only, and the source reads them", async () => {
    const address = `127.0.0.1:${await freePort()}`;
    closers.push(async () => dropDrainFeed(listenerFeedKey(address)));
    const clock = new ManualClock(Date.parse("2026-12-07T04:00:00Z"));
    const made = await createTestInstance(
      plugin,
      { metric: "requests", requests_per_dyno: 100, listen: address, listen_path: "/drain/s3cret" },
      { clock },
    );
    closers.push(() => made.close());
    const signal = new AbortController().signal;
    // The first reading opens the listener; nothing came yet.
    await expect(made.instance.retrieve(signal)).rejects.toThrow(/delivered nothing yet/);

    const post = (path: string, contentType = LOGPLEX_CONTENT_TYPE, frameId = "f1") =>
      fetch(`http://${address}${path}`, {
        method: "POST",
        headers: { "content-type": contentType, "logplex-msg-count": "3", "logplex-frame-id": frameId },
        body: body(...[5, 6, 7].map((ms) => router(ROUTER_1("web.1", ms)))),
      });
    expect((await post("/drain/wrong")).status).toBe(404);
    expect((await post("/drain/s3cret", "text/plain")).status).toBe(415);
    expect((await post("/drain/s3cret")).status).toBe(204);
    expect((await post("/drain/s3cret")).status).toBe(204); // a retry: counted once
    expect(await made.instance.retrieve(signal)).toBe(3);

    await made.close();
    await expect(fetch(`http://${address}/drain/s3cret`, { method: "POST" })).rejects.toThrow();
  });
});
