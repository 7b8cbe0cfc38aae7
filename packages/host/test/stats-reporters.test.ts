import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DynosaurError,
  defineReporter,
  ManualClock,
  memoryLogger,
  otlpStatsSchema,
  type ReporterContext,
  statsConfigSchema,
  type TickReport,
} from "@dynosaur/core";
import { Agent } from "undici";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { createConsoleReporter, createStatsReporters, statsLine } from "../src/stats/index.js";
import { gaSource, nrSource, sampleTick } from "./fixtures.js";

let dir: string;
let http: Agent;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "dynosaur-stats-"));
  http = new Agent();
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
  await http.close();
});

/** At 12:00:00, with New Relic in outage. */
const tick = (over: Partial<TickReport> = {}) =>
  sampleTick({
    time: Date.UTC(2026, 0, 1, 12, 0, 0),
    sources: [
      gaSource,
      { ...nrSource, value: null, estimate: null, health: "outage", lastRetrieval: null, lastError: "HTTP 503" },
    ],
    ...over,
  });

const deps = () => ({ app: "shop", logger: memoryLogger(), http, env: {}, clock: new ManualClock() });

describe("stats config schema", () => {
  it("fills in defaults", () => {
    expect(statsConfigSchema.parse(undefined)).toEqual([]);
    expect(
      statsConfigSchema.parse([
        { type: "librato", email: "a@b.c", api_key: "k" },
        { type: "console" },
        { type: "file" },
        { type: "otlp" },
      ]),
    ).toEqual([
      { type: "librato", email: "a@b.c", api_key: "k", endpoint: "https://metrics-api.librato.com", timeout: 10 },
      { type: "console", output: "log" },
      { type: "file", path: "stats.csv" },
      { type: "otlp", timeout: 10 },
    ]);
  });

  it("catches typos and unknown types", () => {
    const typo = statsConfigSchema.safeParse([{ type: "otlp", endpiont: "http://x" }]);
    expect(typo.success).toBe(false);
    expect(typo.error?.issues[0]).toMatchObject({ code: "unrecognized_keys", keys: ["endpiont"], path: [0] });
    expect(statsConfigSchema.safeParse([{ type: "statsd" }]).success).toBe(false);
    expect(statsConfigSchema.safeParse([{ type: "librato", email: "a@b.c" }]).success).toBe(false);
    expect(statsConfigSchema.safeParse([{ type: "otlp", endpoint: "not a url" }]).success).toBe(false);
  });

  it("turns into a JSON Schema with each option described", () => {
    const json = JSON.stringify(z.toJSONSchema(statsConfigSchema, { io: "input" }));
    expect(json).toContain("OTEL_EXPORTER_OTLP_(METRICS_)ENDPOINT");
    expect(json).toContain('"additionalProperties":false');
  });
});

describe("console reporter", () => {
  it("writes one line per tick to the logger, with the figures as fields", async () => {
    const d = deps();
    const [r] = await createStatsReporters([{ type: "console" }], d);
    await r?.report(tick());
    await r?.report(tick());
    expect(d.logger.records).toHaveLength(2);
    expect(d.logger.records[0]).toMatchObject({
      level: "info",
      message:
        "shop web: estimate 5, actual 2 -> 5 (scale up), winner ga | ga 312 active users -> 5 ok | nr - rpm -> - outage",
      fields: {
        reporter: "console",
        estimate: 5,
        after: 5,
        sources: { ga: { value: 312, estimate: 5, health: "ok" } },
      },
    });
  });

  it("writes plain lines when asked for stdout", async () => {
    const lines: string[] = [];
    const r = createConsoleReporter({ output: "stdout" }, { logger: memoryLogger(), write: (l) => lines.push(l) });
    await r.report(tick({ dryRun: true }));
    expect(lines).toEqual([`2026-01-01T12:00:00.000Z ${statsLine(tick({ dryRun: true }))}\n`]);
    expect(lines[0]).toContain("shop web (dry run)");
  });
});

describe("file reporter", () => {
  it("appends a CSV row per tick under one header", async () => {
    const path = join(dir, "nested", "stats.csv");
    const [r] = await createStatsReporters([{ type: "file", path }], deps());
    await r?.report(tick());
    await r?.report(tick({ time: tick().time + 5000, reason: "blackout, hold" }));
    await r?.close?.();
    expect((await readFile(path, "utf8")).split("\n")).toEqual([
      "time,app,process_type,dry_run,before,after,estimate,winner,reason,ga.value,ga.estimate,ga.health,nr.value,nr.estimate,nr.health",
      "2026-01-01T12:00:00.000Z,shop,web,false,2,5,5,ga,scale up,312,5,ok,,,outage",
      '2026-01-01T12:00:05.000Z,shop,web,false,2,5,5,ga,"blackout, hold",312,5,ok,,,outage',
      "",
    ]);
  });
});

