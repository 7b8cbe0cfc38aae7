/**
 * Loopback fakes of Google's OAuth 2.0 token endpoint (service-account JWT bearer grant)
 * and of the Google Analytics Data API's `properties/{id}:runRealtimeReport`.
 *
 * They speak Google's wire format (paths, form-encoded token requests, JSON bodies, the
 * `{"error": ..., "error_description": ...}` OAuth error shape and the
 * `{"error": {"code", "message", "status"}}` API error shape) and they reject what Google
 * rejects: an assertion not signed by the service account's key, a wrong audience, an
 * expired or over-long assertion, a missing or unknown bearer token, a non-JSON body, an
 * unknown metric, a minute range out of bounds, a property the account cannot read.
 */

import { createPublicKey, type KeyObject, randomBytes, verify as verifySignature } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { Agent, type Dispatcher } from "undici";

/** The only audience Google accepts in a service account's token assertion. */
export const GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token";
export const JWT_BEARER_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer";
export const ANALYTICS_READONLY_SCOPE = "https://www.googleapis.com/auth/analytics.readonly";
const ANALYTICS_SCOPE = "https://www.googleapis.com/auth/analytics";

/** Google refuses assertions that live longer than an hour. */
const MAX_ASSERTION_LIFETIME_S = 3600;
/** Leeway Google gives for clock differences between the signer and itself. */
const CLOCK_SKEW_S = 300;

// ---------------------------------------------------------------------------------------
// OAuth token endpoint
// ---------------------------------------------------------------------------------------

export interface FakeServiceAccount {
  clientEmail: string;
  /** The public half of the account's key: what Google keeps to check the assertion's signature. */
  publicKey: KeyObject | string;
}

export interface GoogleOAuthFakeOptions {
  serviceAccounts: FakeServiceAccount[];
  /** Lifetime of issued access tokens, in seconds. @default 3599 (what Google answers) */
  expiresIn?: number;
  /**
   * Clock that decides when an issued access token expires (a test may pass a ManualClock's
   * `now`). Assertions are checked against the wall clock, because google-auth-library stamps
   * their `iat`/`exp` from `Date`.
   * @default Date.now
   */
  now?: () => number;
}

export interface IssuedAccessToken {
  accessToken: string;
  clientEmail: string;
  scopes: string[];
  /** In the fake's clock (`now`). */
  expiresAt: number;
  revoked: boolean;
}

export interface TokenRequestRecord {
  status: number;
  /** `iss` of the assertion, when it could be read. */
  clientEmail?: string;
  /** OAuth error code of a refused request. */
  error?: string;
}

export interface GoogleOAuthFake {
  /** The token endpoint, e.g. `http://127.0.0.1:1234/token`. */
  tokenUrl: string;
  origin: string;
  /** Every request the endpoint answered, in order. */
  requests: TokenRequestRecord[];
  /** Every access token handed out, in order. */
  issued: IssuedAccessToken[];
  /** Lifetime of the next tokens, in seconds. */
  expiresIn: number;
  /** The issued token named by `accessToken` if it is still good (known, unexpired, unrevoked). */
  validToken(accessToken: string): IssuedAccessToken | undefined;
  /** Why a bearer token is refused, or undefined when it is good. */
  tokenProblem(accessToken: string): "unknown" | "expired" | "revoked" | undefined;
  /** Invalidates every token issued so far, as when Google revokes a key's sessions. */
  revokeAll(): void;
  close(): Promise<void>;
}

