// The fakes must refuse what Google refuses, or the plugin tests prove nothing.
import { type KeyObject, sign } from "node:crypto";
import { ManualClock } from "@dynosaur/core";
import {
  ANALYTICS_READONLY_SCOPE,
  type AnalyticsDataFake,
  GOOGLE_TOKEN_AUDIENCE,
  type GoogleOAuthFake,
  JWT_BEARER_GRANT_TYPE,
  startAnalyticsDataFake,
  startGoogleOAuthFake,
} from "@dynosaur/fakes/google";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLIENT_EMAIL, KEY, PROPERTY_ID, rsaKey } from "./helpers.js";

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

function assertion(
  claims: Record<string, unknown> = {},
  options: { key?: KeyObject | string; alg?: string } = {},
): string {
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    iss: CLIENT_EMAIL,
    scope: ANALYTICS_READONLY_SCOPE,
    aud: GOOGLE_TOKEN_AUDIENCE,
    iat: now,
    exp: now + 3600,
    ...claims,
  };
  const input = `${b64({ alg: options.alg ?? "RS256", typ: "JWT" })}.${b64(payload)}`;
  return `${input}.${sign("RSA-SHA256", Buffer.from(input), options.key ?? KEY.pem).toString("base64url")}`;
}

let oauth: GoogleOAuthFake;
let api: AnalyticsDataFake;
const clock = new ManualClock();
beforeAll(async () => {
  oauth = await startGoogleOAuthFake({
    serviceAccounts: [{ clientEmail: CLIENT_EMAIL, publicKey: KEY.publicKey }],
    now: () => clock.now(),
  });
  api = await startAnalyticsDataFake({
    oauth,
    properties: [
      { id: PROPERTY_ID, activeUsers: 42, viewers: [CLIENT_EMAIL] },
      { id: "222", activeUsers: 0, viewers: [CLIENT_EMAIL] },
      { id: "360", activeUsers: 9, viewers: [CLIENT_EMAIL], analytics360: true },
    ],
  });
});
afterAll(async () => {
  await Promise.all([oauth.close(), api.close()]);
});

