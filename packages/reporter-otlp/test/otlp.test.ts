import { ManualClock, memoryLogger, type StatsReporter } from "@dynosaur/core";
import { gaSource, nrSource, sampleTick } from "@dynosaur/core/testing";
import { type OtlpPoint, type OtlpReceiver, startOtlpReceiver } from "@dynosaur/fakes/otlp";
import { createStatsReporters } from "@dynosaur/host";
import { Agent, request } from "undici";
import { afterEach, assert, describe, expect, it } from "vitest";
import otlpReporter, { createOtlpReporter, parseKeyValueList, resolveOtlpTarget } from "../src/index.js";

const SECRET = "otlp-ingest-key-7d3e1b";

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

async function receiver(options?: Parameters<typeof startOtlpReceiver>[0]): Promise<OtlpReceiver> {
  const r = await startOtlpReceiver(options);
  open.push(r);
  return r;
}

async function otlp(
  options: Parameters<typeof createOtlpReporter>[0],
  env: Record<string, string | undefined> = {},
  logger = memoryLogger(),
) {
  const r = await createOtlpReporter({ timeout: 5, ...options }, { app: "shop", env, logger });
  open.push({ close: () => r.close?.() ?? Promise.resolve() });
  return r;
}

const tick = sampleTick;

/** The single point of `metric` whose attributes include `attrs`. */
function point(points: OtlpPoint[], metric: string, attrs: Record<string, string> = {}): OtlpPoint {
  const found = points.filter(
    (p) => p.metric === metric && Object.entries(attrs).every(([k, v]) => p.attributes[k] === v),
  );
  expect(found, `${metric} ${JSON.stringify(attrs)}`).toHaveLength(1);
  const [only] = found;
  assert(only);
  return only;
}