export async function startGoogleOAuthFake(options: GoogleOAuthFakeOptions): Promise<GoogleOAuthFake> {
  const now = options.now ?? Date.now;
  const accounts = new Map(options.serviceAccounts.map((a) => [a.clientEmail, toPublicKey(a.publicKey)]));
  const requests: TokenRequestRecord[] = [];
  const issued: IssuedAccessToken[] = [];

  const fake = {
    tokenUrl: "",
    origin: "",
    requests,
    issued,
    expiresIn: options.expiresIn ?? 3599,
    validToken(accessToken: string) {
      return fake.tokenProblem(accessToken) ? undefined : issued.find((t) => t.accessToken === accessToken);
    },
    tokenProblem(accessToken: string) {
      const token = issued.find((t) => t.accessToken === accessToken);
      if (!token) return "unknown" as const;
      if (token.revoked) return "revoked" as const;
      if (now() >= token.expiresAt) return "expired" as const;
      return undefined;
    },
    revokeAll() {
      for (const t of issued) t.revoked = true;
    },
    close: async () => {},
  };

  const oauthError = (
    res: ServerResponse,
    status: number,
    error: string,
    description: string,
    clientEmail?: string,
  ) => {
    requests.push({ status, error, ...(clientEmail ? { clientEmail } : {}) });
    sendJson(res, status, { error, error_description: description });
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://fake");
    if (url.pathname !== "/token") return sendHtml404(res);
    if (req.method !== "POST")
      return oauthError(res, 405, "invalid_request", `Method ${req.method} not allowed; use POST.`);
    const body = (await readBody(req)).toString("utf8");
    if (mediaType(req.headers["content-type"]) !== "application/x-www-form-urlencoded") {
      return oauthError(res, 400, "invalid_request", "Request body must be application/x-www-form-urlencoded.");
    }
    const form = new URLSearchParams(body);
    const grantType = form.get("grant_type");
    if (!grantType) return oauthError(res, 400, "invalid_request", "Missing required parameter: grant_type");
    if (grantType !== JWT_BEARER_GRANT_TYPE)
      return oauthError(res, 400, "unsupported_grant_type", `Invalid grant_type: ${grantType}`);
    const assertion = form.get("assertion");
    if (!assertion) return oauthError(res, 400, "invalid_request", "Missing required parameter: assertion");

    const jwt = decodeJwt(assertion);
    if (!jwt) return oauthError(res, 400, "invalid_grant", "Invalid JWT: the assertion is not a well-formed JWS.");
    const iss = typeof jwt.payload.iss === "string" ? jwt.payload.iss : undefined;
    if (jwt.header.alg !== "RS256")
      return oauthError(
        res,
        400,
        "invalid_grant",
        `Invalid JWT: unsupported signing algorithm ${String(jwt.header.alg)}.`,
        iss,
      );
    const publicKey = iss ? accounts.get(iss) : undefined;
    if (!iss || !publicKey) return oauthError(res, 400, "invalid_grant", "Invalid grant: account not found", iss);
    if (!verifySignature("RSA-SHA256", Buffer.from(jwt.signingInput), publicKey, jwt.signature)) {
      return oauthError(res, 400, "invalid_grant", "Invalid JWT Signature.", iss);
    }
    if (jwt.payload.aud !== GOOGLE_TOKEN_AUDIENCE) {
      return oauthError(res, 400, "invalid_grant", `Invalid JWT: audience must be ${GOOGLE_TOKEN_AUDIENCE}.`, iss);
    }
    const { iat, exp } = jwt.payload;
    const wallSeconds = Date.now() / 1000;
    if (
      typeof iat !== "number" ||
      typeof exp !== "number" ||
      exp <= iat ||
      exp - iat > MAX_ASSERTION_LIFETIME_S ||
      iat > wallSeconds + CLOCK_SKEW_S ||
      exp < wallSeconds - CLOCK_SKEW_S
    ) {
      return oauthError(
        res,
        400,
        "invalid_grant",
        "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check the iat and exp values of the assertion.",
        iss,
      );
    }
    const scopes = typeof jwt.payload.scope === "string" ? jwt.payload.scope.split(" ").filter(Boolean) : [];
    if (scopes.length === 0) return oauthError(res, 400, "invalid_scope", "Empty or missing scope not allowed.", iss);

    const token: IssuedAccessToken = {
      accessToken: `ya29.fake-${randomBytes(24).toString("base64url")}`,
      clientEmail: iss,
      scopes,
      expiresAt: now() + fake.expiresIn * 1000,
      revoked: false,
    };
    issued.push(token);
    requests.push({ status: 200, clientEmail: iss });
    sendJson(res, 200, { access_token: token.accessToken, expires_in: fake.expiresIn, token_type: "Bearer" });
  });

  const origin = await listen(server);
  fake.origin = origin;
  fake.tokenUrl = `${origin}/token`;
  fake.close = () => closeServer(server);
  return fake;
}