async function tokenRequest(body: string, contentType = "application/x-www-form-urlencoded") {
  const res = await fetch(oauth.tokenUrl, { method: "POST", headers: { "content-type": contentType }, body });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

describe("OAuth token endpoint fake", () => {
  it("trades a correctly signed assertion for a bearer token", async () => {
    const res = await tokenRequest(form({ grant_type: JWT_BEARER_GRANT_TYPE, assertion: assertion() }));
    expect(res).toEqual({
      status: 200,
      body: { access_token: expect.stringMatching(/^ya29\./), expires_in: 3599, token_type: "Bearer" },
    });
  });

  const refusals: [string, () => [string, string?], number, string, RegExp?][] = [
    [
      "a JSON body",
      () => [JSON.stringify({ grant_type: JWT_BEARER_GRANT_TYPE, assertion: assertion() }), "application/json"],
      400,
      "invalid_request",
    ],
    [
      "another grant type",
      () => [form({ grant_type: "client_credentials", assertion: assertion() })],
      400,
      "unsupported_grant_type",
    ],
    ["a missing assertion", () => [form({ grant_type: JWT_BEARER_GRANT_TYPE })], 400, "invalid_request"],
    [
      "an assertion signed by another key",
      () => [form({ grant_type: JWT_BEARER_GRANT_TYPE, assertion: assertion({}, { key: rsaKey().pem }) })],
      400,
      "invalid_grant",
      /Signature/,
    ],
    [
      "an unknown account",
      () => [
        form({ grant_type: JWT_BEARER_GRANT_TYPE, assertion: assertion({ iss: "nobody@x.iam.gserviceaccount.com" }) }),
      ],
      400,
      "invalid_grant",
      /account not found/,
    ],
    [
      "another audience",
      () => [form({ grant_type: JWT_BEARER_GRANT_TYPE, assertion: assertion({ aud: "https://example.com/token" }) })],
      400,
      "invalid_grant",
      /audience/,
    ],
    [
      "an assertion living over an hour",
      () => [
        form({
          grant_type: JWT_BEARER_GRANT_TYPE,
          assertion: assertion({ exp: Math.floor(Date.now() / 1000) + 7200 }),
        }),
      ],
      400,
      "invalid_grant",
      /short-lived/,
    ],
    [
      "an expired assertion",
      () => {
        const past = Math.floor(Date.now() / 1000) - 7200;
        return [form({ grant_type: JWT_BEARER_GRANT_TYPE, assertion: assertion({ iat: past, exp: past + 3600 }) })];
      },
      400,
      "invalid_grant",
    ],
    [
      "an HS256 assertion",
      () => [form({ grant_type: JWT_BEARER_GRANT_TYPE, assertion: assertion({}, { alg: "HS256" }) })],
      400,
      "invalid_grant",
    ],
    [
      "an assertion without scope",
      () => [form({ grant_type: JWT_BEARER_GRANT_TYPE, assertion: assertion({ scope: undefined }) })],
      400,
      "invalid_scope",
    ],
  ];
  for (const [name, make, status, error, description] of refusals) {
    it(`refuses ${name}`, async () => {
      const [body, contentType] = make();
      const res = await tokenRequest(body, contentType);
      expect(res.status).toBe(status);
      expect(res.body).toEqual({ error, error_description: expect.stringMatching(description ?? /./) });
    });
  }

  it("issues tokens that expire by its clock", async () => {
    const res = await tokenRequest(form({ grant_type: JWT_BEARER_GRANT_TYPE, assertion: assertion() }));
    const token = String(res.body.access_token);
    expect(oauth.tokenProblem(token)).toBeUndefined();
    clock.advance(3599_000);
    expect(oauth.tokenProblem(token)).toBe("expired");
  });
});

describe("Analytics Data API fake", () => {
  let token: string;
  beforeAll(async () => {
    token = String(
      (await tokenRequest(form({ grant_type: JWT_BEARER_GRANT_TYPE, assertion: assertion() }))).body.access_token,
    );
  });
  const report = async (
    body: unknown,
    options: { property?: string; headers?: Record<string, string>; method?: string } = {},
  ) => {
    const res = await fetch(`${api.url}/v1beta/properties/${options.property ?? PROPERTY_ID}:runRealtimeReport`, {
      method: options.method ?? "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...options.headers },
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: res.headers.get("content-type")?.includes("json") ? JSON.parse(text) : text };
  };
  const activeUsers = { metrics: [{ name: "activeUsers" }], minuteRanges: [{ startMinutesAgo: 4, endMinutesAgo: 0 }] };

  it("answers in the Data API's response shape", async () => {
    expect(await report(activeUsers)).toEqual({
      status: 200,
      body: {
        metricHeaders: [{ name: "activeUsers", type: "TYPE_INTEGER" }],
        rows: [{ metricValues: [{ value: "42" }] }],
        rowCount: 1,
        kind: "analyticsData#runRealtimeReport",
      },
    });
  });

  it("leaves rows and rowCount out of an empty report", async () => {
    expect(await report(activeUsers, { property: "222" })).toEqual({
      status: 200,
      body: { metricHeaders: [{ name: "activeUsers", type: "TYPE_INTEGER" }], kind: "analyticsData#runRealtimeReport" },
    });
  });

  const errors: [string, () => Promise<{ status: number; body: unknown }>, number, string][] = [
    [
      "a request without a token",
      () => report(activeUsers, { headers: { authorization: "" } }),
      401,
      "UNAUTHENTICATED",
    ],
    [
      "an unknown token",
      () => report(activeUsers, { headers: { authorization: "Bearer ya29.forged" } }),
      401,
      "UNAUTHENTICATED",
    ],
    [
      "a body that is not JSON",
      () => report("metrics=activeUsers", { headers: { "content-type": "application/x-www-form-urlencoded" } }),
      400,
      "INVALID_ARGUMENT",
    ],
    ["an unknown metric", () => report({ metrics: [{ name: "activeUserz" }] }), 400, "INVALID_ARGUMENT"],
    ["an unknown field", () => report({ ...activeUsers, dateRanges: [] }), 400, "INVALID_ARGUMENT"],
    ["no metric", () => report({ minuteRanges: activeUsers.minuteRanges }), 400, "INVALID_ARGUMENT"],
    [
      "a window over 30 minutes on a standard property",
      () => report({ ...activeUsers, minuteRanges: [{ startMinutesAgo: 30 }] }),
      400,
      "INVALID_ARGUMENT",
    ],
    [
      "a window that ends before it starts",
      () => report({ ...activeUsers, minuteRanges: [{ startMinutesAgo: 2, endMinutesAgo: 5 }] }),
      400,
      "INVALID_ARGUMENT",
    ],
    ["a non-numeric property id", () => report(activeUsers, { property: "G-ABC123" }), 400, "INVALID_ARGUMENT"],
    [
      "a property the account cannot read",
      () => report(activeUsers, { property: "987654321" }),
      403,
      "PERMISSION_DENIED",
    ],
  ];
  for (const [name, send, code, status] of errors) {
    it(`refuses ${name} with Google's error shape`, async () => {
      const res = await send();
      expect(res.status).toBe(code);
      expect(res.body).toEqual({ error: expect.objectContaining({ code, message: expect.any(String), status }) });
    });
  }

  it("lets Analytics 360 properties look back an hour", async () => {
    expect(
      (await report({ ...activeUsers, minuteRanges: [{ startMinutesAgo: 59 }] }, { property: "360" })).status,
    ).toBe(200);
  });

  it("refuses a token without an Analytics scope", async () => {
    const other = await tokenRequest(
      form({
        grant_type: JWT_BEARER_GRANT_TYPE,
        assertion: assertion({ scope: "https://www.googleapis.com/auth/drive" }),
      }),
    );
    const res = await report(activeUsers, { headers: { authorization: `Bearer ${other.body.access_token}` } });
    expect(res).toMatchObject({
      status: 403,
      body: { error: { status: "PERMISSION_DENIED", message: expect.stringMatching(/scopes/) } },
    });
  });

  it("serves nothing but runRealtimeReport over POST", async () => {
    expect((await report(undefined, { method: "GET" })).status).toBe(404);
    const res = await fetch(`${api.url}/v1beta/properties/${PROPERTY_ID}:runReport`, { method: "POST" });
    expect(res.status).toBe(404);
  });
});
