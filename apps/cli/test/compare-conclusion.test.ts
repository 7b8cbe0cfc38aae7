import type { Backtest, BacktestRun } from "@dynosaur/backtest";
import { describe, expect, it } from "vitest";
import { compareConclusion } from "../src/commands/compare-conclusion.js";

function run(name: string, dynoMinutes: number, shortfall: number, policy = "hysteresis"): BacktestRun {
  return {
    policy: { name, description: name },
    engine: { policy, headroom: 0.2 },
    metrics: {
      dyno_minutes: dynoMinutes,
      cost_ratio: dynoMinutes / 100,
      shortfall_dyno_minutes: shortfall,
      shortfall_percent: shortfall,
    },
  } as unknown as BacktestRun;
}
const backtest = (...runs: BacktestRun[]) => ({ runs }) as unknown as Backtest;

describe("simulate --compare's conclusion", () => {
  it("keeps the configured policy when every cheaper one falls short more", () => {
    expect(
      compareConclusion(
        backtest(run("seed", 141, 8), run("follow", 100, 13.3), run("configured", 134, 5.9, "forecast")),
      ),
    ).toBe(
      "conclusion: keep the configured policy (forecast, headroom 0.2): no policy here is cheaper without falling short more (it runs 1.34× the dyno-minutes needed and falls 5.9 % short).",
    );
  });

  it("names a cheaper policy that falls short no more", () => {
    expect(compareConclusion(backtest(run("hpa", 120, 5), run("configured", 134, 5.9, "seed")))).toBe(
      "conclusion: hpa is cheaper than the configured policy (seed) without falling short more: 1.20× the dyno-minutes needed against 1.34×, 5.0 % short against 5.9 %.",
    );
  });

  it("says nothing for one policy", () => {
    expect(compareConclusion(backtest(run("configured", 134, 5.9)))).toBeNull();
  });
});
