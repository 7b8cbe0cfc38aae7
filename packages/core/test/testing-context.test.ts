import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { DynosaurError, definePlugin, ManualClock } from "@dynosaur/core";
import { createTestContext, createTestInstance } from "@dynosaur/core/testing";
import { Agent } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe("createTestContext", () => {
  it("builds a context with a memory logger naming the source, a ManualClock and a live signal", () => {
    const ctx = createTestContext();
    cleanups.push(() => ctx.close());
    expect(ctx.name).toBe("test");
    expect(ctx.clock).toBeInstanceOf(ManualClock);
    expect(ctx.clock.now()).toBe(Date.UTC(2026, 0, 1));
    expect(ctx.signal.aborted).toBe(false);
    ctx.clock.advance(1500);
    ctx.logger.child({ attempt: 2 }).warn("slow answer");
    expect(ctx.logger.records).toEqual([
      { level: "warn", message: "slow answer", fields: { source: "test", attempt: 2 }, time: expect.any(Number) },
    ]);
    expect(ctx.logger.text()).toBe('warn slow answer {"source":"test","attempt":2}');
  });

  it("keeps records from the level asked for", () => {
    const ctx = createTestContext({ name: "ga", logLevel: "warn" });
    cleanups.push(() => ctx.close());
    ctx.logger.info("dropped");
    ctx.logger.error("kept");
    expect(ctx.logger.records.map((r) => [r.message, r.fields])).toEqual([["kept", { source: "ga" }]]);
  });

  it("sends ctx.http requests through a real Agent to a loopback server, then destroys it on close", async () => {
    const server = createServer((req, res) => res.end(`${req.method} ${req.url}`));
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    cleanups.push(async () => {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    });
    const ctx = createTestContext();
    const res = await ctx.http.request({
      origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      path: "/ping",
      method: "GET",
    });
    expect(await res.body.text()).toBe("GET /ping");
    expect(ctx.http).toBeInstanceOf(Agent);
    await ctx.close();
    expect(ctx.signal.aborted).toBe(true);
    expect((ctx.http as Agent).destroyed).toBe(true);
    await expect(ctx.close()).resolves.toBeUndefined();
  });

  it("uses the given dispatcher and clock, and leaves the dispatcher open", async () => {
    const http = new Agent();
    cleanups.push(() => http.destroy());
    const clock = new ManualClock(0);
    const ctx = createTestContext({ http, clock, name: "nr" });
    expect(ctx.http).toBe(http);
    expect(ctx.clock).toBe(clock);
    await ctx.close();
    expect(http.destroyed).toBe(false);
    expect(http.closed).toBe(false);
  });

  it("lets a test abort the signal itself, as core does when it closes the instance", () => {
    const ctx = createTestContext();
    cleanups.push(() => ctx.close());
    ctx.controller.abort();
    expect(ctx.signal.aborted).toBe(true);
  });
});

describe("createTestInstance", () => {
  const events: string[] = [];
  const plugin = definePlugin({
    type: "counter",
    unit: "things",
    options: z.object({ start: z.number().int().min(0).default(3) }),
    create(options, ctx) {
      ctx.signal.addEventListener("abort", () => events.push("ctx aborted"));
      if (options.start === 13) throw new Error("unlucky");
      let n = options.start;
      return {
        retrieve: async () => n++,
        estimateDynos: (value) => value,
        close: () => {
          events.push("closed");
        },
      };
    },
  });

  afterEach(() => {
    events.length = 0;
  });

  it("validates as core does (type filled in, defaults and common options added) and creates an instance", async () => {
    const t = await createTestInstance(plugin, {});
    cleanups.push(() => t.close());
    expect(t.options).toEqual({
      type: "counter",
      name: "counter",
      start: 3,
      interval: 60,
      hysteresis_period: 0,
      outage_after: 300,
      timeout: 10,
    });
    expect(t.ctx.name).toBe("counter");
    expect(await t.instance.retrieve(t.ctx.signal)).toBe(3);
    expect(await t.instance.retrieve(t.ctx.signal)).toBe(4);
  });

  it("names the source after the entry's name", async () => {
    const t = await createTestInstance(plugin, { name: "jobs", start: 0 });
    cleanups.push(() => t.close());
    expect(t.ctx.name).toBe("jobs");
    t.ctx.logger.info("hello");
    expect(t.ctx.logger.records[0]?.fields).toEqual({ source: "jobs" });
  });

  it("throws core's config error, naming the path, for bad options", async () => {
    const error = await createTestInstance(plugin, { start: -1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DynosaurError);
    expect(error).toMatchObject({ code: "DYNO_CONFIG_INVALID", path: "plugins[0].start", exitCode: 2 });
  });

  it("closes the instance, then aborts the context, once", async () => {
    const t = await createTestInstance(plugin);
    await t.close();
    await t.close();
    expect(events).toEqual(["closed", "ctx aborted"]);
    expect((t.ctx.http as Agent).destroyed).toBe(true);
  });

  it("aborts the context when create throws", async () => {
    const http = new Agent();
    cleanups.push(() => http.destroy());
    await expect(createTestInstance(plugin, { start: 13 }, { http })).rejects.toThrow("unlucky");
    expect(events).toEqual(["ctx aborted"]);
  });
});
