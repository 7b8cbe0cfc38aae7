import { describe, expect, it } from "vitest";
import { queueTimeFromHeader, queueTimeOf, requestStartMs } from "../src/index.js";

const NOW = Date.parse("2026-12-07T04:00:00.000Z");

describe("requestStartMs", () => {
  it("reads Heroku's milliseconds, and seconds, microseconds and nanoseconds by their size", () => {
    expect(requestStartMs(String(NOW))).toBe(NOW);
    expect(requestStartMs(`${NOW / 1000}`)).toBe(NOW);
    expect(requestStartMs("1796616000.250")).toBe(1796616000250);
    expect(requestStartMs(`${NOW}000`)).toBe(NOW);
    expect(requestStartMs(`${NOW}000000`)).toBe(NOW);
  });

  it("accepts the t= prefix (nginx's form)", () => {
    expect(requestStartMs(`t=${NOW}`)).toBe(NOW);
    expect(requestStartMs(`t=${NOW / 1000}`)).toBe(NOW);
  });

  it("refuses what is no time", () => {
    for (const bad of [undefined, null, "", "abc", "-5", "0", "12ms", "t="]) expect(requestStartMs(bad)).toBeNull();
  });
});

describe("queueTimeFromHeader", () => {
  it("is now minus the start", () => {
    expect(queueTimeFromHeader(String(NOW - 42), NOW)).toBe(42);
    expect(queueTimeFromHeader(String(NOW), NOW)).toBe(0);
  });

  it("drops a negative wait and one over 60 s", () => {
    expect(queueTimeFromHeader(String(NOW + 5), NOW)).toBeNull();
    expect(queueTimeFromHeader(String(NOW - 60_001), NOW)).toBeNull();
    expect(queueTimeFromHeader(String(NOW - 60_000), NOW)).toBe(60_000);
  });
});

describe("queueTimeOf", () => {
  it("reads the header from Node's headers object, an array value, or a Fetch Headers", () => {
    expect(queueTimeOf({ headers: { "x-request-start": String(NOW - 7) } }, NOW)).toBe(7);
    expect(queueTimeOf({ headers: { "x-request-start": [String(NOW - 8)] } }, NOW)).toBe(8);
    expect(queueTimeOf({ headers: new Headers({ "X-Request-Start": `t=${NOW - 9}` }) }, NOW)).toBe(9);
    expect(queueTimeOf({ headers: {} }, NOW)).toBeNull();
  });
});
