import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { definePlugin, inputError, type PluginContext, type PluginInstance } from "@dynosaur/core";
import {
  checkPlugin,
  type PluginCheckId,
  type PluginTestOptions,
  pluginChecks,
  runPluginCheck,
  type TestRunner,
  testPlugin,
} from "@dynosaur/core/testing";
import { describe, expect, it } from "vitest";
import { z } from "zod";

/** A plugin that does everything right, without a network. */
const good = definePlugin({
  type: "fixed",
  aliases: ["FixedPlugin"],
  unit: "things",
  options: z.object({
    value: z.number().min(0).default(10),
    per_dyno: z.number().positive().default(5),
    label: z.string().optional(),
  }),
  create(options) {
    // What a schema cannot say, create() checks, like a real plugin parsing a key.
    if (options.label?.includes(" "))
      throw inputError("DYNO_CONFIG_INVALID", "label must be one word", { path: "label" });
    let closed = false;
    return {
      async retrieve(signal) {
        signal.throwIfAborted();
        if (closed) throw new Error("closed");
        return options.value;
      },
      estimateDynos: (value) => Math.max(0, Math.ceil(value / options.per_dyno)),
      close() {
        closed = true;
      },
    };
  },
});

const kit: PluginTestOptions = {
  validOptions: { value: 12, per_dyno: 4 },
  invalidOptions: [
    { options: { per_dyno: 0 }, path: "per_dyno" },
    { options: { value: "many" }, path: "value" },
    { options: { per_dyno: undefined, value: undefined, valu: 3 }, path: "" },
    { options: { label: "two words" }, path: "label" },
  ],
  // Only the hanging plugins below ever wait for these.
  timeoutMs: 300,
  abortTimeoutMs: 150,
};

/** `good`, with parts of its instance replaced. */
function breakInstance(replace: (ctx: PluginContext) => Partial<PluginInstance>) {
  return definePlugin({
    ...good,
    async create(options, ctx) {
      return { ...(await good.create(options, ctx)), ...replace(ctx) };
    },
  });
}

const allIds = pluginChecks.map((c) => c.id);
const instanceIds: PluginCheckId[] = [
  "valid-options",
  "retrieve",
  "retrieve-abort",
  "estimate-whole",
  "estimate-monotone",
  "close-twice",
];
// A plugin that cannot make a working instance cannot reject the bad label in create() either.
const unusable: PluginCheckId[] = [...instanceIds, "invalid-options"];

async function failures(plugin: unknown, options: PluginTestOptions = kit) {
  const results = await checkPlugin(plugin, options);
  return Object.fromEntries(results.filter((r) => !r.ok).map((r) => [r.id, r.message]));
}

describe("checkPlugin on a conforming plugin", () => {
  it("passes every check, in the documented order", async () => {
    const results = await checkPlugin(good, kit);
    expect(results.map((r) => r.id)).toEqual(allIds);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results.find((r) => r.id === "retrieve")?.message).toBe("read 12");
  });

  it("needs no invalid cases from a plugin without options of its own", async () => {
    const bare = definePlugin({
      ...good,
      options: z.object({}),
      create: () => ({
        async retrieve(signal) {
          signal.throwIfAborted();
          return 1;
        },
        estimateDynos: (v) => Math.ceil(v),
      }),
    });
    expect(await failures(bare, { invalidOptions: [] })).toEqual({});
  });

  it("passes a plain object that satisfies the contract, without definePlugin", async () => {
    const { apiVersion: _, ...plain } = good;
    const results = await checkPlugin(plain, kit);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results.find((r) => r.id === "api-version")?.message).toBe("no apiVersion: taken as version 2");
  });

  it("passes a v2 plugin that reports busy work and reads the estimate context", async () => {
    const seen: unknown[] = [];
    const queue = definePlugin({
      ...good,
      create: async (options, ctx) => ({
        ...(await good.create(options, ctx)),
        async retrieve(signal: AbortSignal) {
          signal.throwIfAborted();
          return { value: options.value, busy: 3 };
        },
        estimateDynos(value, context) {
          seen.push(context);
          return Math.ceil(value / options.per_dyno);
        },
      }),
    });
    const results = await checkPlugin(queue, kit);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results.find((r) => r.id === "retrieve")?.message).toBe("read 12, 3 busy");
    expect(seen[0]).toEqual({ current: 1, process: "web" });
  });
});

