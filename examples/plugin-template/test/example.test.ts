import { DynosaurError, PluginError, z } from "@dynosaur/core";
import { createTestInstance, testPlugin } from "@dynosaur/core/testing";
import { afterEach, describe, expect, it } from "vitest";
import plugin from "../src/index.js";
import { parseJsonPointer, resolveJsonPointer } from "../src/json-pointer.js";
import { type FakeStats, startFakeStats } from "./fake-stats.js";

const TOKEN = "s3cret-token-value";

// The conformance kit: a fresh fake for each check, stopped after it.
testPlugin(
  plugin,
  {
    validOptions: { json_pointer: "/data/active_users", per_dyno: 50, token: TOKEN },
    invalidOptions: [
      { options: { url: undefined }, path: "url" },
      { options: { url: "ftp://example.com/stats" }, path: "url" },
      { options: { url: "https://user:pw@example.com/stats" }, path: "url" },
      { options: { per_dyno: 0 }, path: "per_dyno" },
      { options: { json_pointer: "data/active_users" }, path: "json_pointer" },
      { options: { json_pointer: "/a~2b" }, path: "json_pointer" },
      { options: { per_dyno: 50, users_per_dyno: 50 }, path: "" },
    ],
    async setup() {
      const fake = await startFakeStats({ token: TOKEN });
      return { options: { url: fake.url }, close: () => fake.close() };
    },
  },
  { describe, it },
);

describe("the options", () => {
  it("each have a description, which `dynosaur schema` shows in editors", () => {
    const schema = z.toJSONSchema(plugin.options, { io: "input" }) as {
      properties: Record<string, { description?: string }>;
    };
    expect(Object.keys(schema.properties)).toEqual(["url", "json_pointer", "per_dyno", "token"]);
    expect(Object.entries(schema.properties).filter(([, option]) => !option.description)).toEqual([]);
  });
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function fake(options: Parameters<typeof startFakeStats>[0] = { token: TOKEN }): Promise<FakeStats> {
  const f = await startFakeStats(options);
  cleanups.push(() => f.close());
  return f;
}

async function source(options: Record<string, unknown>) {
  const t = await createTestInstance(plugin, { per_dyno: 50, ...options });
  cleanups.push(() => t.close());
  return { read: () => t.instance.retrieve(t.ctx.signal), ...t };
}

async function failure(promise: Promise<unknown>): Promise<PluginError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PluginError);
  return error as PluginError;
}

