import { PluginError } from "@dynosaur/core";
import { analyticsdata_v1beta } from "@googleapis/analyticsdata";
import type { FetchLike } from "./dispatcher-fetch.js";

type RealtimeResponse = analyticsdata_v1beta.Schema$RunRealtimeReportResponse;

export interface RealtimeReportOptions {
  /** Root URL of the Data API; a path prefix (reverse proxy) is kept. */
  apiRoot: string;
  propertyId: string;
  /** Window: users active in the last `minutes` minutes. */
  minutes: number;
  fetch: FetchLike;
}

/** Reads a property's realtime active users through the googleapis Data API client. */
export class RealtimeReport {
  readonly #api: analyticsdata_v1beta.Analyticsdata;
  readonly #options: RealtimeReportOptions;

  constructor(options: RealtimeReportOptions) {
    this.#options = options;
    // No `auth` client: the caller brings the bearer token, so that token refresh and the
    // 401 retry follow the plugin's clock and rules (see AccessTokens).
    this.#api = new analyticsdata_v1beta.Analyticsdata({ fetchImplementation: options.fetch, retry: false });
  }

  /** The request body: `activeUsers` over the last `minutes` minutes, no dimensions. */
  get requestBody(): analyticsdata_v1beta.Schema$RunRealtimeReportRequest {
    return {
      metrics: [{ name: "activeUsers" }],
      // Minutes are counted back from now: 0 is the current minute, so N minutes end N-1 ago.
      minuteRanges: [{ startMinutesAgo: this.#options.minutes - 1, endMinutesAgo: 0 }],
    };
  }

  async activeUsers(accessToken: string, signal: AbortSignal): Promise<number> {
    const res = await this.#api.properties.runRealtimeReport(
      { property: `properties/${this.#options.propertyId}`, requestBody: this.requestBody },
      {
        // Per call rather than per client: the client's global rootUrl would drop a path prefix.
        rootUrl: this.#options.apiRoot,
        headers: { authorization: `Bearer ${accessToken}` },
        signal,
      },
    );
    return activeUsersIn(res.data);
  }
}

/** The `activeUsers` value of a realtime report; a report without rows means nobody is active. */
export function activeUsersIn(report: RealtimeResponse): number {
  if (typeof report !== "object" || report === null) {
    throw new PluginError("Google Analytics answered the realtime report with something that is not a report", {
      hint: "If api_root points at a proxy, check that it forwards to https://analyticsdata.googleapis.com.",
    });
  }
  const rows = report.rows ?? [];
  if (rows.length === 0) return 0;
  const column = (report.metricHeaders ?? []).findIndex((h) => h.name === "activeUsers");
  if (column < 0) throw new PluginError("Google Analytics' realtime report has rows but no activeUsers column");
  let total = 0;
  for (const row of rows) {
    const raw = row.metricValues?.[column]?.value;
    const value = Number(raw);
    if (raw === undefined || raw === null || raw === "" || !Number.isFinite(value) || value < 0) {
      throw new PluginError(
        `Google Analytics' realtime report has an unreadable activeUsers value (${JSON.stringify(raw ?? null)})`,
      );
    }
    total += value;
  }
  return total;
}
