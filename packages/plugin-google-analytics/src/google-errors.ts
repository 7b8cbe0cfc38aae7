import { PluginError } from "@dynosaur/core";

/**
 * Turns what gaxios throws into PluginErrors that say what to do. Only Google's own
 * message text and our config values go into them: never the request (it carries the
 * bearer token or the signed assertion), so the original error is not kept as `cause`.
 */

interface Failure {
  /** HTTP status, when a response came back. */
  status: number | undefined;
  /** The parsed response body, when there was one. */
  body: unknown;
  /** Network-level error code (ECONNREFUSED...), when no response came back. */
  code: string | undefined;
  message: string;
}

function failureOf(e: unknown): Failure {
  const err = (typeof e === "object" && e !== null ? e : {}) as {
    response?: { status?: unknown; data?: unknown };
    status?: unknown;
    code?: unknown;
    cause?: { code?: unknown; message?: unknown };
    message?: unknown;
  };
  const status =
    typeof err.response?.status === "number"
      ? err.response.status
      : typeof err.status === "number"
        ? err.status
        : undefined;
  const code =
    typeof err.code === "string" ? err.code : typeof err.cause?.code === "string" ? err.cause.code : undefined;
  return { status, body: err.response?.data, code, message: typeof err.message === "string" ? err.message : String(e) };
}

/** The HTTP status of a failed request, if it got a response. */
export function statusOf(e: unknown): number | undefined {
  return failureOf(e).status;
}

interface GoogleApiError {
  code?: number;
  message?: string;
  status?: string;
  details?: { reason?: string }[];
}

function apiErrorOf(body: unknown): GoogleApiError {
  const error = (body as { error?: unknown } | undefined)?.error;
  return typeof error === "object" && error !== null ? (error as GoogleApiError) : {};
}

function said(status: number, api: GoogleApiError): string {
  const label = api.status ? `${status} ${api.status}` : String(status);
  return api.message ? `${label}: ${api.message}` : label;
}

export interface ReportContext {
  propertyId: string;
  clientEmail: string;
  apiRoot: string;
  /** Seconds between polls. */
  interval: number;
  minutes: number;
}

/** A failed `runRealtimeReport`. */
export function reportError(e: unknown, ctx: ReportContext): PluginError {
  const failure = failureOf(e);
  const { status } = failure;
  if (status === undefined) {
    return new PluginError(
      `could not reach the Google Analytics Data API at ${ctx.apiRoot} (${failure.code ?? failure.message})`,
      {
        hint: "Check the network (and proxy) between this app and Google; if api_root is set, check it. The next poll tries again.",
      },
    );
  }
  const api = apiErrorOf(failure.body);
  const reasons = (api.details ?? []).map((d) => d?.reason);
  const property = `GA4 property ${ctx.propertyId}`;
  const whereIsTheId = `property_id is ${ctx.propertyId}; the right id is the number under Admin > Property settings of the GA4 property (not a G- measurement id, not a Universal Analytics view id).`;

  if (status === 401) {
    return new PluginError(`Google rejected a fresh access token for ${ctx.clientEmail} (${said(status, api)})`, {
      hint: "Check that the service account and its key still exist in Google Cloud (IAM & Admin > Service accounts) and that this machine's clock is right.",
    });
  }
  if (
    status === 403 &&
    (reasons.includes("SERVICE_DISABLED") || /has not been used in project|is disabled/i.test(api.message ?? ""))
  ) {
    return new PluginError(
      `the Google Analytics Data API is disabled in the Google Cloud project of ${ctx.clientEmail} (${said(status, api)})`,
      {
        hint: "Enable it in Google Cloud: APIs & Services > Library > Google Analytics Data API > Enable (Google's message above has the link), then wait a few minutes.",
      },
    );
  }
  if (status === 403) {
    return new PluginError(`service account ${ctx.clientEmail} may not read ${property} (${said(status, api)})`, {
      hint:
        `In Google Analytics, Admin > Property access management of property ${ctx.propertyId}, add ${ctx.clientEmail} with the Viewer role. ` +
        `If it is there already, check property_id: Google answers 403 for a property that does not exist too. ${whereIsTheId}`,
    });
  }
  if (status === 404) {
    return new PluginError(`Google Analytics has no ${property} (${said(status, api)})`, { hint: whereIsTheId });
  }
  if (status === 400) {
    return new PluginError(`Google Analytics refused the realtime report for ${property} (${said(status, api)})`, {
      hint: `${whereIsTheId} Also check that minutes (${ctx.minutes}) fits the property's realtime window (30 minutes for standard properties).`,
    });
  }
  if (status === 429) {
    const quota = /Exhausted (.+?)(?: quota)?\./i.exec(api.message ?? "")?.[1];
    return new PluginError(
      `Google Analytics ${quota ? `quota "${quota}"` : "realtime quota"} is exhausted for ${property} (${said(status, api)})`,
      {
        hint:
          `Dynosaur keeps the last reading and backs off until the next poll (in ${ctx.interval} s). ` +
          "The quota belongs to the property and is shared by every app reading it; if this recurs, raise interval.",
      },
    );
  }
  if (status >= 500) {
    return new PluginError(`the Google Analytics Data API failed (${said(status, api)})`, {
      hint: "A Google-side error: the next poll tries again.",
    });
  }
  return new PluginError(`the Google Analytics Data API answered ${said(status, api)}`);
}

export interface TokenContext {
  tokenUrl: string;
  clientEmail: string;
}

/** A failed access-token request. */
export function tokenError(e: unknown, ctx: TokenContext): PluginError {
  const failure = failureOf(e);
  if (failure.status === undefined) {
    return new PluginError(`could not get an access token from ${ctx.tokenUrl} (${failure.code ?? failure.message})`, {
      hint: "Check the network (and proxy) between this app and Google; if token_url is set, check it. The next poll tries again.",
    });
  }
  const body = (typeof failure.body === "object" && failure.body !== null ? failure.body : {}) as {
    error?: unknown;
    error_description?: unknown;
  };
  const error = typeof body.error === "string" ? body.error : undefined;
  const description = typeof body.error_description === "string" ? body.error_description : undefined;
  const detail = error ? `${failure.status} ${error}${description ? `: ${description}` : ""}` : String(failure.status);
  const message = `Google refused an access token for service account ${ctx.clientEmail} (${detail})`;
  if (error === "invalid_grant") {
    if (/account not found/i.test(description ?? "")) {
      return new PluginError(message, {
        hint: "client_email names no service account: copy it from the service account's JSON key file.",
      });
    }
    if (/iat|exp|timeframe|short-lived/i.test(description ?? "")) {
      return new PluginError(message, {
        hint: "This machine's clock is off: sync it (NTP) so the signed assertion is in Google's time window.",
      });
    }
    return new PluginError(message, {
      hint:
        "The key does not belong to client_email, or it was deleted or disabled: check both come from the same JSON key file, " +
        "or create a new key (Google Cloud > IAM & Admin > Service accounts > Keys).",
    });
  }
  if (failure.status >= 500)
    return new PluginError(message, { hint: "A Google-side error: the next poll tries again." });
  return new PluginError(message, {
    hint: "Check client_email and key (or key_file); if token_url is set, check it points at Google's token endpoint.",
  });
}
