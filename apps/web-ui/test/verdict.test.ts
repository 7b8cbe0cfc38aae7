import { describe, expect, it } from "vitest";
import type { ReplayScore } from "../src/api.js";
import { verdict } from "../src/verdict.js";

const score = (cost: number, short: number): ReplayScore => ({
  cost_dyno_hours: cost,
  shortfall_percent: short,
  scale_events: 0,
  shortfall_dyno_minutes: short,
  needed_dyno_minutes: 100,
});

describe("Try it first's verdict in one line", () => {
  it("cost change in per cent, shortfall as a ratio", () => {
    expect(verdict(score(10, 8), score(11.2, 4))).toBe("The draft costs 12 % more and falls short half as often.");
    expect(verdict(score(10, 2), score(8, 6))).toBe("The draft costs 20 % less and falls short 3 times as often.");
    expect(verdict(score(10, 5), score(10, 5))).toBe("The draft costs the same and falls short as often.");
    expect(verdict(score(10, 0), score(9, 0))).toBe(
      "The draft costs 10 % less and never falls short (nor does the running version).",
    );
    expect(verdict(score(10, 4), score(12, 0))).toBe("The draft costs 20 % more and never falls short.");
  });
});
