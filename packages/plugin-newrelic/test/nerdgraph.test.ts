import { type NerdGraphFake, startNerdGraphFake } from "@dynosaur/fakes/newrelic";
import { afterEach, assert, beforeEach, describe, expect, it } from "vitest";
import { NRQL_DOCUMENT, throughputQuery } from "../src/index.js";
import { ACCOUNT_ID, createInstance, expectFailure, expectNoSecret, never, USER_KEY } from "./helpers.js";

let fake: NerdGraphFake;

beforeEach(async () => {
  fake = await startNerdGraphFake({
    apiKey: USER_KEY,
    accountId: ACCOUNT_ID,
    apps: [
      { name: "shop-web", id: 42, rpm: 1234.5 },
      { name: "O'Reilly's \\ shop", id: 43, rpm: 300 },
      { name: "night-owl", id: 44, rpm: 0, transactionsLastWeek: 5000 },
    ],
    queries: {
      "SELECT count(*) AS 'rpm' FROM Transaction SINCE 5 minutes ago": [{ rpm: 0 }],
      "SELECT latest(x) FROM Nothing SINCE 5 minutes ago": [{ "latest.x": null }],
      "SELECT count(*) FROM Transaction FACET appName SINCE 5 minutes ago": [
        { facet: "a", count: 1 },
        { facet: "b", count: 2 },
      ],
      "SELECT rate(count(*), 1 minute) FROM Transaction TIMESERIES SINCE 5 minutes ago": [],
      "SELECT 1 AS 'a', 2 AS 'b' FROM Transaction SINCE 5 minutes ago": [{ a: 1, b: 2 }],
      "SELECT rate(count(*), 1 minute) FROM Transaction WHERE request.uri LIKE '/api%' SINCE 3 minutes ago": [
        { beginTimeSeconds: 1, endTimeSeconds: 2, "rate.count": 900 },
      ],
    },
  });
});
afterEach(() => fake.close());

/** The GraphQL variables of the `i`-th request the fake received. */
const sentVariables = (i = 0) => {
  const request = fake.requests[i];
  assert(request, `the fake received ${fake.requests.length} requests, not ${i + 1}`);
  return (request.body as { variables: { accountId: unknown; nrql: string } }).variables;
};

const base = () => ({ api_key: USER_KEY, account_id: ACCOUNT_ID, endpoint: fake.endpoint, rpm_per_dyno: 500 });

describe("reading web throughput", () => {
  it("reads an app's requests per minute by name and turns it into dynos", async () => {
    const { instance } = await createInstance({ ...base(), app_name: "shop-web" });
    const rpm = await instance.retrieve(never());
    expect(rpm).toBe(1234.5);
    expect(instance.estimateDynos(1234.5)).toBe(3);
    expect(instance.estimateDynos(0)).toBe(0);
    expect(instance.estimateDynos(500)).toBe(1);
    expect(instance.estimateDynos(500.01)).toBe(2);
  });

  it("sends one GraphQL POST with the User key, JSON and variables", async () => {
    const { instance } = await createInstance({ ...base(), app_name: "shop-web", window_minutes: 3 });
    await instance.retrieve(never());
    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request?.method).toBe("POST");
    expect(request?.path).toBe("/graphql");
    expect(request?.headers["api-key"]).toBe(USER_KEY);
    expect(request?.headers["content-type"]).toBe("application/json");
    expect(request?.body).toEqual({
      query: NRQL_DOCUMENT,
      variables: {
        accountId: ACCOUNT_ID,
        nrql: "SELECT rate(count(*), 1 minute) AS 'rpm' FROM Transaction WHERE transactionType = 'Web' AND appName = 'shop-web' SINCE 3 minutes ago",
      },
    });
  });

  it("accepts account_id and app_id given as strings (from environment variables)", async () => {
    const { instance } = await createInstance({ ...base(), account_id: String(ACCOUNT_ID), app_id: "42" });
    expect(await instance.retrieve(never())).toBe(1234.5);
    expect(sentVariables().accountId).toBe(ACCOUNT_ID);
    expect(sentVariables().nrql).toContain("appId = 42 SINCE 5 minutes ago");
  });

  it("escapes quotes and backslashes in app_name", async () => {
    const { instance } = await createInstance({ ...base(), app_name: "O'Reilly's \\ shop" });
    expect(await instance.retrieve(never())).toBe(300);
    expect(sentVariables().nrql).toContain("appName = 'O\\'Reilly\\'s \\\\ shop'");
  });

  it("runs a custom nrql query as given and reads its one number", async () => {
    const nrql = "SELECT rate(count(*), 1 minute) FROM Transaction WHERE request.uri LIKE '/api%' SINCE 3 minutes ago";
    const { instance } = await createInstance({ ...base(), nrql });
    expect(await instance.retrieve(never())).toBe(900);
    expect(sentVariables().nrql).toBe(nrql);
  });

  it("follows the app's traffic from poll to poll", async () => {
    const { instance } = await createInstance({ ...base(), app_name: "shop-web" });
    expect(await instance.retrieve(never())).toBe(1234.5);
    const app = fake.apps.find((a) => a.name === "shop-web");
    assert(app, "the fake knows shop-web");
    app.rpm = 2600;
    expect(await instance.retrieve(never())).toBe(2600);
  });
});

