import type { Logger } from "./logger.js";
import type { AlertSink, TickReport } from "./report.js";
import { formatTick } from "./tick-format.js";

/** Logs the tick's events, then its one line (built only when info is on: replays run ticks by the million). */
export function logListener(logger: Logger) {
  return (report: TickReport): void => {
    for (const e of report.events) {
      const simulated = e.kind === "scale" && report.dryRun ? "[dry run] simulated formation " : "";
      logger[e.level](`${simulated}${e.message}`, { event: e.kind, ...e.fields });
    }
    if (logger.enabled("info")) logger.info(formatTick(report), { event: "tick", ...report });
  };
}

/** Problems and recoveries, derived from each report; the sink deduplicates and emails. */
export function alertListener(sink: () => AlertSink) {
  return (report: TickReport): void => {
    const alerts = sink();
    const { sources, time } = report;
    for (const s of sources) {
      const key = `source-outage:${s.name}`;
      if (s.health !== "outage") {
        alerts.clear(key);
        continue;
      }
      const since = s.lastRetrieval === null ? "ever" : `${Math.round((time - s.lastRetrieval) / 1000)} s`;
      alerts.raise({
        key,
        kind: "source-outage",
        message: `source ${s.name} has had no good reading for ${since}: ${s.lastError ?? "no reading"}`,
      });
    }
    // Keyed by process type: each report is one type's, and another type's healthy report
    // must not clear this one's problem between two ticks.
    const type = report.processType;
    if (sources.length > 0 && sources.every((s) => s.health === "outage")) {
      alerts.raise({
        key: `all-sources-out:${type}`,
        kind: "all-sources-out",
        message: `every source of ${type} is in outage: holding the ${type} formation as it is`,
      });
    } else {
      alerts.clear(`all-sources-out:${type}`);
    }
    for (const e of report.events) {
      if (e.kind === "heroku-error") alerts.raise({ key: "heroku-error", kind: "heroku-error", message: e.message });
      if (e.kind === "heroku-recovered") alerts.clear("heroku-error");
      if (e.kind === "heroku-refused")
        alerts.raise({ key: `heroku-refused:${type}`, kind: "heroku-refused", message: e.message });
      if (e.kind === "heroku-refusal-lifted") alerts.clear(`heroku-refused:${type}`);
    }
    alerts.tick?.(report, report.before !== null && sources.every((s) => s.health === "ok"));
  };
}