describe("createStatsReporters", () => {
  it("names reporters by type, numbering types used twice", async () => {
    const reporters = await createStatsReporters(
      [{ type: "console" }, { type: "file", path: join(dir, "a.csv") }, { type: "console", output: "stdout" }],
      deps(),
    );
    expect(reporters.map((r) => r.name)).toEqual(["console[0]", "file", "console[2]"]);
  });
});

describe("reporters from their own package (otlp)", () => {
  /** Stands in for @dynosaur/reporter-otlp: core's part is the same whatever the package sends. */
  const created: { options: unknown; ctx: ReporterContext }[] = [];
  const standIn = defineReporter({
    type: "otlp",
    options: otlpStatsSchema,
    create: (options, ctx) => {
      created.push({ options, ctx });
      return { name: ctx.name, report: async () => {} };
    },
  });
  beforeEach(() => {
    created.length = 0;
  });

  const failure = (p: Promise<unknown>) =>
    p.then(
      () => null,
      (e: unknown) => e as DynosaurError,
    );

  it("without a loader, names the entry and the package to install", async () => {
    const e = await failure(createStatsReporters([{ type: "console" }, { type: "otlp" }], deps()));
    expect(e).toBeInstanceOf(DynosaurError);
    expect(e).toMatchObject({ code: "DYNO_REPORTER_NOT_FOUND", exitCode: 2, path: "stats[1].type" });
    expect(e?.message).toContain("@dynosaur/reporter-otlp");
    expect(e?.hint).toMatch(/^install @dynosaur\/reporter-otlp/);
  });

  it("loads the package only for an entry that names it, and creates the reporter from the checked entry", async () => {
    const asked: string[] = [];
    const loadReporter = async (type: string, path: string) => {
      asked.push(`${type} ${path}`);
      return standIn;
    };
    expect(await createStatsReporters([{ type: "console" }], { ...deps(), loadReporter })).toHaveLength(1);
    expect(asked).toEqual([]);

    const d = { ...deps(), env: { OTEL_SERVICE_NAME: "x" }, loadReporter };
    const reporters = await createStatsReporters(
      [{ type: "otlp", endpoint: "http://127.0.0.1:4318" }, { type: "otlp" }],
      d,
    );
    expect(asked).toEqual(["otlp stats[0].type", "otlp stats[1].type"]);
    expect(reporters.map((r) => r.name)).toEqual(["otlp[0]", "otlp[1]"]);
    // Defaults filled in by the package's schema; the context is the caller's.
    expect(created[0]?.options).toEqual({ type: "otlp", endpoint: "http://127.0.0.1:4318", timeout: 10 });
    expect(created[0]?.ctx).toMatchObject({
      app: "shop",
      name: "otlp[0]",
      env: { OTEL_SERVICE_NAME: "x" },
      http: d.http,
      clock: d.clock,
    });
  });

  it("checks the entry against the package's schema, with the entry's path", async () => {
    const e = await failure(
      createStatsReporters([{ type: "otlp", endpoint: "not a url" }], { ...deps(), loadReporter: async () => standIn }),
    );
    expect(e).toMatchObject({ code: "DYNO_CONFIG_INVALID", exitCode: 2, path: "stats[0].endpoint" });
    expect(created).toEqual([]);
  });

  it("refuses a package that is not a reporter of that type", async () => {
    const wrong = { ...standIn, type: "statsd" };
    const e = await failure(createStatsReporters([{ type: "otlp" }], { ...deps(), loadReporter: async () => wrong }));
    expect(e).toMatchObject({ code: "DYNO_REPORTER_INVALID", exitCode: 2 });
    expect(e?.message).toBe(
      '@dynosaur/reporter-otlp is not a valid Dynosaur stats reporter: it implements type "statsd", not "otlp"',
    );
    const broken = await failure(
      createStatsReporters([{ type: "otlp" }], { ...deps(), loadReporter: async () => ({}) as never }),
    );
    expect(broken?.message).toMatch(/`options` is not a zod schema; no `create` function$/);
  });
});