describe("otlp reporter", () => {
  it("exports every figure of a tick as a gauge, with app and source as attributes", async () => {
    const rx = await receiver();
    const r = await otlp({ endpoint: rx.url });
    await r.report(tick());

    expect(rx.requests).toEqual([{ method: "POST", path: "/v1/metrics", status: 200 }]);
    const [exp] = rx.exports;
    expect(exp?.headers["content-type"]).toMatch(/^application\/json/);
    const points = exp?.points ?? [];
    expect(point(points, "dynosaur.value", { source: "ga" })).toMatchObject({
      kind: "gauge",
      value: 312,
      attributes: { app: "shop", source: "ga", unit: "active users" },
    });
    expect(point(points, "dynosaur.value", { source: "nr" }).value).toBe(1200.5);
    expect(point(points, "dynosaur.estimate", { source: "ga" })).toMatchObject({ value: 5, unit: "{dyno}" });
    expect(point(points, "dynosaur.estimate", { source: "nr" }).value).toBe(3);
    expect(point(points, "dynosaur.combined.estimate", { app: "shop" }).value).toBe(5);
    expect(point(points, "dynosaur.actual", { app: "shop" }).value).toBe(5);
    expect(points).toHaveLength(6);
    expect(points[0]?.resource["service.name"]).toBe("dynosaur");
    expect(points[0]?.scope).toBe("dynosaur");
  });

  it("names the process type of every figure, so web's and worker's combined figures stay apart", async () => {
    const rx = await receiver();
    const r = await otlp({ endpoint: rx.url });
    await r.report(tick());
    const jobs = { ...gaSource, name: "jobs", unit: "jobs", value: 35, estimate: 4 };
    await r.report(tick({ processType: "worker", before: 0, after: 4, estimate: 4, winner: "jobs", sources: [jobs] }));
    const [web = [], worker = []] = rx.exports.map((e) => e.points);
    expect(point(web, "dynosaur.combined.estimate", { process_type: "web" }).value).toBe(5);
    expect(point(worker, "dynosaur.combined.estimate", { process_type: "worker" }).value).toBe(4);
    expect(point(worker, "dynosaur.actual", { process_type: "worker" }).value).toBe(4);
    expect(point(worker, "dynosaur.value", { source: "jobs" }).attributes).toEqual({
      app: "shop",
      process_type: "worker",
      source: "jobs",
      unit: "jobs",
    });
  });

  it("exports once per tick, with only that tick's figures", async () => {
    const rx = await receiver();
    const r = await otlp({ endpoint: `${rx.url}/v1/metrics` });
    await r.report(tick());
    await r.report(
      tick({
        after: 6,
        estimate: 6,
        sources: [
          { ...gaSource, value: 400, estimate: 6 },
          { ...nrSource, value: null, estimate: null },
        ],
      }),
    );

    expect(rx.exports).toHaveLength(2);
    const points = rx.exports[1]?.points ?? [];
    expect(point(points, "dynosaur.value", { source: "ga" }).value).toBe(400);
    expect(point(points, "dynosaur.actual").value).toBe(6);
    // A source without a reading this tick sends nothing, rather than its last value again.
    expect(points.filter((p) => p.attributes.source === "nr")).toEqual([]);
  });

  it("honours OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_EXPORTER_OTLP_HEADERS from the given env", async () => {
    const rx = await receiver({ requiredHeaders: { "x-api-key": SECRET } });
    const logger = memoryLogger();
    const r = await otlp(
      {},
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: `${rx.url}/`,
        OTEL_EXPORTER_OTLP_HEADERS: `x-api-key=${SECRET},x-team=capacity%20planning`,
      },
      logger,
    );
    await r.report(tick());
    expect(logger.text()).toContain(`otlp: sending metrics to ${rx.url}/v1/metrics`);
    expect(logger.text()).not.toContain(SECRET);
    expect(rx.exports).toHaveLength(1);
    expect(rx.exports[0]?.headers["x-team"]).toBe("capacity planning");
    expect(JSON.stringify(rx.exports.map((e) => e.body))).not.toContain(SECRET);
  });

  it("honours the _METRICS_ variants over the general ones", async () => {
    const rx = await receiver({ requiredHeaders: { authorization: `Bearer ${SECRET}` } });
    const r = await otlp(
      {},
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9",
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${rx.url}/v1/metrics`,
        OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20wrong",
        OTEL_EXPORTER_OTLP_METRICS_HEADERS: `authorization=Bearer%20${SECRET}`,
      },
    );
    await r.report(tick());
    expect(rx.exports).toHaveLength(1);
  });

  it("lets the endpoint and headers options win over the environment", async () => {
    const rx = await receiver({ requiredHeaders: { "x-api-key": SECRET } });
    const r = await otlp(
      { endpoint: rx.url, headers: { "x-api-key": SECRET } },
      { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9", OTEL_EXPORTER_OTLP_HEADERS: "x-api-key=stale" },
    );
    await r.report(tick());
    expect(rx.exports).toHaveLength(1);
  });

  it("rejects with the receiver's status when it refuses, without the header values", async () => {
    const rx = await receiver({ requiredHeaders: { "x-api-key": "the-right-one" } });
    const r = await otlp({ endpoint: rx.url, headers: { "x-api-key": SECRET } });
    const error = await r.report(tick()).then(
      () => null,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(/OTLP receiver at http:\/\/127\.0\.0\.1:\d+ answered HTTP 401/);
    expect(error?.message).not.toContain(SECRET);
    expect(rx.exports).toHaveLength(0);
  });

  it("close() waits for an export in flight", async () => {
    const rx = await receiver();
    const r = await otlp({ endpoint: rx.url });
    const sent = r.report(tick());
    await r.close?.();
    await sent;
    expect(rx.exports).toHaveLength(1);
    await expect(r.report(tick())).rejects.toThrow(/closed/);
  });

  it("warns that a non-JSON OTLP protocol is not supported", async () => {
    const rx = await receiver();
    const logger = memoryLogger();
    const r = await otlp({ endpoint: rx.url }, { OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }, logger);
    await r.report(tick());
    expect(logger.text()).toMatch(/OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported/);
    expect(rx.exports).toHaveLength(1);
  });

  it("names the service from OTEL_SERVICE_NAME and adds OTEL_RESOURCE_ATTRIBUTES", async () => {
    const rx = await receiver();
    const r = await otlp(
      { endpoint: rx.url },
      { OTEL_SERVICE_NAME: "autoscaler", OTEL_RESOURCE_ATTRIBUTES: "deployment.environment=prod" },
    );
    await r.report(tick());
    expect(rx.exports[0]?.points[0]?.resource).toMatchObject({
      "service.name": "autoscaler",
      "deployment.environment": "prod",
    });
  });

  it("is built from a stats entry, by core through loadReporter", async () => {
    const rx = await receiver();
    const asked: string[] = [];
    const reporters: StatsReporter[] = await createStatsReporters(
      [{ type: "console" }, { type: "otlp", endpoint: rx.url }],
      {
        app: "shop",
        logger: memoryLogger(),
        http: new Agent(),
        env: {},
        clock: new ManualClock(),
        loadReporter: async (type, path) => {
          asked.push(`${type} at ${path}`);
          return otlpReporter;
        },
      },
    );
    expect(asked).toEqual(["otlp at stats[1].type"]);
    const otlp = reporters[1];
    assert(otlp, "the second reporter of stats");
    open.push({ close: () => otlp.close?.() ?? Promise.resolve() });
    await otlp.report(tick());
    expect(otlp.name).toBe("otlp");
    expect(rx.exports).toHaveLength(1);
  });
});

describe("otlp target resolution", () => {
  it("defaults to the collector's local OTLP/HTTP port", () => {
    expect(resolveOtlpTarget({}, {})).toEqual({ url: "http://localhost:4318/v1/metrics", headers: {} });
  });

  it("parses the W3C-style header list, skipping junk", () => {
    expect(parseKeyValueList(" a = 1 ,b=x%2Cy,,=nokey,novalue")).toEqual({ a: "1", b: "x,y" });
  });
});

describe("otlp receiver fake", () => {
  it("rejects protobuf, bad JSON and bodies that are not an export request", async () => {
    const rx = await receiver();
    const http = new Agent();
    open.push(http);
    const post = (body: string, type = "application/json") =>
      request(`${rx.url}/v1/metrics`, {
        method: "POST",
        dispatcher: http,
        headers: { "content-type": type },
        body,
      }).then(async (r) => ({
        status: r.statusCode,
        body: await r.body.json(),
      }));
    expect((await post("x", "application/x-protobuf")).status).toBe(415);
    expect(await post("{not json")).toMatchObject({ status: 400, body: { code: 3 } });
    expect((await post(JSON.stringify({ resourceMetrics: {} }))).status).toBe(400);
    expect(
      (
        await post(
          JSON.stringify({
            resourceMetrics: [
              { scopeMetrics: [{ metrics: [{ name: "m", gauge: { dataPoints: [{ timeUnixNano: "1" }] } }] }] },
            ],
          }),
        )
      ).status,
    ).toBe(400);
    expect(rx.exports).toHaveLength(0);
  });
});
