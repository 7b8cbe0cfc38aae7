import type { SourceStatus, TickReport } from "../report.js";

/*
 * Sample tick reports for a stats reporter's or an alert channel's tests: what the engine hands
 * every listener once per tick and process type.
 */

/** A source reading as the scaler reports it: GA at 312 users asking for 5 dynos. */
export const gaSource: SourceStatus = {
  name: "ga",
  type: "google-analytics",
  unit: "active users",
  value: 312,
  estimate: 5,
  health: "ok",
  busy: null,
  lastRetrieval: 0,
  lastError: null,
};
/** New Relic at 1200.5 rpm asking for 3 dynos. */
export const nrSource: SourceStatus = {
  name: "nr",
  type: "newrelic",
  unit: "rpm",
  value: 1200.5,
  estimate: 3,
  health: "ok",
  busy: null,
  lastRetrieval: 0,
  lastError: null,
};

/** One tick of app `shop` scaling web 2 → 5 on GA's estimate, at 2026-01-01T12:00:05Z. */
export function sampleTick(over: Partial<TickReport> = {}): TickReport {
  return {
    time: Date.UTC(2026, 0, 1, 12, 0, 5),
    app: "shop",
    processType: "web",
    dryRun: false,
    before: 2,
    after: 5,
    estimate: 5,
    winner: "ga",
    reason: "scale up",
    sources: [gaSource, nrSource],
    events: [],
    ...over,
  };
}
