import type { AddressInfo } from "node:net";
import express from "express";
import Fastify from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { queueTime } from "../src/index.js";

// The clock is injected: each request's X-Request-Start is set relative to it, so the
// queue times are exact whatever the real network takes.
const NOW = Date.parse("2026-12-07T04:00:00.000Z");

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function get(url: string, requestStart: string | null): Promise<number> {
  const headers: Record<string, string> = requestStart === null ? {} : { "X-Request-Start": requestStart };
  const res = await fetch(url, { headers });
  await res.text();
  return res.status;
}

describe("in a real Express app over HTTP", () => {
  it("reads X-Request-Start and logs the summary line", async () => {
    const lines: string[] = [];
    const qt = queueTime({ now: () => NOW, write: (l) => lines.push(l), timer: false });
    const app = express();
    app.use(qt.express);
    app.get("/", (_req, res) => {
      res.send("ok");
    });
    const server = app.listen(0, "127.0.0.1");
    await new Promise<void>((done) => server.once("listening", done));
    closers.push(() => new Promise((done) => server.close(done)));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

    for (const wait of [10, 20, 30, 40]) expect(await get(url, String(NOW - wait))).toBe(200);
    expect(await get(url, `t=${(NOW - 50) * 1000}`)).toBe(200); // microseconds, nginx style
    expect(await get(url, String(NOW - 120_000))).toBe(200); // over 60 s: dropped
    expect(await get(url, null)).toBe(200); // no header: not counted

    expect(qt.flush()).toBe("dynosaur:queue_time n=5 p50=30 p95=50 max=50");
    expect(lines).toEqual(["dynosaur:queue_time n=5 p50=30 p95=50 max=50"]);
  });
});

describe("in a real Fastify app over HTTP", () => {
  it("reads X-Request-Start in an onRequest hook and logs the summary line", async () => {
    const lines: string[] = [];
    const qt = queueTime({ now: () => NOW, write: (l) => lines.push(l), timer: false });
    const app = Fastify();
    app.addHook("onRequest", qt.fastify);
    app.get("/", async () => "ok");
    await app.listen({ port: 0, host: "127.0.0.1" });
    closers.push(() => app.close());
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/`;

    expect(await get(url, String(NOW - 250))).toBe(200);
    expect(await get(url, `${(NOW - 400) / 1000}`)).toBe(200); // seconds with a fraction
    expect(await get(url, String(NOW + 1000))).toBe(200); // in the future: dropped

    expect(qt.flush()).toBe("dynosaur:queue_time n=2 p50=250 p95=400 max=400");
    expect(qt.flush()).toBe("dynosaur:queue_time n=0 p50=0 p95=0 max=0");
    expect(lines).toHaveLength(2);
  });
});
