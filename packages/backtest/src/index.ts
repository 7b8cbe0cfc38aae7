export { type ChartOptions, renderBacktestHtml, renderBacktestSvg } from "./chart.js";
export { type BacktestReportContext, backtestJson, formatBacktest, mainRun } from "./format.js";
export {
  type BacktestMetrics,
  computeMetrics,
  type MetricsInput,
  type MetricsSeries,
  type QuantityChange,
} from "./metrics.js";
export {
  BACKTEST_POLICIES,
  type Backtest,
  type BacktestFeed,
  type BacktestOptions,
  type BacktestPolicy,
  type BacktestRun,
  COMPARE_POLICIES,
  defaultTickSeconds,
  runBacktest,
} from "./replay.js";
export { parseTrace, readTrace, type Trace, type TraceColumn } from "./trace.js";
export {
  formatTune,
  runTune,
  TUNE_ANCHORS,
  TUNE_HEADROOMS,
  type Tune,
  type TuneJson,
  type TuneOptions,
  type TunePoint,
  tuneJson,
  tuneJsonSchema,
} from "./tune.js";
export { renderTuneSvg } from "./tune-chart.js";