// ---------------------------------------------------------------------------------------
// Analytics Data API
// ---------------------------------------------------------------------------------------

export interface MinuteRangeQuery {
  startMinutesAgo: number;
  endMinutesAgo: number;
}

export interface FakeProperty {
  /** Numeric GA4 property id. */
  id: string;
  /** Active users for a minute range (a number means the same for every range). */
  activeUsers: number | ((range: MinuteRangeQuery) => number);
  /** Service-account emails granted (at least) Viewer on the property. */
  viewers: string[];
  /** Realtime requests left before the hourly token quota runs out. @default unlimited */
  realtimeTokensLeft?: number;
  /** Analytics 360 properties may look 60 minutes back; standard ones 30. @default false */
  analytics360?: boolean;
}

export interface AnalyticsDataFakeOptions {
  /** Who issued the bearer tokens the API accepts. */
  oauth: GoogleOAuthFake;
  properties: FakeProperty[];
  /** False answers as Google does when the Data API is disabled in the caller's Cloud project. @default true */
  apiEnabled?: boolean;
  /** Serves the API under this path, as behind a reverse proxy (e.g. `/google`). @default "" */
  pathPrefix?: string;
}

export interface DataApiRequestRecord {
  method: string;
  path: string;
  status: number;
  /** The bearer token presented, if any. */
  accessToken?: string;
  /** The parsed JSON body, if it parsed. */
  body?: unknown;
  acceptEncoding?: string;
}

export interface GoogleApiErrorBody {
  code: number;
  message: string;
  status: string;
  details?: unknown[];
}

export interface AnalyticsDataFake {
  /** The API root to configure a client with, e.g. `http://127.0.0.1:1234`. */
  url: string;
  origin: string;
  requests: DataApiRequestRecord[];
  properties: Map<string, FakeProperty>;
  apiEnabled: boolean;
  /** The next report requests fail with these errors (after authentication), one each. */
  failNext(...errors: GoogleApiErrorBody[]): void;
  close(): Promise<void>;
}

const REALTIME_METRICS = new Set(["activeUsers", "screenPageViews", "eventCount", "keyEvents", "conversions"]);
const REPORT_FIELDS = new Set([
  "dimensions",
  "metrics",
  "dimensionFilter",
  "metricFilter",
  "limit",
  "metricAggregations",
  "orderBys",
  "returnPropertyQuota",
  "minuteRanges",
]);