describe("zero, empty and null", () => {
  it("a custom query's numeric 0 is a real 0", async () => {
    const { instance } = await createInstance({
      ...base(),
      nrql: "SELECT count(*) AS 'rpm' FROM Transaction SINCE 5 minutes ago",
    });
    expect(await instance.retrieve(never())).toBe(0);
  });

  it("0 for an app that reported this week is a quiet app: 0", async () => {
    const { instance } = await createInstance({ ...base(), app_name: "night-owl" });
    expect(await instance.retrieve(never())).toBe(0);
    // The app is known now: later zeros need no second query.
    expect(await instance.retrieve(never())).toBe(0);
    expect(fake.requests).toHaveLength(3);
  });

  it("0 for an app New Relic has never seen is a failure naming the app, not 0", async () => {
    const { instance } = await createInstance({ ...base(), app_name: "shop-wbe" });
    const e = await expectFailure(
      instance.retrieve(never()),
      /no transactions for app_name 'shop-wbe'.*account 1234567|account 1234567.*app_name 'shop-wbe'/,
    );
    expect(e.hint).toMatch(/app_name/);
  });

  it("the same holds for an unknown app_id", async () => {
    const { instance } = await createInstance({ ...base(), app_id: 999 });
    await expectFailure(instance.retrieve(never()), /app_id 999/);
  });

  it("results: [] is a failure, not 0", async () => {
    const { instance } = await createInstance({
      ...base(),
      nrql: "SELECT rate(count(*), 1 minute) FROM Transaction TIMESERIES SINCE 5 minutes ago",
    });
    await expectFailure(instance.retrieve(never()), /no results/);
  });

  it("a row holding null is a failure, not 0", async () => {
    const { instance } = await createInstance({ ...base(), nrql: "SELECT latest(x) FROM Nothing SINCE 5 minutes ago" });
    await expectFailure(instance.retrieve(never()), /no value \(latest\.x: null\)/);
  });

  it("a query returning several rows or several values is refused", async () => {
    const facet = await createInstance({
      ...base(),
      nrql: "SELECT count(*) FROM Transaction FACET appName SINCE 5 minutes ago",
    });
    await expectFailure(facet.instance.retrieve(never()), /2 result rows/);
    const two = await createInstance({
      ...base(),
      nrql: "SELECT 1 AS 'a', 2 AS 'b' FROM Transaction SINCE 5 minutes ago",
    });
    await expectFailure(two.instance.retrieve(never()), /2 values \(a, b\)/);
  });
});

describe("NerdGraph errors (HTTP 200 with errors[])", () => {
  it("a wrong key gets NerdGraph's BAD_API_KEY answer: says a User key is needed", async () => {
    const wrongKey = "0123456789abcdef0123456789abcdef0123NRAL";
    const { instance, logger } = await createInstance({ ...base(), api_key: wrongKey, app_name: "shop-web" });
    const error = await instance.retrieve(never()).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    const e = error as Error & { hint?: string };
    expect(e.message).toMatch(/rejected the API key: Bad API Key or no API Key provided/);
    expect(e.hint).toMatch(/User key \(starts with NRAK-\).*not a license\/ingest key/);
    expect(`${e.message} ${e.hint} ${logger.text()}`).not.toContain(wrongKey);
    expect(logger.text()).toMatch(/does not look like a New Relic User key/);
  });

  it("an NRQL syntax error shows the query", async () => {
    const nrql = "SELEKT count(*) FROM Transaction";
    const { instance } = await createInstance({ ...base(), nrql });
    const e = await expectFailure(
      instance.retrieve(never()),
      /rejected the NRQL query `SELEKT count\(\*\) FROM Transaction`: NRQL Syntax Error/,
    );
    expect(e.message).toMatch(/INVALID_INPUT/);
  });

  it("an unknown or inaccessible account names the account id", async () => {
    const { instance } = await createInstance({ ...base(), account_id: 7654321, app_name: "shop-web" });
    const e = await expectFailure(instance.retrieve(never()), /account 7654321 is unknown or not accessible/);
    expect(e.hint).toMatch(/account_id/);
  });

  it("NRDB's own query timeout is a failed poll", async () => {
    fake.setMode("nrql-timeout");
    const { instance } = await createInstance({ ...base(), app_name: "shop-web" });
    await expectFailure(instance.retrieve(never()), /NRQL query timed out/);
  });
});

