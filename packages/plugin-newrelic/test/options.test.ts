import { DynosaurError } from "@dynosaur/core";
import { MockAgent } from "undici";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import plugin, { NRQL_DOCUMENT, REGION_ENDPOINTS } from "../src/index.js";
import { ACCOUNT_ID, createInstance, expectFailure, never, USER_KEY } from "./helpers.js";

const base = { api_key: USER_KEY, account_id: ACCOUNT_ID, rpm_per_dyno: 500 };

async function inputErrorOf(raw: Record<string, unknown>): Promise<DynosaurError> {
  const e = await createInstance(raw).then(
    () => expect.fail("expected an input error"),
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(DynosaurError);
  expect((e as DynosaurError).exitCode).toBe(2);
  expect((e as DynosaurError).format()).not.toContain(USER_KEY);
  return e as DynosaurError;
}

const answer = (rpm: number) => ({ data: { actor: { account: { nrql: { results: [{ rpm }] } } } } });

/** A dispatcher that only answers `origin`: proves which URL the plugin picked, without network. */
function onlyOrigin(origin: string, rpm: number): MockAgent {
  const agent = new MockAgent();
  agent.disableNetConnect();
  agent
    .get(origin)
    .intercept({
      path: "/graphql",
      method: "POST",
      headers: { "api-key": USER_KEY, "content-type": "application/json" },
      body: (b) => {
        const body = JSON.parse(b) as { query: string; variables: { accountId: unknown } };
        return body.query === NRQL_DOCUMENT && body.variables.accountId === ACCOUNT_ID;
      },
    })
    .reply(200, answer(rpm), { headers: { "content-type": "application/json" } });
  return agent;
}

describe("region and endpoint", () => {
  it("defaults to the US endpoint", async () => {
    const agent = onlyOrigin("https://api.newrelic.com", 10);
    const { instance } = await createInstance({ ...base, app_name: "shop" }, agent);
    expect(await instance.retrieve(never())).toBe(10);
    agent.assertNoPendingInterceptors();
  });

  it("region: eu uses the EU endpoint", async () => {
    const agent = onlyOrigin("https://api.eu.newrelic.com", 20);
    const { instance } = await createInstance({ ...base, region: "eu", app_name: "shop" }, agent);
    expect(await instance.retrieve(never())).toBe(20);
    agent.assertNoPendingInterceptors();
  });

  it("endpoint overrides the region", async () => {
    const agent = onlyOrigin("https://nerdgraph-proxy.example", 30);
    const { instance } = await createInstance(
      { ...base, region: "eu", endpoint: "https://nerdgraph-proxy.example/graphql", app_name: "shop" },
      agent,
    );
    expect(await instance.retrieve(never())).toBe(30);
  });

  it("publishes the real endpoints", () => {
    expect(REGION_ENDPOINTS).toEqual({
      us: "https://api.newrelic.com/graphql",
      eu: "https://api.eu.newrelic.com/graphql",
    });
  });

  it("HTTP 401 and 429 are explained", async () => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    const pool = agent.get("https://api.newrelic.com");
    pool.intercept({ path: "/graphql", method: "POST" }).reply(401, {
      errors: [{ extensions: { error_code: "BAD_API_KEY" }, message: "Bad API Key or no API Key provided" }],
    });
    pool.intercept({ path: "/graphql", method: "POST" }).reply(429, { errors: [{ message: "Too Many Requests" }] });
    const { instance } = await createInstance({ ...base, app_name: "shop" }, agent);
    const bad = await expectFailure(instance.retrieve(never()), /rejected the API key/);
    expect(bad.hint).toMatch(/NRAK-/);
    await expectFailure(instance.retrieve(never()), /rate-limited/);
  });

  it("a body that is not JSON (a proxy's error page) is a clear failure", async () => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    agent
      .get("https://api.newrelic.com")
      .intercept({ path: "/graphql", method: "POST" })
      .reply(200, "<html>hello</html>");
    const { instance } = await createInstance({ ...base, app_name: "shop" }, agent);
    await expectFailure(instance.retrieve(never()), /not JSON/);
  });
});

describe("what to read: app_name, app_id or nrql", () => {
  it("requires exactly one of them, naming all three", async () => {
    expect((await inputErrorOf(base)).message).toMatch(/one of app_name, app_id or nrql is required/);
    const two = await inputErrorOf({ ...base, app_name: "shop", nrql: "SELECT 1" });
    expect(two.message).toMatch(/app_name and nrql are all set/);
    expect(two.path).toBe("nrql");
    expect((await inputErrorOf({ ...base, app_name: "shop", app_id: 1, nrql: "x" })).message).toMatch(
      /app_name and app_id and nrql/,
    );
  });

  it("rejects ids that cannot be NerdGraph Ints", async () => {
    expect((await inputErrorOf({ ...base, account_id: String(2 ** 31), app_name: "s" })).message).toMatch(
      /account_id: expected a positive whole number/,
    );
    expect(() => plugin.options.parse({ ...base, account_id: "12a", app_name: "s" })).toThrow();
    expect(() => plugin.options.parse({ ...base, app_id: -1 })).toThrow();
  });

  it("rpm_per_dyno is required and must be > 0; window_minutes defaults to 5", () => {
    expect(() => plugin.options.parse({ api_key: USER_KEY, account_id: 1, app_name: "s" })).toThrow();
    expect(() => plugin.options.parse({ ...base, rpm_per_dyno: 0, app_name: "s" })).toThrow();
    const parsed = plugin.options.parse({ ...base, app_name: "s" });
    expect(parsed.window_minutes).toBe(5);
    expect(parsed.region).toBe("us");
  });
});

describe("seed-era option names", () => {
  it("key and appid stand for api_key and app_id", async () => {
    const agent = onlyOrigin("https://api.newrelic.com", 1500);
    const { instance } = await createInstance(
      { key: USER_KEY, appid: 42, account_id: ACCOUNT_ID, rpm_per_dyno: 500 },
      agent,
    );
    expect(await instance.retrieve(never())).toBe(1500);
    expect(instance.estimateDynos(1500)).toBe(3);
  });

  it("giving both the old and the new name is an error", async () => {
    const keys = await inputErrorOf({ ...base, key: USER_KEY, app_name: "s" });
    expect(keys.message).toMatch(/key is the seed-era name of api_key/);
    expect(keys.format()).not.toContain(USER_KEY);
    const ids = await inputErrorOf({ ...base, app_id: 1, appid: 1 });
    expect(ids.message).toMatch(/appid is the seed-era name of app_id/);
  });

  it("no key at all names api_key", async () => {
    const { api_key: _, ...rest } = base;
    const e = await inputErrorOf({ ...rest, app_name: "s" });
    expect(e.message).toMatch(/api_key: required/);
    expect(e.hint).toMatch(/NRAK-/);
  });
});

describe("the definition", () => {
  it("has the documented type, alias and unit, and a JSON schema core can print", () => {
    expect(plugin.type).toBe("newrelic");
    expect(plugin.aliases).toEqual(["NewRelicPlugin"]);
    expect(plugin.unit).toBe("requests/min");
    const schema = z.toJSONSchema(plugin.options, { io: "input" }) as {
      properties: Record<string, unknown>;
      required: string[];
    };
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining([
        "api_key",
        "key",
        "account_id",
        "region",
        "endpoint",
        "app_name",
        "app_id",
        "appid",
        "nrql",
        "window_minutes",
        "rpm_per_dyno",
      ]),
    );
    expect(schema.required.sort()).toEqual(["account_id", "rpm_per_dyno"]);
  });
});