describe("each check fails on a plugin that breaks its rule", () => {
  // `message` is matched against the first check in `fails`.
  const cases: {
    name: string;
    plugin: unknown;
    options?: PluginTestOptions;
    fails: PluginCheckId[];
    message: RegExp;
  }[] = [
    { name: "not an object", plugin: undefined, fails: allIds, message: /default export is undefined, not an object/ },
    {
      name: "wrong shape",
      plugin: { type: "Fixed Thing", unit: "", options: { value: 1 }, create: "nope", apiVersion: 1 },
      fails: allIds.filter((id) => id !== "api-version"),
      message:
        /type is "Fixed Thing"[\s\S]*unit is ""[\s\S]*options is an object: it must be a zod object schema[\s\S]*create is "nope"/,
    },
    {
      name: "options that only look like zod (what core's loader refuses)",
      plugin: { ...good, options: { _zod: { def: { type: "object" } }, shape: {} } },
      fails: allIds.filter((id) => id !== "api-version"),
      message: /the default export is not a valid Dynosaur plugin: `options` is not a zod object schema/,
    },
    // Without an apiVersion of its own a namespace is taken as the current version; the shape check catches it.
    {
      name: "module namespace",
      plugin: { default: good },
      fails: allIds.filter((id) => id !== "api-version"),
      message: /module namespace, not a plugin: pass the module's default export/,
    },
    {
      name: "a busy count that is not a number",
      plugin: breakInstance(() => ({
        async retrieve(signal: AbortSignal) {
          signal.throwIfAborted();
          return { value: 4, busy: -1 };
        },
      })),
      fails: ["retrieve"],
      message: /retrieve resolved to \{ busy: -1 \}: busy must be a finite number >= 0/,
    },
    {
      name: "another API version",
      plugin: { ...good, apiVersion: 3 },
      fails: ["api-version"],
      message: /plugin "fixed" was built for plugin API version 3, but this @dynosaur\/core runs versions 1 and 2/,
    },
    {
      name: "a schema JSON Schema cannot represent",
      plugin: definePlugin({ ...good, options: good.options.extend({ since: z.date().optional() }) }),
      fails: ["json-schema"],
      message: /z.toJSONSchema cannot represent the option schema \(Date cannot be represented/,
    },
    {
      name: "a non-monotone estimate",
      plugin: breakInstance(() => ({ estimateDynos: (v) => (v > 100 ? 1 : Math.ceil(v / 5)) })),
      fails: ["estimate-monotone"],
      message: /estimateDynos\(100\) = 20 but estimateDynos\(101\) = 1: a larger reading must never need fewer dynos/,
    },
    {
      name: "a fractional estimate",
      plugin: breakInstance(() => ({ estimateDynos: (v) => v / 5 })),
      fails: ["estimate-whole"],
      message:
        /estimateDynos\(0.25\) = 0.05, estimateDynos\(0.5\) = 0.1, estimateDynos\(1\) = 0.2 and \d+ more: dynos must be whole numbers >= 0/,
    },
    {
      name: "a negative estimate",
      plugin: breakInstance(() => ({ estimateDynos: (v) => Math.ceil(v / 5) - 1 })),
      fails: ["estimate-whole"],
      message: /^estimateDynos\(0\) = -1: dynos must be whole numbers >= 0/,
    },
    {
      name: "an estimate that throws",
      plugin: breakInstance(() => ({
        estimateDynos: (v) => {
          if (v > 1000) throw new Error("too big");
          return Math.ceil(v);
        },
      })),
      fails: ["estimate-whole", "estimate-monotone"],
      message: /estimateDynos\(1001\) threw: too big/,
    },
    {
      name: "a retrieve that hangs, whatever its signal says",
      plugin: breakInstance(() => ({ retrieve: () => new Promise<number>(() => {}) })),
      fails: ["retrieve-abort", "retrieve"],
      message: /given an already-aborted signal, retrieve did not settle within 150 ms/,
    },
    {
      name: "a retrieve that ignores an already-aborted signal",
      plugin: breakInstance(() => ({ retrieve: async () => 7 })),
      fails: ["retrieve-abort"],
      message: /given an already-aborted signal, retrieve resolved to 7 instead of rejecting/,
    },
    {
      name: "a retrieve that keeps going after an abort mid-flight",
      plugin: breakInstance(() => ({
        async retrieve(signal) {
          signal.throwIfAborted();
          // A few turns of the event loop: still busy when the kit aborts after one.
          for (let i = 0; i < 3; i++) await new Promise((done) => setImmediate(done));
          return 7;
        },
      })),
      fails: ["retrieve-abort"],
      message: /retrieve resolved to 7 after its signal aborted; it must reject once aborted/,
    },
    {
      name: "a retrieve whose backoff sleep forgets the signal",
      plugin: breakInstance((ctx) => ({
        async retrieve(signal) {
          signal.throwIfAborted();
          await ctx.clock.sleep(60_000);
          return 7;
        },
      })),
      fails: ["retrieve-abort", "retrieve"],
      message: /retrieve did not settle within 150 ms of its signal aborting mid-flight/,
    },
    {
      name: "a retrieve that reads NaN",
      plugin: breakInstance(() => ({
        async retrieve(signal) {
          signal.throwIfAborted();
          return Number.NaN;
        },
      })),
      fails: ["retrieve"],
      message: /retrieve resolved to NaN, not a finite number/,
    },
    {
      name: "a close that throws the second time",
      plugin: breakInstance(() => {
        let open = true;
        return {
          close() {
            if (!open) throw new Error("already closed");
            open = false;
          },
        };
      }),
      fails: ["close-twice"],
      message: /the second close\(\) threw: already closed. Core may close an instance more than once/,
    },
    {
      name: "a close that never settles",
      plugin: breakInstance(() => ({ close: () => new Promise<void>(() => {}) })),
      // Every check waits this long for the hanging close() while it cleans up.
      options: { ...kit, timeoutMs: 100 },
      fails: ["close-twice"],
      message: /the first close\(\) did not settle within 100 ms/,
    },
    {
      name: "a create that throws on valid options",
      plugin: definePlugin({
        ...good,
        create() {
          throw new Error("boom");
        },
      }),
      fails: unusable,
      message: /create\(\) threw on the valid options: boom/,
    },
    {
      name: "an instance without estimateDynos",
      plugin: definePlugin({ ...good, create: () => ({ retrieve: async () => 1 }) as unknown as PluginInstance }),
      fails: unusable,
      message: /create\(\) returned an unusable instance: estimateDynos\(value\) is missing/,
    },
    {
      name: "valid options the plugin rejects",
      plugin: good,
      options: { ...kit, validOptions: { value: -1 } },
      fails: unusable,
      message: /the valid options were rejected: plugins\[0\].value: Too small/,
    },
    {
      name: "invalid options the plugin accepts",
      plugin: good,
      options: { ...kit, invalidOptions: [{ options: { value: 1e9 }, path: "value" }] },
      fails: ["invalid-options"],
      message: /^\{ value: 1000000000 \} was accepted; expected an error at plugins\[0\]\.value$/,
    },
    {
      name: "an error at another path",
      plugin: good,
      options: { ...kit, invalidOptions: [{ options: { per_dyno: 0 }, path: "value" }] },
      fails: ["invalid-options"],
      message:
        /^\{ per_dyno: 0 \} was rejected at plugins\[0\]\.per_dyno, not at plugins\[0\]\.value: plugins\[0\]\.per_dyno: Too small/,
    },
    {
      name: "create rejecting bad options with a plain Error",
      plugin: definePlugin({
        ...good,
        create(options, ctx) {
          if (options.label?.includes(" ")) throw new Error("label must be one word");
          return good.create(options, ctx);
        },
      }),
      fails: ["invalid-options"],
      message:
        /\{ label: "two words" \} was rejected with "label must be one word", which is not a config error: throw inputError\("DYNO_CONFIG_INVALID", message, \{ path: "label" \}\)/,
    },
    {
      name: "no invalid cases for a plugin with options",
      plugin: good,
      options: { ...kit, invalidOptions: [] },
      fails: ["invalid-options"],
      message: /no invalidOptions given/,
    },
    {
      name: "a setup that fails",
      plugin: good,
      options: {
        ...kit,
        setup: () => {
          throw new Error("port in use");
        },
      },
      fails: unusable,
      message: /^setup\(\) failed: port in use$/,
    },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const failed = await failures(c.plugin, c.options);
      expect(Object.keys(failed).sort()).toEqual([...c.fails].sort());
      expect(failed[c.fails[0] ?? ""]).toMatch(c.message);
    });
  }
});

