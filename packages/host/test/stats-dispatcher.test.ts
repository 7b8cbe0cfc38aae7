import { memoryLogger, type StatsReporter, type TickReport } from "@dynosaur/core";
import { type LibratoFake, startLibratoFake } from "@dynosaur/fakes/librato";
import { Agent } from "undici";
import { describe, expect, it } from "vitest";
import { createLibratoReporter, createStatsDispatcher } from "../src/stats/index.js";
import { eachTest, gaSource, sampleTick } from "./fixtures.js";

const EMAIL = "ops@example.com";
const TOKEN = "librato-secret-token-5f2a9c";

let fake: LibratoFake;
let http: Agent;

eachTest(async () => {
  fake = await startLibratoFake({ email: EMAIL, token: TOKEN });
  http = new Agent();
  return [fake, http];
});

const tick = (n = 0) =>
  sampleTick({
    time: Date.UTC(2026, 0, 1) + n * 5000,
    after: 3,
    estimate: 3,
    sources: [{ ...gaSource, value: 150, estimate: 3 }],
  });

const librato = () =>
  createLibratoReporter({ email: EMAIL, apiKey: TOKEN, endpoint: fake.url, timeoutMs: 1000 }, { app: "shop", http });

/** A reporter kept in memory, to watch the dispatcher's side of things. */
function recorder(name = "memory"): StatsReporter & { ticks: number[]; closed: boolean } {
  const r = {
    name,
    ticks: [] as number[],
    closed: false,
    async report(t: TickReport) {
      r.ticks.push(t.time);
    },
    async close() {
      r.closed = true;
    },
  };
  return r;
}

describe("stats dispatcher", () => {
  it("returns at once when an endpoint hangs, and times the report out", async () => {
    fake.mode = "hang";
    const logger = memoryLogger();
    const other = recorder();
    const d = createStatsDispatcher([librato(), other], { logger, timeoutMs: 200 });

    // report() hands back nothing to wait on: the tick that called it goes on at once.
    expect(d.report(tick())).toBeUndefined();
    // The other reporter is not held up by the hanging one.
    await Promise.resolve();
    expect(other.ticks).toHaveLength(1);

    await d.settled();
    expect(fake.requests).toHaveLength(1);
    const warns = logger.records.filter((r) => r.level === "warn");
    expect(warns.map((r) => r.message)).toEqual(["stats reporter librato failed: no answer within 200 ms"]);
  });

  it("logs a failure once per problem, and once when the reporter works again", async () => {
    fake.mode = "hang";
    const logger = memoryLogger();
    const d = createStatsDispatcher([librato()], { logger, timeoutMs: 200 });
    d.report(tick(0));
    await d.settled();
    d.report(tick(1));
    await d.settled();
    fake.mode = "ok";
    d.report(tick(2));
    await d.settled();

    const lines = logger.records.filter((r) => r.level !== "debug").map((r) => `${r.level} ${r.message}`);
    expect(lines).toEqual([
      "warn stats reporter librato failed: no answer within 200 ms",
      "info stats reporter librato works again after 2 failed attempts",
    ]);
    expect(logger.records.some((r) => r.level === "debug" && r.message.includes("still failing"))).toBe(true);
    expect(fake.submissions).toHaveLength(1);
  });

  it("logs an HTTP refusal without the credentials", async () => {
    const logger = memoryLogger();
    const wrong = createLibratoReporter(
      { email: EMAIL, apiKey: "not-the-token-9876", endpoint: fake.url },
      { app: "shop", http },
    );
    const d = createStatsDispatcher([wrong], { logger });
    d.report(tick(0));
    d.report(tick(1));
    await d.settled();
    const warns = logger.records.filter((r) => r.level === "warn");
    expect(warns).toHaveLength(1);
    expect(warns[0]?.message).toMatch(/librato failed: Librato answered HTTP 401/);
    expect(logger.text()).not.toContain("not-the-token-9876");
  });

  it("survives a reporter that throws instead of rejecting", async () => {
    const logger = memoryLogger();
    const broken: StatsReporter = {
      name: "broken",
      report() {
        throw new Error("boom");
      },
    };
    const ok = recorder();
    const d = createStatsDispatcher([broken, ok], { logger });
    expect(() => d.report(tick())).not.toThrow();
    await d.settled();
    expect(ok.ticks).toHaveLength(1);
    expect(logger.text()).toMatch(/stats reporter broken failed: boom/);
  });

  it("skips a reporter whose earlier reports are all still pending", async () => {
    const logger = memoryLogger();
    let calls = 0;
    const stuck: StatsReporter = {
      name: "stuck",
      report: () => {
        calls++;
        return new Promise(() => {});
      },
    };
    const d = createStatsDispatcher([stuck], { logger, timeoutMs: 50 });
    for (let i = 0; i < 6; i++) d.report(tick(i));
    expect(calls).toBe(4);
    await d.settled();
    expect(logger.text()).toMatch(/stuck failed: 4 earlier reports still unanswered/);
  });

  it("close() waits for reports in flight, then closes every reporter", async () => {
    const logger = memoryLogger();
    const memory = recorder();
    const d = createStatsDispatcher([librato(), memory], { logger });
    d.report(tick());
    await d.close();
    expect(fake.submissions).toHaveLength(1);
    expect(memory.closed).toBe(true);
    d.report(tick(1));
    expect(memory.ticks).toHaveLength(1);
  });
});