describe("the example plugin", () => {
  it("GETs the url with its query, accepting JSON and carrying the bearer token", async () => {
    const f = await fake();
    const { read } = await source({ url: `${f.url}?window=5m`, json_pointer: "/data/active_users", token: TOKEN });
    expect(await read()).toBe(312);
    expect(f.requests).toHaveLength(1);
    expect(f.requests[0]).toMatchObject({ method: "GET", url: "/stats?window=5m" });
    expect(f.requests[0]?.headers).toMatchObject({ accept: "application/json", authorization: `Bearer ${TOKEN}` });
  });

  it("follows json_pointer into arrays and escaped keys, and reads a bare number with the default pointer", async () => {
    const f = await fake({});
    f.answer(200, { "a/b": { "c~d": [4, 5.5] } });
    expect(await (await source({ url: f.url, json_pointer: "/a~1b/c~0d/1" })).read()).toBe(5.5);
    f.answer(200, "42");
    expect(await (await source({ url: f.url })).read()).toBe(42);
  });

  it("sends no Authorization header without a token", async () => {
    const f = await fake({});
    await (await source({ url: f.url, json_pointer: "/queues/0/depth" })).read();
    expect(f.requests[0]?.headers.authorization).toBeUndefined();
  });

  it("asks for ceil(value / per_dyno) dynos, never fewer than 0", async () => {
    const { instance } = await source({ url: "http://127.0.0.1:1/stats" });
    expect([-20, 0, 1, 50, 51, 312].map((v) => instance.estimateDynos(v))).toEqual([0, 0, 1, 1, 2, 7]);
  });

  it("turns a refused token into a PluginError that names neither the token nor the query", async () => {
    const f = await fake();
    const s = await source({
      url: `${f.url}?api_key=query-secret`,
      json_pointer: "/data/active_users",
      token: "wrong-token",
    });
    const error = await failure(s.read());
    expect(error.message).toBe(`GET ${f.url} answered 401`);
    expect(error.hint).toMatch(/refused the `token`/);
    const everything = `${error.message} ${error.hint} ${s.ctx.logger.text()}`;
    expect(everything).not.toContain("wrong-token");
    expect(everything).not.toContain("query-secret");
  });

  it("keeps its reading logs free of secrets too", async () => {
    const f = await fake();
    const s = await source({ url: `${f.url}?api_key=query-secret`, json_pointer: "/data/active_users", token: TOKEN });
    await s.read();
    expect(s.ctx.logger.records.map((r) => [r.message, r.fields])).toEqual([
      ["read", { source: "example", endpoint: f.url, value: 312 }],
    ]);
    expect(s.ctx.logger.text()).not.toContain(TOKEN);
    expect(s.ctx.logger.text()).not.toContain("query-secret");
  });

  it("reports a failing endpoint with its status", async () => {
    const f = await fake({});
    f.answer(503, { error: "maintenance" });
    const error = await failure((await source({ url: f.url })).read());
    expect(error.message).toBe(`GET ${f.url} answered 503`);
    // Core prefixes "reading failed, keeping the last good reading": the hint only names the fix.
    expect(error.hint).toBe("a failure on the endpoint's side: if it lasts, check that service's status");
    expect(error.hint).not.toMatch(/last good reading/);
  });

  it("asks for a longer interval when the endpoint limits requests", async () => {
    const f = await fake({});
    f.answer(429, { error: "slow down" });
    const error = await failure((await source({ url: f.url })).read());
    expect(error.message).toBe(`GET ${f.url} answered 429`);
    expect(error.hint).toBe("the endpoint limits how often it is read: raise `interval`");
  });

  it("reports an answer that is not JSON", async () => {
    const f = await fake({});
    f.answer(200, "<html>login</html>", "text/html");
    expect((await failure((await source({ url: f.url })).read())).message).toBe(`GET ${f.url} did not answer JSON`);
  });

  it("names the first missing key of json_pointer", async () => {
    const f = await fake({});
    const error = await failure((await source({ url: f.url, json_pointer: "/data/nope/deeper" })).read());
    expect(error.message).toBe(`the answer of ${f.url} has nothing at "/data/nope"`);
  });

  it("refuses a value that is not a number", async () => {
    const f = await fake({});
    f.answer(200, { data: { active_users: "312" } });
    const error = await failure((await source({ url: f.url, json_pointer: "/data/active_users" })).read());
    expect(error.message).toBe(`the answer of ${f.url} has "312" at json_pointer "/data/active_users", not a number`);
  });

  it("reports an endpoint it cannot reach", async () => {
    const f = await fake({});
    const url = f.url;
    await f.close();
    const error = await failure((await source({ url })).read());
    expect(error.message).toMatch(new RegExp(`^could not reach ${url}: .*ECONNREFUSED`));
  });

  it("stops waiting as soon as its signal aborts", async () => {
    const f = await fake({});
    const received = f.hang();
    const { instance } = await source({ url: f.url });
    const controller = new AbortController();
    const reading = instance.retrieve(controller.signal);
    await received;
    controller.abort();
    await expect(reading).rejects.toMatchObject({ name: "AbortError" });
  });

  it("rejects a malformed json_pointer at start-up, naming the option", async () => {
    const error = await createTestInstance(plugin, {
      url: "https://example.com/stats",
      per_dyno: 1,
      json_pointer: "/a~",
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DynosaurError);
    expect(error).toMatchObject({ code: "DYNO_CONFIG_INVALID", path: "json_pointer", exitCode: 2 });
    expect((error as DynosaurError).message).toBe(
      '"/a~" is not a JSON Pointer: "~" must be followed by 0 or 1 (in "a~")',
    );
  });
});

describe("JSON Pointer", () => {
  it("parses RFC 6901 pointers, unescaping ~1 before ~0", () => {
    expect(parseJsonPointer("")).toEqual([]);
    expect(parseJsonPointer("/")).toEqual([""]);
    expect(parseJsonPointer("/a~1b/m~0n/~01")).toEqual(["a/b", "m~n", "~1"]);
    expect(() => parseJsonPointer("a")).toThrow('it must be empty or start with "/"');
  });

  it("resolves through objects and arrays, and only real array indexes", () => {
    const doc = { list: [10, 20], "": { x: 1 } };
    expect(resolveJsonPointer(doc, ["list", "1"])).toEqual({ found: true, value: 20 });
    expect(resolveJsonPointer(doc, ["", "x"])).toEqual({ found: true, value: 1 });
    expect(resolveJsonPointer(doc, ["list", "01"])).toEqual({ found: false, missing: "/list/01" });
    expect(resolveJsonPointer(doc, ["list", "2"])).toEqual({ found: false, missing: "/list/2" });
    expect(resolveJsonPointer(doc, ["list", "length"])).toEqual({ found: false, missing: "/list/length" });
    expect(resolveJsonPointer(doc, ["toString"])).toEqual({ found: false, missing: "/toString" });
    expect(resolveJsonPointer(doc, ["a/b"])).toEqual({ found: false, missing: "/a~1b" });
  });
});
