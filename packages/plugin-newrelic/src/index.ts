import { definePlugin, PluginError } from "@dynosaur/core";
import { createNerdGraphClient } from "./nerdgraph.js";
import { describeApp, recentlySeenQuery, singleNumber } from "./nrql.js";
import { newRelicOptionsSchema, resolveOptions } from "./options.js";

export { NRQL_DOCUMENT } from "./nerdgraph.js";
export { nrqlString, recentlySeenQuery, throughputQuery } from "./nrql.js";
export { type NewRelicOptions, newRelicOptionsSchema, REGION_ENDPOINTS } from "./options.js";

/**
 * Scales on an APM app's web throughput (requests per minute), read with NRQL through
 * NerdGraph — New Relic's GraphQL API, which outlives the REST v2 API the seed used.
 */
export default definePlugin({
  type: "newrelic",
  aliases: ["NewRelicPlugin"],
  unit: "requests/min",
  description:
    "Web requests per minute of a New Relic APM app (NRQL via NerdGraph); needs ceil(rpm / rpm_per_dyno) dynos.",
  options: newRelicOptionsSchema,
  // The key goes to the NerdGraph URL that `endpoint`, else `region`, names.
  destinations: { api_key: ["endpoint", "region"], key: ["endpoint", "region"] },
  create(options, ctx) {
    const resolved = resolveOptions(options);
    if (!resolved.apiKey.startsWith("NRAK-")) {
      ctx.logger.warn(
        "api_key does not look like a New Relic User key (NRAK-...); NerdGraph rejects license, ingest and REST API keys",
      );
    }
    const client = createNerdGraphClient({
      http: ctx.http,
      endpoint: resolved.endpoint,
      apiKey: resolved.apiKey,
      accountId: resolved.accountId,
    });
    const { app } = resolved;
    // Once the app has shown traffic, a 0 is a quiet app, not a misspelled one.
    let appSeen = false;

    return {
      async retrieve(signal) {
        const combined = AbortSignal.any([signal, ctx.signal]);
        const rpm = singleNumber(await client.nrql(resolved.nrql, combined), resolved.nrql);
        if (rpm > 0 || !app) {
          appSeen ||= rpm > 0;
          return rpm;
        }
        if (!appSeen) {
          const check = recentlySeenQuery(app);
          const seen = singleNumber(await client.nrql(check, combined), check);
          if (seen === 0) {
            throw new PluginError(
              `New Relic account ${resolved.accountId} has no transactions for ${describeApp(app)} in the last week, so its 0 requests/min cannot be trusted`,
              { hint: "check app_name (exact and case-sensitive, as in APM & services) or app_id, and account_id" },
            );
          }
          appSeen = true;
        }
        return rpm;
      },
      estimateDynos: (rpm) => Math.max(0, Math.ceil(rpm / resolved.rpmPerDyno)),
    };
  },
});