export async function startAnalyticsDataFake(options: AnalyticsDataFakeOptions): Promise<AnalyticsDataFake> {
  const prefix = (options.pathPrefix ?? "").replace(/\/+$/, "");
  const requests: DataApiRequestRecord[] = [];
  const forced: GoogleApiErrorBody[] = [];
  const fake: AnalyticsDataFake = {
    url: "",
    origin: "",
    requests,
    properties: new Map(options.properties.map((p) => [p.id, p])),
    apiEnabled: options.apiEnabled ?? true,
    failNext: (...errors) => forced.push(...errors),
    close: async () => {},
  };

  const server = createServer(async (req, res) => {
    const record: DataApiRequestRecord = { method: req.method ?? "", path: req.url ?? "", status: 0 };
    if (req.headers["accept-encoding"]) record.acceptEncoding = String(req.headers["accept-encoding"]);
    requests.push(record);
    const gzip = /\bgzip\b/.test(record.acceptEncoding ?? "");
    const fail = (error: GoogleApiErrorBody, headers: Record<string, string> = {}) => {
      record.status = error.code;
      sendJson(res, error.code, { error }, { gzip, headers });
    };

    const url = new URL(req.url ?? "/", "http://fake");
    const match = url.pathname.startsWith(`${prefix}/`)
      ? /^\/v1beta\/properties\/([^/:]+):runRealtimeReport$/.exec(url.pathname.slice(prefix.length))
      : null;
    if (!match) {
      record.status = 404;
      return sendHtml404(res);
    }
    if (req.method !== "POST") return fail({ code: 404, message: "Method not found.", status: "NOT_FOUND" });
    const raw = await readBody(req);

    const authorization = req.headers.authorization;
    const bearer = authorization?.startsWith("Bearer ") ? authorization.slice("Bearer ".length) : undefined;
    if (!bearer) {
      return fail(
        {
          code: 401,
          message:
            "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
          status: "UNAUTHENTICATED",
          details: [errorInfo("CREDENTIALS_MISSING")],
        },
        { "www-authenticate": 'Bearer realm="https://accounts.google.com/"' },
      );
    }
    record.accessToken = bearer;
    const problem = options.oauth.tokenProblem(bearer);
    const token = options.oauth.validToken(bearer);
    if (problem || !token) {
      return fail(
        {
          code: 401,
          message:
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
          status: "UNAUTHENTICATED",
          details: [errorInfo(problem === "expired" ? "ACCESS_TOKEN_EXPIRED" : "ACCESS_TOKEN_TYPE_UNSUPPORTED")],
        },
        { "www-authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"' },
      );
    }
    if (!token.scopes.some((s) => s === ANALYTICS_READONLY_SCOPE || s === ANALYTICS_SCOPE)) {
      return fail({
        code: 403,
        message: "Request had insufficient authentication scopes.",
        status: "PERMISSION_DENIED",
        details: [errorInfo("ACCESS_TOKEN_SCOPE_INSUFFICIENT")],
      });
    }
    if (!fake.apiEnabled) {
      return fail({
        code: 403,
        message:
          "Google Analytics Data API has not been used in project 123456789012 before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/analyticsdata.googleapis.com/overview?project=123456789012 then retry.",
        status: "PERMISSION_DENIED",
        details: [errorInfo("SERVICE_DISABLED")],
      });
    }

    if (mediaType(req.headers["content-type"]) !== "application/json") {
      return fail({
        code: 400,
        message: "Invalid JSON payload received. Expected a JSON request body.",
        status: "INVALID_ARGUMENT",
      });
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString("utf8"));
    } catch {
      return fail({
        code: 400,
        message: "Invalid JSON payload received. Unexpected token.",
        status: "INVALID_ARGUMENT",
      });
    }
    record.body = body;

    const propertyId = match[1] ?? "";
    if (!/^\d+$/.test(propertyId)) {
      return fail({
        code: 400,
        message: `Invalid property ID: ${propertyId}. A numeric Property ID is required. To learn more about Property ID, see https://developers.google.com/analytics/devguides/reporting/data/v1/property-id.`,
        status: "INVALID_ARGUMENT",
      });
    }
    const property = fake.properties.get(propertyId);
    // Google does not tell "no such property" from "no access": both are a 403.
    if (!property?.viewers.includes(token.clientEmail)) {
      return fail({
        code: 403,
        message:
          "User does not have sufficient permissions for this property. To learn more about Property ID, see https://developers.google.com/analytics/devguides/reporting/data/v1/property-id.",
        status: "PERMISSION_DENIED",
      });
    }

    const invalid = invalidReport(body, property.analytics360 ? 59 : 29);
    if (invalid) return fail({ code: 400, message: invalid, status: "INVALID_ARGUMENT" });

    const next = forced.shift();
    if (next) return fail(next);
    if (property.realtimeTokensLeft !== undefined) {
      if (property.realtimeTokensLeft <= 0) {
        return fail({
          code: 429,
          message: "Exhausted property tokens per hour. These quota tokens will return in under an hour.",
          status: "RESOURCE_EXHAUSTED",
        });
      }
      property.realtimeTokensLeft--;
    }

    const report = body as {
      metrics: { name: string }[];
      minuteRanges?: { startMinutesAgo?: number; endMinutesAgo?: number; name?: string }[];
    };
    const ranges: MinuteRangeQuery[] = (report.minuteRanges?.length ? report.minuteRanges : [{}]).map((r) => ({
      startMinutesAgo: r.startMinutesAgo ?? 29,
      endMinutesAgo: r.endMinutesAgo ?? 0,
    }));
    // Without dimensions a report has one row per minute range, and none when every value is 0.
    // With two minute ranges Google adds a `dateRange` dimension naming the range of each row.
    const rows = ranges
      .map((range, i) => ({
        name: report.minuteRanges?.[i]?.name ?? `date_range_${i}`,
        values: report.metrics.map((m) => (m.name === "activeUsers" ? activeUsersOf(property, range) : 0)),
      }))
      .filter((row) => row.values.some((v) => v > 0))
      .map((row) => ({
        ...(ranges.length > 1 ? { dimensionValues: [{ value: row.name }] } : {}),
        metricValues: row.values.map((v) => ({ value: String(v) })),
      }));
    // proto3 JSON leaves out empty lists and zero numbers, so an empty report has no `rows` and no `rowCount`.
    record.status = 200;
    sendJson(
      res,
      200,
      {
        ...(ranges.length > 1 ? { dimensionHeaders: [{ name: "dateRange" }] } : {}),
        metricHeaders: report.metrics.map((m) => ({ name: m.name, type: "TYPE_INTEGER" })),
        ...(rows.length > 0 ? { rows, rowCount: rows.length } : {}),
        kind: "analyticsData#runRealtimeReport",
      },
      { gzip },
    );
  });

  const origin = await listen(server);
  fake.origin = origin;
  fake.url = `${origin}${prefix}`;
  fake.close = () => closeServer(server);
  return fake;
}

