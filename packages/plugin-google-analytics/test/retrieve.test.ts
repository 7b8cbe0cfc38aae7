import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { inspect } from "node:util";
import { DynosaurError, PluginError } from "@dynosaur/core";
import { afterEach, describe, expect, it } from "vitest";
import {
  CLIENT_EMAIL,
  KEY,
  keyFragments,
  NEVER,
  PROPERTY_ID,
  rsaKey,
  startWorld,
  type World,
  type WorldOptions,
} from "./helpers.js";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});
const start = async (options?: WorldOptions) => {
  world = await startWorld(options);
  return world;
};

/** The rejection of `promise`, which must reject. */
async function failure(promise: Promise<unknown>): Promise<DynosaurError> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!("error" in outcome)) throw new Error(`expected a failure, got ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(DynosaurError);
  return outcome.error as DynosaurError;
}

describe("reading realtime active users", () => {
  it("reads activeUsers of the last 5 minutes and turns them into dynos", async () => {
    const w = await start();
    const instance = await w.create({ users_per_dyno: 50 });

    const users = await instance.retrieve(NEVER);

    expect(users).toBe(312);
    expect(instance.estimateDynos(312)).toBe(7);
    expect(w.oauth.requests).toEqual([{ status: 200, clientEmail: CLIENT_EMAIL }]);
    const [request] = w.api.requests;
    expect(request).toMatchObject({
      method: "POST",
      path: `/v1beta/properties/${PROPERTY_ID}:runRealtimeReport`,
      status: 200,
    });
    expect(request?.body).toEqual({
      metrics: [{ name: "activeUsers" }],
      minuteRanges: [{ startMinutesAgo: 4, endMinutesAgo: 0 }],
    });
    expect(request?.accessToken).toBe(w.oauth.issued[0]?.accessToken);
    // The fake gzips for clients that accept it, as Google does: the reading above decoded it.
    expect(request?.acceptEncoding).toMatch(/gzip/);
    expect(w.http.calls.map((c) => `${c.method} ${c.origin}${c.path}`)).toEqual([
      `POST ${w.oauth.origin}/token`,
      `POST ${w.api.origin}/v1beta/properties/${PROPERTY_ID}:runRealtimeReport`,
    ]);
  });

  it("counts users over the configured window", async () => {
    const w = await start({
      properties: [
        {
          id: PROPERTY_ID,
          viewers: [CLIENT_EMAIL],
          activeUsers: (r) => (r.startMinutesAgo + 1) * 100 + r.endMinutesAgo,
        },
      ],
    });
    const instance = await w.create({ minutes: 10 });

    expect(await instance.retrieve(NEVER)).toBe(1000);
    expect(w.api.requests[0]?.body).toMatchObject({ minuteRanges: [{ startMinutesAgo: 9, endMinutesAgo: 0 }] });
  });

  it("reads a report without rows as 0 active users", async () => {
    const w = await start({ properties: [{ id: PROPERTY_ID, activeUsers: 0, viewers: [CLIENT_EMAIL] }] });
    const instance = await w.create();

    const users = await instance.retrieve(NEVER);

    expect(users).toBe(0);
    expect(instance.estimateDynos(0)).toBe(0);
    expect(w.api.requests[0]?.status).toBe(200);
  });

  it("accepts property_id as a string or as properties/ID", async () => {
    const w = await start();
    for (const property_id of [PROPERTY_ID, `properties/${PROPERTY_ID}`]) {
      const instance = await w.create({ property_id });
      expect(await instance.retrieve(NEVER)).toBe(312);
    }
    expect(w.api.requests.map((r) => r.path)).toEqual([
      `/v1beta/properties/${PROPERTY_ID}:runRealtimeReport`,
      `/v1beta/properties/${PROPERTY_ID}:runRealtimeReport`,
    ]);
  });

  it("keeps a path prefix of api_root, as behind a reverse proxy", async () => {
    const w = await start({ pathPrefix: "/google/analytics" });
    const instance = await w.create();

    expect(await instance.retrieve(NEVER)).toBe(312);
    expect(w.api.requests[0]?.path).toBe(`/google/analytics/v1beta/properties/${PROPERTY_ID}:runRealtimeReport`);
  });
});

describe("HTTP goes through ctx.http", () => {
  it("sends Google's default endpoints through the dispatcher core hands the plugin", async () => {
    // No api_root/token_url: the plugin talks to Google's real hostnames, and only the
    // dispatcher knows to route them to the fakes. A request that bypassed it would miss both.
    const w = await start({
      routes: (oauth, api) => ({
        "https://oauth2.googleapis.com": oauth.origin,
        "https://analyticsdata.googleapis.com": api.origin,
      }),
    });
    const instance = await w.create({ api_root: undefined, token_url: undefined });

    expect(await instance.retrieve(NEVER)).toBe(312);
    expect(w.http.calls).toEqual([
      { origin: "https://oauth2.googleapis.com", method: "POST", path: "/token" },
      {
        origin: "https://analyticsdata.googleapis.com",
        method: "POST",
        path: `/v1beta/properties/${PROPERTY_ID}:runRealtimeReport`,
      },
    ]);
    expect(w.oauth.requests).toHaveLength(1);
    expect(w.api.requests).toHaveLength(1);
  });
});

describe("access tokens", () => {
  it("reuses a token across polls while it is valid", async () => {
    const w = await start();
    const instance = await w.create();

    await instance.retrieve(NEVER);
    w.clock.advance(60_000);
    await instance.retrieve(NEVER);

    expect(w.oauth.requests).toHaveLength(1);
    expect(w.api.requests.map((r) => r.accessToken)).toEqual([
      w.oauth.issued[0]?.accessToken,
      w.oauth.issued[0]?.accessToken,
    ]);
  });

  it("gets a new token before the old one expires, by the scaler's clock", async () => {
    const w = await start({ expiresIn: 3600 });
    const instance = await w.create();

    await instance.retrieve(NEVER);
    w.clock.advance(54 * 60_000); // 6 minutes left: still used
    await instance.retrieve(NEVER);
    expect(w.oauth.requests).toHaveLength(1);

    w.clock.advance(2 * 60_000); // 4 minutes left: renewed ahead of expiry
    await instance.retrieve(NEVER);
    expect(w.oauth.requests).toHaveLength(2);

    w.clock.advance(10 * 60_000); // the first token is dead by now; the second is in use
    await instance.retrieve(NEVER);

    expect(w.oauth.requests).toHaveLength(2);
    expect(w.oauth.tokenProblem(w.oauth.issued[0]?.accessToken ?? "")).toBe("expired");
    expect(w.api.requests.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(w.api.requests.map((r) => r.accessToken)).toEqual([
      w.oauth.issued[0]?.accessToken,
      w.oauth.issued[0]?.accessToken,
      w.oauth.issued[1]?.accessToken,
      w.oauth.issued[1]?.accessToken,
    ]);
  });

  it("on a 401 gets a new token and retries once", async () => {
    const w = await start();
    const instance = await w.create();
    await instance.retrieve(NEVER);

    w.oauth.revokeAll();
    const users = await instance.retrieve(NEVER);

    expect(users).toBe(312);
    expect(w.oauth.requests).toHaveLength(2);
    expect(w.api.requests.map((r) => r.status)).toEqual([200, 401, 200]);
    expect(w.api.requests[2]?.accessToken).toBe(w.oauth.issued[1]?.accessToken);
    expect(w.logger.records.some((r) => r.level === "warn" && /401/.test(r.message))).toBe(true);
  });

  it("gives up after one retry when the new token is refused too", async () => {
    // Tokens that are dead on arrival: every one gets a 401.
    const w = await start({ expiresIn: 0 });
    const instance = await w.create();

    const error = await failure(instance.retrieve(NEVER));

    expect(error).toBeInstanceOf(PluginError);
    expect(error.message).toContain("401 UNAUTHENTICATED");
    expect(error.message).toContain(CLIENT_EMAIL);
    expect(w.api.requests.map((r) => r.status)).toEqual([401, 401]);
    expect(w.oauth.requests).toHaveLength(2);
  });

  it("says what to fix when Google refuses the assertion's signature", async () => {
    const w = await start({ publicKey: rsaKey().publicKey });
    const instance = await w.create();

    const error = await failure(instance.retrieve(NEVER));

    expect(error.message).toContain("invalid_grant: Invalid JWT Signature.");
    expect(error.message).toContain(CLIENT_EMAIL);
    expect(error.hint).toMatch(/same JSON key file|new key/);
    expect(w.oauth.requests).toEqual([{ status: 400, error: "invalid_grant", clientEmail: CLIENT_EMAIL }]);
    expect(w.api.requests).toHaveLength(0);
  });

  it("says when client_email names no service account", async () => {
    const w = await start();
    const instance = await w.create({ client_email: "typo@acme-web.iam.gserviceaccount.com" });

    const error = await failure(instance.retrieve(NEVER));

    expect(error.message).toContain("account not found");
    expect(error.hint).toMatch(/client_email/);
  });
});

describe("errors a user can act on", () => {
  it("403: names the service account to add as Viewer of the property", async () => {
    const w = await start({ properties: [{ id: PROPERTY_ID, activeUsers: 5, viewers: [] }] });
    const instance = await w.create();

    const error = await failure(instance.retrieve(NEVER));

    expect(error).toBeInstanceOf(PluginError);
    expect(error.message).toContain("403 PERMISSION_DENIED");
    expect(error.message).toContain(PROPERTY_ID);
    expect(error.hint).toContain(`add ${CLIENT_EMAIL} with the Viewer role`);
    expect(error.hint).toContain("Property access management");
  });

  it("403 SERVICE_DISABLED: says to enable the Data API", async () => {
    const w = await start({ apiEnabled: false });
    const instance = await w.create();

    const error = await failure(instance.retrieve(NEVER));

    expect(error.message).toMatch(/Data API is disabled/);
    expect(error.hint).toMatch(/APIs & Services > Library > Google Analytics Data API/);
  });

  it("404: says which property id was used and where to find the right one", async () => {
    const w = await start();
    w.api.failNext({ code: 404, message: "Requested entity was not found.", status: "NOT_FOUND" });
    const instance = await w.create();

    const error = await failure(instance.retrieve(NEVER));

    expect(error.message).toContain(`404 NOT_FOUND: Requested entity was not found.`);
    expect(error.hint).toContain(`property_id is ${PROPERTY_ID}`);
    expect(error.hint).toContain("Admin > Property settings");
  });

  it("400: says which property id was used", async () => {
    const w = await start();
    w.api.failNext({ code: 400, message: "Invalid property ID: 123456789.", status: "INVALID_ARGUMENT" });
    const instance = await w.create();

    const error = await failure(instance.retrieve(NEVER));

    expect(error.message).toContain("400 INVALID_ARGUMENT");
    expect(error.hint).toContain(`property_id is ${PROPERTY_ID}`);
  });

  it("429: names the exhausted quota and backs off until the next poll", async () => {
    const w = await start({
      properties: [{ id: PROPERTY_ID, activeUsers: 7, viewers: [CLIENT_EMAIL], realtimeTokensLeft: 1 }],
    });
    const instance = await w.create({ interval: 30 });
    expect(await instance.retrieve(NEVER)).toBe(7);

    const error = await failure(instance.retrieve(NEVER));

    expect(error.message).toContain('quota "property tokens per hour" is exhausted');
    expect(error.message).toContain("429 RESOURCE_EXHAUSTED");
    expect(error.hint).toContain("backs off until the next poll (in 30 s)");
    // No retry within the poll: that would spend more of the exhausted quota.
    expect(w.api.requests.map((r) => r.status)).toEqual([200, 429]);
  });

  it("5xx: a Google-side failure, retried at the next poll", async () => {
    const w = await start();
    w.api.failNext({ code: 503, message: "The service is currently unavailable.", status: "UNAVAILABLE" });
    const instance = await w.create();

    const error = await failure(instance.retrieve(NEVER));
    expect(error.message).toContain("503 UNAVAILABLE");
    expect(await instance.retrieve(NEVER)).toBe(312);
  });

  it("an unreachable API says where it tried", async () => {
    const w = await start();
    const closed = `${w.api.origin}`;
    await w.api.close();
    const instance = await w.create({ api_root: closed });

    const error = await failure(instance.retrieve(NEVER));
    expect(error.message).toContain(`could not reach the Google Analytics Data API at ${closed}`);
  });

  it("stops when the reading's signal aborts", async () => {
    const w = await start();
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const instance = await w.create({ api_root: `http://127.0.0.1:${(silent.address() as AddressInfo).port}` });
      await expect(instance.retrieve(AbortSignal.timeout(200))).rejects.toMatchObject({ name: "TimeoutError" });
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe("secrets", () => {
  it("never puts the private key or an access token in errors or logs", async () => {
    const errors: unknown[] = [];
    const collect = async (
      options: WorldOptions,
      prepare?: (w: World) => void,
      overrides?: Record<string, unknown>,
    ) => {
      const w = await startWorld(options);
      try {
        const instance = await w.create(overrides);
        await instance.retrieve(NEVER).catch(() => {});
        prepare?.(w);
        await instance.retrieve(NEVER).catch((e: unknown) => errors.push(e));
        return { logs: w.logger.text(), tokens: w.oauth.issued.map((t) => t.accessToken) };
      } finally {
        await w.close();
      }
    };
    const runs = [
      await collect({ expiresIn: 0 }), // 401 twice
      await collect({ properties: [{ id: PROPERTY_ID, activeUsers: 1, viewers: [] }] }), // 403
      await collect({}, (w) =>
        w.api.failNext({ code: 429, message: "Exhausted concurrent requests quota.", status: "RESOURCE_EXHAUSTED" }),
      ),
      await collect({ publicKey: rsaKey().publicKey }), // invalid_grant
      await collect({}, (w) => w.oauth.revokeAll()), // 401 then success (logs a warning)
    ];
    const secrets = [...keyFragments(KEY.pem), ...runs.flatMap((r) => r.tokens)];
    expect(secrets.length).toBeGreaterThan(10);
    expect(errors.length).toBe(4);
    const shown = [
      ...errors.flatMap((e) => [inspect(e, { depth: 10 }), JSON.stringify(e), (e as DynosaurError).format()]),
      ...runs.map((r) => r.logs),
    ].join("\n");
    for (const secret of secrets) expect(shown).not.toContain(secret);
  });
});
