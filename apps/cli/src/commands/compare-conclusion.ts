import type { Backtest, BacktestRun } from "@dynosaur/backtest";

/**
 * The last line of `simulate --compare`: which replayed policy is cheapest without falling
 * short more than the configured one, in plain words, as `tune` ends with its recommendation.
 * `null` when fewer than two policies were replayed.
 */
export function compareConclusion(backtest: Backtest): string | null {
  const { runs } = backtest;
  if (runs.length < 2) return null;
  const reference = runs.find((r) => r.policy.name === "configured") ?? runs[0];
  if (!reference) return null;
  const shortfall = (r: BacktestRun) => r.metrics.shortfall_dyno_minutes;
  // Half a dyno-minute of slack: the same shortfall computed along two paths.
  const noWorse = runs.filter((r) => shortfall(r) <= shortfall(reference) + 0.5);
  const cheapest = noWorse.reduce((best, r) => (r.metrics.dyno_minutes < best.metrics.dyno_minutes ? r : best));
  const name = (r: BacktestRun) => (r.policy.name === "configured" ? describeConfigured(r) : r.policy.name);
  const cost = (r: BacktestRun) => `${r.metrics.cost_ratio.toFixed(2)}×`;
  const short = (r: BacktestRun) => `${r.metrics.shortfall_percent.toFixed(1)} %`;
  if (cheapest === reference || cheapest.metrics.dyno_minutes >= reference.metrics.dyno_minutes)
    return `conclusion: keep ${name(reference)}: no policy here is cheaper without falling short more (it runs ${cost(reference)} the dyno-minutes needed and falls ${short(reference)} short).`;
  return `conclusion: ${name(cheapest)} is cheaper than ${name(reference)} without falling short more: ${cost(cheapest)} the dyno-minutes needed against ${cost(reference)}, ${short(cheapest)} short against ${short(reference)}.`;
}

function describeConfigured(run: BacktestRun): string {
  return `the configured policy (${run.engine.policy}${run.engine.policy === "forecast" ? `, headroom ${run.engine.headroom}` : ""})`;
}
