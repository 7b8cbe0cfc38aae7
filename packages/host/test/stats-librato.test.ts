import { ManualClock, memoryLogger, must } from "@dynosaur/core";
import { type LibratoFake, startLibratoFake } from "@dynosaur/fakes/librato";
import { Agent, request } from "undici";
import { describe, expect, it } from "vitest";
import { createLibratoReporter, createStatsReporters, libratoGauges } from "../src/stats/index.js";
import { eachTest, sampleTick } from "./fixtures.js";

const EMAIL = "ops@example.com";
const TOKEN = "librato-secret-token-5f2a9c";

let fake: LibratoFake;
let http: Agent;

eachTest(async () => {
  fake = await startLibratoFake({ email: EMAIL, token: TOKEN });
  http = new Agent();
  return [fake, http];
});

const tick = sampleTick;

const reporter = (over: { apiKey?: string } = {}) =>
  createLibratoReporter({ email: EMAIL, apiKey: over.apiKey ?? TOKEN, endpoint: fake.url }, { app: "shop", http });

describe("librato reporter", () => {
  it("sends the seed's gauges in one basic-auth POST per tick", async () => {
    await reporter().report(tick());

    expect(fake.submissions).toHaveLength(1);
    const [sub] = fake.submissions;
    expect(sub?.authorization).toBe(`Basic ${Buffer.from(`${EMAIL}:${TOKEN}`).toString("base64")}`);
    const at = Math.floor(Date.UTC(2026, 0, 1, 12, 0, 5) / 1000);
    expect(sub?.gauges).toEqual([
      { name: "dynosaur.shop.ga.value", value: 312, measure_time: at },
      { name: "dynosaur.shop.ga.estimate", value: 5, measure_time: at },
      { name: "dynosaur.shop.nr.value", value: 1200.5, measure_time: at },
      { name: "dynosaur.shop.nr.estimate", value: 3, measure_time: at },
      { name: "dynosaur.shop.combined.estimate", value: 5, measure_time: at },
      { name: "dynosaur.shop.combined.actual", value: 5, measure_time: at },
    ]);
  });

  it("makes exactly one request per tick", async () => {
    const r = reporter();
    await r.report(tick());
    await r.report(tick({ time: tick().time + 5000, after: 6, estimate: 6 }));
    await r.report(tick({ time: tick().time + 10_000 }));
    expect(fake.requests.map((q) => `${q.method} ${q.path} ${q.status}`)).toEqual(
      Array(3).fill("POST /v1/metrics 200"),
    );
    expect(fake.submissions[1]?.gauges.find((g) => g.name.endsWith("combined.actual"))?.value).toBe(6);
  });

  it("leaves out figures not known yet, and sends nothing when no figure is known", async () => {
    const r = reporter();
    const first = tick();
    const partial = tick({
      after: null,
      sources: [
        { ...must(first.sources[0], "source 0"), value: null, estimate: null, health: "outage" },
        must(first.sources[1], "source 1"),
      ],
    });
    await r.report(partial);
    expect(fake.submissions[0]?.gauges.map((g) => g.name)).toEqual([
      "dynosaur.shop.nr.value",
      "dynosaur.shop.nr.estimate",
      "dynosaur.shop.combined.estimate",
    ]);

    await r.report(tick({ estimate: null, after: null, sources: [] }));
    expect(fake.requests).toHaveLength(1);
  });

  it("turns characters Librato refuses in app and source names into underscores", () => {
    const t = tick({ sources: [{ ...must(tick().sources[0], "source 0"), name: "GA (main site)" }] });
    expect(libratoGauges("my app", t).map((g) => g.name)).toContain("dynosaur.my_app.GA__main_site_.value");
  });

  it("rejects with Librato's 401 message, and never with the token", async () => {
    const error = await reporter({ apiKey: "wrong-token-value-1234" })
      .report(tick())
      .then(
        () => null,
        (e: Error) => e,
      );
    expect(error?.message).toMatch(/Librato answered HTTP 401: Authorization Required/);
    expect(error?.message).toMatch(/end of service|ended service/);
    expect(error?.message).not.toContain("wrong-token-value-1234");
    expect(fake.submissions).toHaveLength(0);
  });

  it("says when Librato cannot be reached", async () => {
    await fake.close();
    await expect(reporter().report(tick())).rejects.toThrow(/Librato unreachable at http:\/\/127\.0\.0\.1:\d+/);
  });

  it("is built from a stats entry, with a start-up warning that Librato has ended service", async () => {
    const logger = memoryLogger();
    const [r] = await createStatsReporters([{ type: "librato", email: EMAIL, api_key: TOKEN, endpoint: fake.url }], {
      app: "shop",
      logger,
      http,
      env: {},
      clock: new ManualClock(),
    });
    await r?.report(tick());
    expect(r?.name).toBe("librato");
    expect(fake.submissions).toHaveLength(1);
    expect(logger.text()).toMatch(/Librato \(AppOptics\) reached end of service in January 2026.*otlp/s);
    expect(logger.text()).not.toContain(TOKEN);
  });
});

describe("librato fake", () => {
  const post = (body: string, headers: Record<string, string> = {}) =>
    request(`${fake.url}/v1/metrics`, {
      method: "POST",
      dispatcher: http,
      headers: {
        authorization: `Basic ${Buffer.from(`${EMAIL}:${TOKEN}`).toString("base64")}`,
        "content-type": "application/json",
        ...headers,
      },
      body,
    }).then(async (r) => ({ status: r.statusCode, body: (await r.body.json()) as unknown }));

  it("rejects missing credentials with Librato's error body", async () => {
    const res = await request(`${fake.url}/v1/metrics`, {
      method: "POST",
      dispatcher: http,
      body: "{}",
      headers: { "content-type": "application/json" },
    });
    expect(res.statusCode).toBe(401);
    expect(await res.body.json()).toEqual({ errors: { request: ["Please provide credentials for authentication."] } });
  });

  it("rejects malformed bodies", async () => {
    expect(await post("not json")).toMatchObject({ status: 400, body: { errors: { request: [expect.any(String)] } } });
    expect(await post("{}")).toMatchObject({ status: 400 });
    expect(await post(JSON.stringify({ gauges: [{ name: "has space", value: 1 }] }))).toEqual({
      status: 400,
      body: { errors: { params: { name: ["is invalid"] } } },
    });
    expect(await post(JSON.stringify({ gauges: [{ name: "ok", value: "1" }] }))).toEqual({
      status: 400,
      body: { errors: { params: { value: ["is not a number"] } } },
    });
    expect(await post(JSON.stringify({ gauges: [{ value: 1 }] }))).toEqual({
      status: 400,
      body: { errors: { params: { name: ["is not present"] } } },
    });
    expect(
      await post(JSON.stringify({ gauges: [{ name: "ok", value: 1 }] }), { "content-type": "text/plain" }),
    ).toMatchObject({ status: 415 });
    expect(fake.submissions).toHaveLength(0);
  });
});