describe("transport failures fail one poll only", () => {
  it("HTTP 500 fails the poll; the next poll reads again", async () => {
    const { instance } = await createInstance({ ...base(), app_name: "shop-web" });
    fake.setMode("server-error");
    const e = await expectFailure(instance.retrieve(never()), /HTTP 500/);
    expect(e.hint).toMatch(/next poll retries/);
    fake.setMode("ok");
    expect(await instance.retrieve(never())).toBe(1234.5);
  });

  it("a server that never answers is abandoned when the poll's signal aborts", async () => {
    fake.setMode("hang");
    const { instance } = await createInstance({ ...base(), app_name: "shop-web" });
    const e = await expectFailure(instance.retrieve(AbortSignal.timeout(200)), /did not answer/);
    expect(e.code).toBe("DYNO_PLUGIN_TIMEOUT");
    expect(fake.requests).toHaveLength(1);
  });

  it("closing the instance (context signal) abandons a hanging poll too", async () => {
    fake.setMode("hang");
    const { instance, shutdown } = await createInstance({ ...base(), app_name: "shop-web" });
    const poll = instance.retrieve(never());
    await fake.waitForRequests(1);
    shutdown.abort();
    await expectFailure(poll, /did not answer/);
  });

  it("an endpoint nobody listens on fails with a clear message", async () => {
    const closed = fake.endpoint;
    await fake.close();
    const { instance } = await createInstance({ ...base(), endpoint: closed, app_name: "shop-web" });
    await expectFailure(instance.retrieve(never()), /could not reach New Relic at http:\/\/127\.0\.0\.1:\d+\/graphql/);
    fake = await startNerdGraphFake({ apiKey: USER_KEY, accountId: ACCOUNT_ID });
  });
});

describe("the fake rejects what NerdGraph rejects", () => {
  type Answer = { status: number; json: { errors: Array<{ message: string; extensions: Record<string, string> }> } };
  // Plain fetch on purpose: these requests probe the fake itself, not the plugin.
  const post = (headers: Record<string, string>, body: string): Promise<Answer> =>
    fetch(fake.endpoint, { method: "POST", headers, body }).then(async (r) => ({
      status: r.status,
      json: (await r.json()) as Answer["json"],
    }));
  const good = () =>
    JSON.stringify({
      query: NRQL_DOCUMENT,
      variables: { accountId: ACCOUNT_ID, nrql: throughputQuery({ name: "shop-web" }, 5) },
    });

  it("answers the plugin's own request", async () => {
    const r: unknown = await post({ "api-key": USER_KEY, "content-type": "application/json" }, good());
    expect(r).toEqual({
      status: 200,
      json: { data: { actor: { account: { nrql: { results: [{ rpm: 1234.5 }] } } } } },
    });
  });

  it("refuses a missing key, a non-JSON body type, values pasted into the document and a string accountId", async () => {
    expect((await post({ "content-type": "application/json" }, good())).json.errors[0]?.extensions.error_code).toBe(
      "BAD_API_KEY",
    );
    expect((await post({ "api-key": USER_KEY, "content-type": "text/plain" }, good())).status).toBe(415);
    const pasted = JSON.stringify({
      query: `{ actor { account(id: ${ACCOUNT_ID}) { nrql(query: "SELECT 1") { results } } } }`,
    });
    expect(
      (await post({ "api-key": USER_KEY, "content-type": "application/json" }, pasted)).json.errors[0]?.extensions
        .errorClass,
    ).toBe("INVALID_INPUT");
    const stringId = JSON.stringify({
      query: NRQL_DOCUMENT,
      variables: { accountId: String(ACCOUNT_ID), nrql: "SELECT 1" },
    });
    expect(
      (await post({ "api-key": USER_KEY, "content-type": "application/json" }, stringId)).json.errors[0]?.message,
    ).toMatch(/\$accountId of type Int!/);
  });
});

describe("secrets", () => {
  it("the key appears in no message, hint or log line, whatever fails", async () => {
    const runs: Array<[Record<string, unknown>, Parameters<NerdGraphFake["setMode"]>[0]]> = [
      [{ app_name: "shop-web" }, "server-error"],
      [{ app_name: "shop-web" }, "nrql-timeout"],
      [{ app_name: "nobody" }, "ok"],
      [{ nrql: "SELEKT" }, "ok"],
      [{ app_name: "shop-web", account_id: 1 }, "ok"],
    ];
    for (const [extra, mode] of runs) {
      fake.setMode(mode);
      const { instance, logger } = await createInstance({ ...base(), ...extra });
      const e = await instance.retrieve(never()).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(Error);
      expectNoSecret(e, logger.text());
    }
  });
});
