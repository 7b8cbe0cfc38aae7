export { type ChartOptions, renderBacktestHtml, renderBacktestSvg } from "./chart.js";
export { type BacktestReportContext, backtestJson, formatBacktest, mainRun } from "./format.js";
export { type BacktestMetrics, computeMetrics, type MetricsInput, type MetricsSeries, type QuantityChange } from "./metrics.js";
export {
  BACKTEST_POLICIES,
  COMPARE_POLICIES,
  type Backtest,
  type BacktestFeed,
  type BacktestOptions,
  type BacktestPolicy,
  type BacktestRun,
  defaultTickSeconds,
  runBacktest,
} from "./replay.js";
export { parseTrace, readTrace, type Trace, type TraceColumn } from "./trace.js";
export { formatTune, runTune, type Tune, TUNE_ANCHORS, TUNE_HEADROOMS, type TuneJson, tuneJson, tuneJsonSchema, type TuneOptions, type TunePoint } from "./tune.js";
export { renderTuneSvg } from "./tune-chart.js";
