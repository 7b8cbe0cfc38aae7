import { definePlugin, inputError, isDynosaurError, type PluginInstance } from "@dynosaur/core";
import { AccessTokens } from "./access-token.js";
import { dispatcherFetch } from "./dispatcher-fetch.js";
import { type ReportContext, reportError, statusOf, tokenError } from "./google-errors.js";
import { normalizePropertyId, optionsSchema, propertyIdProblem, UNIVERSAL_ANALYTICS_GONE } from "./options.js";
import { RealtimeReport } from "./realtime-report.js";
import { loadServiceAccount } from "./service-account.js";

export { ANALYTICS_READONLY_SCOPE } from "./access-token.js";
export {
  DEFAULT_API_ROOT,
  DEFAULT_TOKEN_URL,
  type GoogleAnalyticsOptions,
  MAX_MINUTES,
  MIN_INTERVAL_SECONDS,
  optionsSchema,
} from "./options.js";

/** `ceil(users / usersPerDyno)`, without float noise turning an exact 20.000000000000004 into 21. */
export function dynosFor(users: number, usersPerDyno: number): number {
  const exact = users / usersPerDyno;
  const nearest = Math.round(exact);
  return Math.max(0, Math.abs(exact - nearest) < 1e-9 ? nearest : Math.ceil(exact));
}

export default definePlugin({
  type: "google-analytics",
  aliases: ["GoogleAnalyticsPlugin"],
  unit: "active users",
  description: "GA4 realtime active users (Google Analytics Data API runRealtimeReport) / users_per_dyno",
  options: optionsSchema,

  create(options, ctx): PluginInstance {
    // The schema already refuses these; checked again for callers that skip it.
    if (options.analytics_view_id !== undefined) {
      throw inputError("DYNO_CONFIG_INVALID", "analytics_view_id is no longer supported: Universal Analytics is gone", {
        path: "analytics_view_id",
        hint: UNIVERSAL_ANALYTICS_GONE,
      });
    }
    const idProblem = propertyIdProblem(options.property_id);
    if (idProblem) throw inputError("DYNO_CONFIG_INVALID", idProblem, { path: "property_id" });

    const account = loadServiceAccount(options);
    const propertyId = normalizePropertyId(options.property_id);
    // Every request goes through core's dispatcher and stops when the instance closes.
    const fetch = dispatcherFetch(ctx.http, () => ctx.signal);
    const tokens = new AccessTokens({
      account,
      tokenUrl: options.token_url,
      fetch,
      clock: ctx.clock,
      logger: ctx.logger,
    });
    const report = new RealtimeReport({ apiRoot: options.api_root, propertyId, minutes: options.minutes, fetch });
    const errorContext: ReportContext = {
      propertyId,
      clientEmail: account.clientEmail,
      apiRoot: options.api_root,
      interval: options.interval,
      minutes: options.minutes,
    };

    const accessToken = async (signal: AbortSignal, fresh: boolean) => {
      try {
        return await tokens.get(signal, { fresh });
      } catch (e) {
        if (signal.aborted || isDynosaurError(e)) throw e;
        throw tokenError(e, { tokenUrl: options.token_url, clientEmail: account.clientEmail });
      }
    };
    const activeUsers = async (token: string, signal: AbortSignal) => {
      try {
        return await report.activeUsers(token, signal);
      } catch (e) {
        if (signal.aborted || isDynosaurError(e)) throw e;
        throw reportError(e, errorContext);
      }
    };

    const readOnce = async (signal: AbortSignal): Promise<number> => {
      const token = await accessToken(signal, false);
      try {
        return await report.activeUsers(token, signal);
      } catch (e) {
        if (signal.aborted || isDynosaurError(e)) throw e;
        if (statusOf(e) !== 401) throw reportError(e, errorContext);
      }
      // Google may revoke a token before it expires (key deleted, sessions ended): one new token, one retry.
      ctx.logger.warn("Google rejected the access token (401); retrying once with a new one", {
        property_id: propertyId,
      });
      return activeUsers(await accessToken(signal, true), signal);
    };

    ctx.logger.debug("reading GA4 realtime active users", {
      property_id: propertyId,
      client_email: account.clientEmail,
      minutes: options.minutes,
    });

    return {
      async retrieve(signal) {
        const combined = AbortSignal.any([signal, ctx.signal]);
        combined.throwIfAborted();
        try {
          return await readOnce(combined);
        } catch (e) {
          if (combined.aborted) throw combined.reason;
          throw e;
        }
      },
      estimateDynos: (value) => dynosFor(value, options.users_per_dyno),
      close() {
        tokens.clear();
      },
    };
  },
});