function activeUsersOf(property: FakeProperty, range: MinuteRangeQuery): number {
  return typeof property.activeUsers === "function" ? property.activeUsers(range) : property.activeUsers;
}

/** What Google would say about a RunRealtimeReportRequest body, or undefined when it is acceptable. */
function invalidReport(body: unknown, maxMinutesAgo: number): string | undefined {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    return "Invalid JSON payload received. Expected an object.";
  for (const key of Object.keys(body)) {
    if (!REPORT_FIELDS.has(key)) return `Invalid JSON payload received. Unknown name "${key}": Cannot find field.`;
  }
  const report = body as Record<string, unknown>;
  if (report.dimensions !== undefined) return "This fake implements reports without dimensions only.";
  const metrics = report.metrics;
  if (!Array.isArray(metrics) || metrics.length === 0) return "Must specify at least one metric.";
  for (const m of metrics) {
    const name = (m as { name?: unknown })?.name;
    if (typeof name !== "string" || !REALTIME_METRICS.has(name)) {
      return `Field ${String(name)} is not a valid metric. For a list of valid dimensions and metrics, see https://developers.google.com/analytics/devguides/reporting/data/v1/realtime-api-schema`;
    }
  }
  const ranges = report.minuteRanges;
  if (ranges === undefined) return undefined;
  if (!Array.isArray(ranges)) return "Invalid JSON payload received. minuteRanges must be a list.";
  if (ranges.length > 2) return "Requests are allowed up to 2 minute ranges.";
  for (const r of ranges) {
    const { startMinutesAgo = 29, endMinutesAgo = 0, ...rest } = (r ?? {}) as Record<string, unknown>;
    const unknown = Object.keys(rest).find((k) => k !== "name");
    if (unknown)
      return `Invalid JSON payload received. Unknown name "${unknown}" at 'minute_ranges': Cannot find field.`;
    if (!Number.isInteger(startMinutesAgo) || !Number.isInteger(endMinutesAgo))
      return "minuteRanges values must be integers.";
    const start = startMinutesAgo as number;
    const end = endMinutesAgo as number;
    if (start < 0 || end < 0) return "minuteRanges values must not be negative.";
    if (start > maxMinutesAgo || end > maxMinutesAgo) {
      return `A minute range cannot start more than ${maxMinutesAgo} minutes ago for this property (startMinutesAgo <= ${maxMinutesAgo}).`;
    }
    if (start < end) return "A minute range's startMinutesAgo cannot be after its endMinutesAgo.";
  }
  return undefined;
}

