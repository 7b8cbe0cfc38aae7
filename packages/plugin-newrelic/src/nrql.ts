import { PluginError } from "@dynosaur/core";

/** Which APM app the default query reads. */
export type AppSelector = { name: string } | { id: number };

/** Quotes a value as an NRQL string literal: backslash-escape backslashes and single quotes. */
export function nrqlString(value: string): string {
  return `'${value.replace(/[\\']/g, "\\$&")}'`;
}

function appCondition(app: AppSelector): string {
  return "name" in app ? `appName = ${nrqlString(app.name)}` : `appId = ${app.id}`;
}

/** Describes the app for messages, e.g. `app_name 'shop'`. */
export function describeApp(app: AppSelector): string {
  return "name" in app ? `app_name ${nrqlString(app.name)}` : `app_id ${app.id}`;
}

/**
 * Web requests per minute of one app, averaged over the last `windowMinutes`. The explicit
 * SINCE matters: without it NRQL averages the last 30 minutes, far too slow for scaling.
 */
export function throughputQuery(app: AppSelector, windowMinutes: number): string {
  return `SELECT rate(count(*), 1 minute) AS 'rpm' FROM Transaction WHERE transactionType = 'Web' AND ${appCondition(app)} SINCE ${windowMinutes} minutes ago`;
}

/**
 * Whether the app reported anything lately. NRQL counts events that do not exist as 0, so a
 * misspelled app reads as "0 requests per minute"; this query tells the two apart.
 */
export function recentlySeenQuery(app: AppSelector): string {
  return `SELECT count(*) AS 'transactions' FROM Transaction WHERE ${appCondition(app)} SINCE 1 week ago`;
}

// Keys NRQL adds to a result row beside the selected values.
const ROW_METADATA = new Set(["beginTimeSeconds", "endTimeSeconds", "facet", "comparison"]);

/**
 * The one number an NRQL result holds. `[]`, a null value or anything but one row with one
 * value is a failure, never 0: a wrong reading would shrink the app.
 */
export function singleNumber(results: unknown, nrql: string): number {
  const hint = "the query must return exactly one number (no FACET or TIMESERIES); try it in New Relic's query builder";
  if (!Array.isArray(results) || results.length === 0) {
    throw new PluginError(`New Relic returned no results for ${quote(nrql)}`, { hint });
  }
  if (results.length > 1) {
    throw new PluginError(`New Relic returned ${results.length} result rows for ${quote(nrql)}; expected one`, {
      hint,
    });
  }
  const row = results[0];
  const entries =
    row !== null && typeof row === "object" ? Object.entries(row).filter(([k]) => !ROW_METADATA.has(k)) : [];
  const [entry, ...more] = entries;
  if (!entry || more.length > 0) {
    const names = entries.map(([k]) => k).join(", ") || "none";
    throw new PluginError(`New Relic returned ${entries.length} values (${names}) for ${quote(nrql)}; expected one`, {
      hint,
    });
  }
  const [name, value] = entry;
  if (value === null || value === undefined) {
    throw new PluginError(
      `New Relic returned no value (${name}: null) for ${quote(nrql)}: no data in the query's time window`,
      { hint },
    );
  }
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new PluginError(
      `New Relic returned ${JSON.stringify(value)} for ${name} in ${quote(nrql)}; expected a number >= 0`,
      { hint },
    );
  }
  return value;
}

export function quote(nrql: string): string {
  return `\`${nrql}\``;
}