describe("runPluginCheck", () => {
  it("runs one check by id", async () => {
    const result = await runPluginCheck(
      "estimate-whole",
      breakInstance(() => ({ estimateDynos: (v) => -v })),
      kit,
    );
    expect(result).toMatchObject({
      id: "estimate-whole",
      title: "estimateDynos returns whole numbers >= 0",
      ok: false,
    });
  });

  it("feeds estimateDynos the given sample values, sorted", async () => {
    const seen: number[] = [];
    const plugin = breakInstance(() => ({
      estimateDynos(v) {
        seen.push(v);
        return Math.ceil(v);
      },
    }));
    expect((await runPluginCheck("estimate-monotone", plugin, { ...kit, sampleValues: [30, 1, 7, 1] })).ok).toBe(true);
    expect(seen).toEqual([1, 7, 30]);
  });
});

describe("a plugin that reads from a loopback JSON endpoint through ctx.http", () => {
  /** Speaks a tiny JSON API: GET /reading only, and only with `accept: application/json`. */
  async function startServer(): Promise<{ server: Server; url: string; requests: number }> {
    const state = { requests: 0 };
    const server = createServer((req, res) => {
      state.requests++;
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      if (req.url !== "/reading") return json(404, { error: "not found" });
      if (req.method !== "GET") return json(405, { error: "method not allowed" });
      if (req.headers.accept !== "application/json") return json(406, { error: "send accept: application/json" });
      json(200, { value: 42 });
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    const { port } = server.address() as AddressInfo;
    return Object.assign(state, { server, url: `http://127.0.0.1:${port}/reading` });
  }

  function httpPlugin(passSignal: boolean) {
    return definePlugin({
      type: "loopback",
      unit: "things",
      options: z.object({ url: z.url(), per_dyno: z.number().positive() }),
      create(options, ctx) {
        const url = new URL(options.url);
        return {
          async retrieve(signal) {
            const res = await ctx.http.request({
              origin: url.origin,
              path: url.pathname,
              method: "GET",
              headers: { accept: "application/json" },
              signal: passSignal ? signal : undefined,
            });
            const body = (await res.body.json()) as { value: number };
            if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
            return body.value;
          },
          estimateDynos: (value) => Math.ceil(value / options.per_dyno),
        };
      },
    });
  }

  function fixtureKit() {
    const log = { setups: 0, closes: 0, requests: 0 };
    const options: PluginTestOptions = {
      validOptions: { url: "http://127.0.0.1:1/reading", per_dyno: 10 },
      invalidOptions: [
        { options: { url: "not a url" }, path: "url" },
        { options: { per_dyno: undefined }, path: "per_dyno" },
      ],
      async setup() {
        log.setups++;
        const fake = await startServer();
        return {
          options: { url: fake.url },
          close: async () => {
            log.closes++;
            log.requests += fake.requests;
            fake.server.closeAllConnections();
            await new Promise((done) => fake.server.close(done));
          },
        };
      },
      timeoutMs: 2000,
      abortTimeoutMs: 500,
    };
    return { log, options };
  }

  it("passes with a fresh fake per check, each torn down", async () => {
    const { log, options } = fixtureKit();
    const results = await checkPlugin(httpPlugin(true), options);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results.find((r) => r.id === "retrieve")?.message).toBe("read 42");
    expect(log.setups).toBeGreaterThan(0);
    expect(log.closes).toBe(log.setups);
    expect(log.requests).toBeGreaterThan(0);
  });

  it("fails the abort check when the request does not carry the signal", async () => {
    const { options } = fixtureKit();
    const failed = await failures(httpPlugin(false), options);
    expect(Object.keys(failed)).toEqual(["retrieve-abort"]);
    expect(failed["retrieve-abort"]).toMatch(
      /given an already-aborted signal, retrieve resolved to 42 instead of rejecting/,
    );
  });

  it("fails the retrieve check, not silently, when the options miss the fake", async () => {
    const { options } = fixtureKit();
    const failed = await failures(httpPlugin(true), { ...options, setup: undefined });
    expect(Object.keys(failed)).toEqual(["retrieve"]);
    expect(failed.retrieve).toMatch(/^retrieve rejected: .*ECONNREFUSED/);
  });
});

describe("testPlugin", () => {
  function recordingRunner() {
    const tests: { suite: string; name: string; body: () => Promise<void> }[] = [];
    let suite = "";
    const runner: TestRunner = {
      describe(name, body) {
        suite = name;
        body();
      },
      it(name, body) {
        tests.push({ suite, name, body });
      },
    };
    return { runner, tests };
  }

  it("registers one test per check under a describe named for the plugin", () => {
    const { runner, tests } = recordingRunner();
    testPlugin(good, kit, runner);
    expect(tests.map((t) => t.name)).toEqual(pluginChecks.map((c) => c.title));
    expect(new Set(tests.map((t) => t.suite))).toEqual(new Set(["plugin conformance: fixed"]));
  });

  it("makes a check's test fail with the check's message", async () => {
    const { runner, tests } = recordingRunner();
    testPlugin(
      breakInstance(() => ({ estimateDynos: (v) => v / 5 })),
      kit,
      runner,
    );
    for (const t of tests) {
      if (t.name === "estimateDynos returns whole numbers >= 0")
        await expect(t.body()).rejects.toThrow(
          /^estimateDynos returns whole numbers >= 0: estimateDynos\(0.25\) = 0.05/,
        );
      else await expect(t.body()).resolves.toBeUndefined();
    }
  });

  // The kit wired into vitest itself, as a plugin package's test file does it.
  testPlugin(good, kit, { describe, it });
});