function errorInfo(reason: string) {
  return { "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason, domain: "googleapis.com" };
}

// ---------------------------------------------------------------------------------------
// Routing dispatcher
// ---------------------------------------------------------------------------------------

export interface DispatchRecord {
  /** The origin the client asked for, before any rerouting. */
  origin: string;
  method: string;
  path: string;
}

export interface RoutingDispatcher {
  /** Hand this to the code under test as its `ctx.http`. */
  dispatcher: Dispatcher;
  /** Every request that went through `dispatcher`. */
  calls: DispatchRecord[];
  close(): Promise<void>;
}

/**
 * An undici dispatcher that sends requests for some origins elsewhere (e.g. Google's real
 * hostnames to the loopback fakes), as a corporate proxy would, and records every request.
 * A request that does not go through it reaches neither the fakes nor its `calls`.
 */
export function routingDispatcher(routes: Record<string, string> = {}): RoutingDispatcher {
  const agent = new Agent();
  const calls: DispatchRecord[] = [];
  const dispatcher = agent.compose((dispatch) => (opts, handler) => {
    const origin = new URL(String(opts.origin)).origin;
    calls.push({ origin, method: opts.method, path: opts.path });
    return dispatch({ ...opts, origin: routes[origin] ?? origin }, handler);
  });
  return { dispatcher, calls, close: () => agent.close() };
}

// ---------------------------------------------------------------------------------------
// HTTP plumbing
// ---------------------------------------------------------------------------------------

function toPublicKey(key: KeyObject | string): KeyObject {
  return typeof key === "string" ? createPublicKey(key) : key.type === "private" ? createPublicKey(key) : key;
}

interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

function decodeJwt(assertion: string): DecodedJwt | undefined {
  const parts = assertion.split(".");
  if (parts.length !== 3) return undefined;
  const [h, p, s] = parts as [string, string, string];
  try {
    const header = JSON.parse(Buffer.from(h, "base64url").toString("utf8"));
    const payload = JSON.parse(Buffer.from(p, "base64url").toString("utf8"));
    if (typeof header !== "object" || header === null || typeof payload !== "object" || payload === null)
      return undefined;
    return { header, payload, signingInput: `${h}.${p}`, signature: Buffer.from(s, "base64url") };
  } catch {
    return undefined;
  }
}

function mediaType(contentType: string | undefined): string {
  return (contentType?.split(";")[0] ?? "").trim().toLowerCase();
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  options: { gzip?: boolean; headers?: Record<string, string> } = {},
) {
  let payload = Buffer.from(JSON.stringify(body));
  const headers: Record<string, string> = {
    "content-type": "application/json; charset=UTF-8",
    vary: "Origin, X-Origin, Referer",
    ...options.headers,
  };
  if (options.gzip) {
    payload = gzipSync(payload);
    headers["content-encoding"] = "gzip";
  }
  headers["content-length"] = String(payload.length);
  res.writeHead(status, headers).end(payload);
}

function sendHtml404(res: ServerResponse) {
  const page =
    "<!DOCTYPE html>\n<html lang=en><title>Error 404 (Not Found)!!1</title><p><b>404.</b> <ins>That's an error.</ins></html>";
  res
    .writeHead(404, { "content-type": "text/html; charset=UTF-8", "content-length": String(Buffer.byteLength(page)) })
    .end(page);
}

async function listen(server: ReturnType<typeof createServer>): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

function closeServer(server: ReturnType<typeof createServer>): Promise<void> {
  if (!server.listening) return Promise.resolve();
  server.closeAllConnections();
  return new Promise((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
}
