import { type Clock, DynosaurError, ManualClock } from "@dynosaur/core";
import { type HerokuFake, startHerokuFake } from "@dynosaur/fakes/heroku";
import { Agent, request } from "undici";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HerokuClient, type HerokuClientOptions, HerokuError } from "../src/heroku-client.js";

const KEY = "0c1d2e3f-heroku-secret-key-4a5b6c7d";
const ACCEPT = "application/vnd.heroku+json; version=3";

let fake: HerokuFake;
let clock: ManualClock;

beforeEach(async () => {
  clock = new ManualClock();
  fake = await startHerokuFake({
    apiKey: KEY,
    now: () => clock.now(),
    maxQuantity: 10,
    otherKeys: { "stranger-key": [] },
    apps: {
      shop: { formation: { web: { quantity: 2, size: "Standard-2X" }, worker: { quantity: 0 } } },
    },
  });
});

afterEach(async () => {
  await fake.close();
});

const client = (options: Partial<HerokuClientOptions> = {}) =>
  new HerokuClient({ app: "shop", processType: "web", apiKey: KEY, baseUrl: fake.url, clock, ...options });

/** Runs `fn`, expecting a HerokuError, and returns it. */
async function failure(fn: () => Promise<unknown>): Promise<HerokuError> {
  const e = await fn().then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(HerokuError);
  expect(e).toBeInstanceOf(DynosaurError);
  return e as HerokuError;
}

/** Every piece of an error a user or a log could see. */
function visible(e: HerokuError): string {
  const cause = e.cause instanceof Error ? `${e.cause.message} ${e.cause.stack}` : String(e.cause ?? "");
  return [e.message, e.hint ?? "", e.format(), e.stack ?? "", JSON.stringify(e), cause].join("\n");
}

describe("HerokuClient against the Heroku fake", () => {
  it("reads the formation", async () => {
    const f = await client().getFormation();
    expect(f).toEqual({
      quantity: 2,
      size: "Standard-2X",
      type: "web",
      updatedAt: Math.floor(clock.now() / 1000) * 1000,
    });
    expect(fake.count("GET")).toBe(1);
    expect(fake.requests[0]?.path).toBe("/apps/shop/formation/web");
  });

  it("scales with a PATCH of {quantity} and the fake's state follows", async () => {
    clock.advance(60_000);
    const f = await client().scale(5);
    expect(f.quantity).toBe(5);
    expect(f.updatedAt).toBe(clock.now());
    expect(fake.formation("shop", "web")?.quantity).toBe(5);
    expect(fake.formation("shop", "worker")?.quantity).toBe(0);
    const patch = fake.requests.at(-1);
    expect(patch?.method).toBe("PATCH");
    expect(patch?.path).toBe("/apps/shop/formation/web");
    expect(patch?.rawBody).toBe('{"quantity":5}');
    expect(fake.count("PATCH")).toBe(1);

    expect(await client({ processType: "worker" }).scale(0)).toMatchObject({ quantity: 0, type: "worker" });
  });

  it("sees a change made by someone else", async () => {
    fake.setQuantity("shop", "web", 7);
    expect((await client().getFormation()).quantity).toBe(7);
  });

  it("sends Heroku's headers: version 3, bearer key, user agent, JSON content type on PATCH only", async () => {
    await client().getFormation();
    await client().scale(3);
    const [get, patch] = fake.requests;
    expect(get?.headers.accept).toBe(ACCEPT);
    expect(get?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(get?.headers["user-agent"]).toMatch(/^dynosaur\/\d+\.\d+\.\d+/);
    expect(get?.headers["content-type"]).toBeUndefined();
    expect(patch?.headers.accept).toBe(ACCEPT);
    expect(patch?.headers["content-type"]).toBe("application/json");

    await client({ userAgent: "dynosaur/test (ci)" }).getFormation();
    expect(fake.requests.at(-1)?.headers["user-agent"]).toBe("dynosaur/test (ci)");
  });

  it("URL-encodes the app and the process type", async () => {
    const e = await failure(() => client({ app: "my app/..", processType: "web?x" }).getFormation());
    expect(e.code).toBe("HEROKU_NOT_FOUND");
    expect(fake.requests.at(-1)?.path).toBe("/apps/my%20app%2F../formation/web%3Fx");
  });

  it("accepts a baseUrl with a trailing slash", async () => {
    await client({ baseUrl: `${fake.url}/` }).getFormation();
    expect(fake.requests.at(-1)?.path).toBe("/apps/shop/formation/web");
  });

  it("401: says the key was refused and how to make one", async () => {
    const e = await failure(() => client({ apiKey: "wrong-key-123" }).getFormation());
    expect(e.code).toBe("HEROKU_UNAUTHORIZED");
    expect(e.status).toBe(401);
    expect(e.herokuId).toBe("unauthorized");
    expect(e.message).toMatch(/refused the API key/);
    expect(e.hint).toContain("heroku authorizations:create");
    expect(e.hint).toContain("heroku_api_key");
    expect(visible(e)).not.toContain("wrong-key-123");
  });

  it("refuses to start without a key", () => {
    expect(() => client({ apiKey: "" })).toThrow(/No Heroku API key/);
  });

  it("403: a key without access to the app", async () => {
    const e = await failure(() => client({ apiKey: "stranger-key" }).scale(3));
    expect(e.code).toBe("HEROKU_FORBIDDEN");
    expect(e.status).toBe(403);
    expect(e.herokuId).toBe("forbidden");
    expect(e.message).toContain("You do not have access to the app shop");
    expect(fake.formation("shop", "web")?.quantity).toBe(2);
  });

  it("404: names the app and the process type, hints at heroku ps", async () => {
    for (const opts of [{ app: "nope" }, { processType: "clock" }]) {
      const e = await failure(() => client(opts).getFormation());
      expect(e.code).toBe("HEROKU_NOT_FOUND");
      expect(e.status).toBe(404);
      expect(e.herokuId).toBe("not_found");
      const app = opts.app ?? "shop";
      expect(e.message).toContain(`"${app}"`);
      expect(e.message).toContain(`"${opts.processType ?? "web"}"`);
      expect(e.message).toMatch(/does not exist/);
      expect(e.hint).toContain(`heroku ps -a ${app}`);
    }
  });

  it("422: surfaces Heroku's message (plan dyno limit) and leaves the formation alone", async () => {
    const e = await failure(() => client().scale(11));
    expect(e.code).toBe("HEROKU_UNPROCESSABLE");
    expect(e.status).toBe(422);
    expect(e.herokuId).toBe("invalid_params");
    expect(e.message).toContain("Cannot update to more than 10 Standard-2X size dynos per process type.");
    expect(e.limit).toBe(10);
    expect(fake.formation("shop", "web")?.quantity).toBe(2);
  });

  it("422: reads the plan's limit from Heroku's `limit` field, and none from other refusals", async () => {
    fake.queueFault({
      kind: "respond",
      status: 422,
      body: { id: "cannot_run_above_limit", limit: 2, size: 11, message: "Cannot run more than 2 Free size dynos." },
    });
    expect((await failure(() => client().scale(11))).limit).toBe(2);
    fake.queueFault({
      kind: "respond",
      status: 422,
      body: { id: "invalid_params", message: "Requested type Free is not available." },
    });
    expect((await failure(() => client().scale(3))).limit).toBeUndefined();
  });

  it("refuses a quantity that is not a whole number >= 0 without calling Heroku", async () => {
    for (const q of [-1, 1.5, Number.NaN]) {
      expect((await failure(() => client().scale(q))).code).toBe("HEROKU_UNPROCESSABLE");
    }
    expect(fake.count()).toBe(0);
  });

  describe("rate limiting", () => {
    const limited = {
      kind: "respond",
      status: 429,
      body: { id: "rate_limit", message: "Your account reached the API rate limit." },
    } as const;

    it("429: backs off without sending, then recovers once the clock passes the back-off", async () => {
      const c = client();
      fake.queueFault({ ...limited, headers: { "RateLimit-Remaining": "0" } });
      const first = await failure(() => c.getFormation());
      expect(first.code).toBe("HEROKU_RATE_LIMITED");
      expect(first.status).toBe(429);
      expect(first.herokuId).toBe("rate_limit");
      expect(first.message).toContain("Your account reached the API rate limit.");
      expect(c.backoffUntil).toBe(clock.now() + 60_000);
      expect(first.retryAt).toBe(clock.now() + 60_000);
      expect(c.rateLimitRemaining).toBe(0);

      clock.advance(59_000);
      for (const call of [() => c.getFormation(), () => c.scale(4)]) {
        const e = await failure(call);
        expect(e.code).toBe("HEROKU_RATE_LIMITED");
        expect(e.status).toBeUndefined();
      }
      expect(fake.count()).toBe(1);

      clock.advance(1_000);
      expect(c.backoffUntil).toBeNull();
      expect((await c.scale(4)).quantity).toBe(4);
      expect(fake.count()).toBe(2);
      expect(c.rateLimitRemaining).toBeGreaterThan(100);
    });

    it("a 429 streak doubles the back-off, a good answer ends the streak", async () => {
      const c = client();
      fake.queueFault(limited, { times: 3 });
      const waits: number[] = [];
      for (let i = 0; i < 3; i++) {
        await failure(() => c.getFormation());
        const until = c.backoffUntil;
        expect(until).not.toBeNull();
        waits.push((until ?? 0) - clock.now());
        clock.set(until ?? 0);
      }
      expect(waits).toEqual([60_000, 120_000, 240_000]);
      await c.getFormation();
      fake.queueFault(limited);
      await failure(() => c.getFormation());
      expect((c.backoffUntil ?? 0) - clock.now()).toBe(60_000);
    });

    it("honours Retry-After (seconds)", async () => {
      const c = client();
      fake.queueFault({ ...limited, headers: { "Retry-After": "120" } });
      await failure(() => c.getFormation());
      expect(c.backoffUntil).toBe(clock.now() + 120_000);
      clock.advance(119_999);
      await failure(() => c.getFormation());
      expect(fake.count()).toBe(1);
      clock.advance(1);
      await c.getFormation();
      expect(fake.count()).toBe(2);
    });

    it("RateLimit-Remaining 0 on a good answer: returns it, then stops calling until the bucket refills", async () => {
      fake.setRateLimitRemaining(1);
      const c = client();
      const f = await c.getFormation();
      expect(f.quantity).toBe(2);
      expect(c.rateLimitRemaining).toBe(0);
      expect(c.backoffUntil).toBe(clock.now() + 60_000);
      const e = await failure(() => c.scale(3));
      expect(e.code).toBe("HEROKU_RATE_LIMITED");
      expect(fake.count()).toBe(1);
      expect(fake.formation("shop", "web")?.quantity).toBe(2);

      // A minute refills ~75 of the fake's 4500-per-hour tokens.
      clock.advance(60_000);
      expect((await c.scale(3)).quantity).toBe(3);
      expect(fake.count()).toBe(2);
    });

    it("the fake itself answers 429 rate_limit when the bucket is empty", async () => {
      fake.setRateLimitRemaining(0);
      const e = await failure(() => client().getFormation());
      expect(e.code).toBe("HEROKU_RATE_LIMITED");
      expect(e.herokuId).toBe("rate_limit");
      expect(fake.count()).toBe(1);
    });

    it("spaces requests out when the budget runs low", async () => {
      const sleeps: number[] = [];
      const spy: Clock = {
        now: () => clock.now(),
        sleep: (ms, signal) => {
          sleeps.push(ms);
          return clock.sleep(ms, signal);
        },
      };
      fake.setRateLimitRemaining(51);
      const c = client({ clock: spy });
      await c.getFormation(); // learns remaining = 50
      expect(c.rateLimitRemaining).toBe(50);
      await c.getFormation(); // first request at low budget goes at once
      expect(sleeps).toEqual([]);

      const third = c.getFormation();
      await expect.poll(() => sleeps.length).toBe(1);
      expect(sleeps[0]).toBeGreaterThan(1000);
      expect(fake.count()).toBe(2);
      clock.advance(sleeps[0] ?? 0);
      await third;
      expect(fake.count()).toBe(3);
    });

    it("plenty of budget: no spacing", async () => {
      const c = client();
      for (let i = 0; i < 5; i++) await c.getFormation();
      expect(fake.count()).toBe(5);
      expect(c.rateLimitRemaining).toBe(4495);
    });
  });

  it("5xx: HEROKU_UNAVAILABLE with the status", async () => {
    for (const status of [500, 503]) {
      fake.queueFault({
        kind: "respond",
        status,
        body: { id: "internal_server_error", message: "Internal server error." },
      });
      const e = await failure(() => client().getFormation());
      expect(e.code).toBe("HEROKU_UNAVAILABLE");
      expect(e.status).toBe(status);
      expect(e.herokuId).toBe("internal_server_error");
    }
    fake.queueFault({ kind: "respond", status: 502, body: "<html>Bad Gateway</html>" });
    const e = await failure(() => client().getFormation());
    expect(e.code).toBe("HEROKU_UNAVAILABLE");
    expect(e.herokuId).toBeUndefined();
  });

  it("connection reset: HEROKU_UNAVAILABLE", async () => {
    fake.queueFault({ kind: "reset" });
    const e = await failure(() => client().scale(3));
    expect(e.code).toBe("HEROKU_UNAVAILABLE");
    expect(e.status).toBeUndefined();
  });

  it("timeout: a Heroku that never answers fails after timeoutMs", async () => {
    fake.queueFault({ kind: "hang" });
    const e = await failure(() => client({ timeoutMs: 200 }).getFormation());
    expect(e.code).toBe("HEROKU_UNAVAILABLE");
    expect(e.message).toContain("200 ms");
    expect(fake.count()).toBe(1);
  });

  it("a caller's abort rejects with the caller's reason", async () => {
    fake.queueFault({ kind: "hang" });
    const controller = new AbortController();
    const pending = client().getFormation(controller.signal);
    await expect.poll(() => fake.count()).toBe(1);
    const reason = new Error("shutting down");
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });

  it("truncated JSON: HEROKU_BAD_RESPONSE", async () => {
    fake.queueFault({ kind: "truncate" });
    const e = await failure(() => client().scale(6));
    expect(e.code).toBe("HEROKU_BAD_RESPONSE");
    expect(e.status).toBe(200);
    expect(e.message).toMatch(/not valid JSON/);
    // The change went through; only the answer was cut.
    expect(fake.formation("shop", "web")?.quantity).toBe(6);
  });

  it("a body that is not a formation: HEROKU_BAD_RESPONSE", async () => {
    const good = fake.formation("shop", "web");
    const bodies: unknown[] = [
      "",
      "null",
      [good],
      { ...good, quantity: -1 },
      { ...good, quantity: 1.5 },
      { ...good, quantity: "2" },
      { ...good, quantity: undefined },
      { ...good, size: undefined, dyno_size: undefined },
      { ...good, type: undefined },
      { ...good, updated_at: "yesterday" },
    ];
    for (const body of bodies) {
      fake.queueFault({ kind: "respond", status: 200, body });
      const e = await failure(() => client().getFormation());
      expect(e.code, JSON.stringify(body)).toBe("HEROKU_BAD_RESPONSE");
    }
  });

  it("reads the size from dyno_size when the deprecated size is absent", async () => {
    fake.queueFault({ kind: "respond", status: 200, body: { ...fake.formation("shop", "web"), size: undefined } });
    expect((await client().getFormation()).size).toBe("Standard-2X");
  });

  it("never puts the API key in an error, even when Heroku echoes it", async () => {
    const errors: HerokuError[] = [];
    const scenarios: (() => void)[] = [
      () =>
        fake.queueFault({
          kind: "respond",
          status: 401,
          body: { id: "unauthorized", message: `Invalid credentials: ${KEY}` },
        }),
      () => fake.queueFault({ kind: "respond", status: 403, body: { id: "forbidden", message: `key ${KEY} denied` } }),
      () => fake.queueFault({ kind: "respond", status: 404, body: { id: "not_found", message: KEY } }),
      () => fake.queueFault({ kind: "respond", status: 422, body: { id: "invalid_params", message: `bad ${KEY}` } }),
      () => fake.queueFault({ kind: "respond", status: 500, body: { id: "x", message: KEY } }),
      () => fake.queueFault({ kind: "respond", status: 200, body: { quantity: KEY } }),
      () => fake.queueFault({ kind: "reset" }),
      () => fake.queueFault({ kind: "truncate" }),
      () => fake.queueFault({ kind: "respond", status: 429, body: { id: "rate_limit", message: KEY } }),
    ];
    for (const arrange of scenarios) {
      arrange();
      errors.push(await failure(() => client().scale(3)));
    }
    fake.queueFault({ kind: "hang" });
    errors.push(await failure(() => client({ timeoutMs: 100 }).getFormation()));
    expect(errors.map((e) => e.code)).toEqual([
      "HEROKU_UNAUTHORIZED",
      "HEROKU_FORBIDDEN",
      "HEROKU_NOT_FOUND",
      "HEROKU_UNPROCESSABLE",
      "HEROKU_UNAVAILABLE",
      "HEROKU_BAD_RESPONSE",
      "HEROKU_UNAVAILABLE",
      "HEROKU_BAD_RESPONSE",
      "HEROKU_RATE_LIMITED",
      "HEROKU_UNAVAILABLE",
    ]);
    for (const e of errors) expect(visible(e)).not.toContain(KEY);
    expect(errors[0]?.message).toContain("[redacted]");
  });

  it("uses the given dispatcher and consumes every body, so one connection serves all calls", async () => {
    // One connection: a body left unread would block the next call until it timed out.
    const agent = new Agent({ connections: 1 });
    const seen: string[] = [];
    const dispatcher = agent.compose((dispatch) => (opts, handler) => {
      seen.push(`${opts.method} ${opts.path}`);
      return dispatch(opts, handler);
    });
    try {
      const c = client({ dispatcher, timeoutMs: 2_000 });
      // Bodies larger than undici's buffers: unread, they would hold the socket.
      const big = "x".repeat(1 << 20);
      fake.queueFault({ kind: "respond", status: 500, body: { id: "x", message: big } });
      expect((await failure(() => c.getFormation())).message.length).toBeLessThan(1_000);
      fake.queueFault({ kind: "respond", status: 404, body: { id: "not_found", message: big } });
      await failure(() => c.getFormation());
      await c.getFormation();
      await c.scale(3);
      expect(fake.count()).toBe(4);
      expect(new Set(fake.requests.map((r) => r.remotePort)).size).toBe(1);
      expect(seen).toEqual([
        "GET /apps/shop/formation/web",
        "GET /apps/shop/formation/web",
        "GET /apps/shop/formation/web",
        "PATCH /apps/shop/formation/web",
      ]);
    } finally {
      await agent.close();
    }
  });
});

describe("the Heroku fake refuses what Heroku refuses", () => {
  const call = async (method: string, path: string, headers: Record<string, string>, body?: string) => {
    const res = await request(`${fake.url}${path}`, { method: method as "GET", headers, body });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, body: JSON.parse(text) as Record<string, unknown> };
  };
  const auth = { accept: ACCEPT, authorization: `Bearer ${KEY}` };
  const json = { ...auth, "content-type": "application/json" };

  it("answers the formation with every field of Heroku's schema and RateLimit-Remaining", async () => {
    const res = await call("GET", "/apps/shop/formation/web", auth);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual([
      "app",
      "command",
      "created_at",
      "dyno_size",
      "id",
      "quantity",
      "size",
      "type",
      "updated_at",
    ]);
    expect(res.body).toMatchObject({
      app: { name: "shop" },
      quantity: 2,
      size: "Standard-2X",
      type: "web",
      dyno_size: { name: "Standard-2X" },
    });
    expect(res.body.updated_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(res.body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(res.headers["ratelimit-remaining"]).toBe("4499");
    expect(res.headers["content-type"]).toBe("application/json");

    const app = res.body.app as { id: string };
    const byIds = await call("GET", `/apps/${app.id}/formation/${String(res.body.id)}`, auth);
    expect(byIds.body.type).toBe("web");
    const list = await call("GET", "/apps/shop/formation", auth);
    expect((list.body as unknown as { type: string }[]).map((f) => f.type).sort()).toEqual(["web", "worker"]);
  });

  it("needs Accept with version 3", async () => {
    const missing = await call("GET", "/apps/shop/formation/web", { authorization: `Bearer ${KEY}` });
    expect(missing.status).toBe(400);
    expect(missing.body.id).toBe("missing_version");
    const plain = await call("GET", "/apps/shop/formation/web", { ...auth, accept: "application/json" });
    expect(plain.status).toBe(400);
    const v2 = await call("GET", "/apps/shop/formation/web", {
      ...auth,
      accept: "application/vnd.heroku+json; version=2",
    });
    expect(v2.status).toBe(406);
    expect(v2.body.id).toBe("not_acceptable");
  });

  it("needs the right bearer key", async () => {
    for (const authorization of [
      undefined,
      `Bearer wrong`,
      `Basic ${Buffer.from(`:${KEY}x`).toString("base64")}`,
      KEY,
    ]) {
      const headers: Record<string, string> = { accept: ACCEPT };
      if (authorization) headers.authorization = authorization;
      const res = await call("GET", "/apps/shop/formation/web", headers);
      expect(res.status).toBe(401);
      expect(res.body.id).toBe("unauthorized");
      expect(res.body.message).toEqual(expect.any(String));
    }
  });

  it("answers 404 not_found for unknown apps, process types and endpoints", async () => {
    expect((await call("GET", "/apps/nope/formation/web", auth)).body).toMatchObject({
      id: "not_found",
      resource: "app",
    });
    expect((await call("GET", "/apps/shop/formation/clock", auth)).body).toMatchObject({
      id: "not_found",
      resource: "formation",
    });
    const verb = await call("POST", "/apps/shop/formation/web", json, '{"quantity":1}');
    expect(verb.status).toBe(404);
    expect((await call("GET", "/apps/shop/dynos", auth)).status).toBe(404);
  });

  it("PATCH needs a JSON content type and a {quantity: integer >= 0} body", async () => {
    const cases: [Record<string, string>, string, number][] = [
      [auth, '{"quantity":3}', 422],
      [{ ...auth, "content-type": "text/plain" }, '{"quantity":3}', 422],
      [json, "{quantity:3", 400],
      [json, "[3]", 422],
      [json, "{}", 422],
      [json, '{"quantity":-1}', 422],
      [json, '{"quantity":"3"}', 422],
      [json, '{"quantity":1.5}', 422],
      [json, '{"quantity":null}', 422],
      [json, '{"quantity":11}', 422],
      [json, '{"quantity":3,"size":"Huge-9X"}', 422],
    ];
    for (const [headers, body, status] of cases) {
      const res = await call("PATCH", "/apps/shop/formation/web", headers, body);
      expect(res.status, body).toBe(status);
      expect(res.body.id).toBe(status === 400 ? "bad_request" : "invalid_params");
      expect(res.body.message).toEqual(expect.any(String));
    }
    expect(fake.formation("shop", "web")?.quantity).toBe(2);
    expect(
      (
        await call(
          "PATCH",
          "/apps/shop/formation/web",
          { ...json, "content-type": "application/json; charset=utf-8" },
          '{"quantity":3}',
        )
      ).status,
    ).toBe(200);
    expect(fake.formation("shop", "web")?.quantity).toBe(3);
  });

  it("batch-updates the formation all or nothing", async () => {
    const bad = await call(
      "PATCH",
      "/apps/shop/formation",
      json,
      '{"updates":[{"type":"web","quantity":4},{"type":"worker","quantity":-2}]}',
    );
    expect(bad.status).toBe(422);
    expect(fake.formation("shop", "web")?.quantity).toBe(2);
    const ok = await call(
      "PATCH",
      "/apps/shop/formation",
      json,
      '{"updates":[{"type":"web","quantity":4},{"type":"worker","quantity":1}]}',
    );
    expect(ok.status).toBe(200);
    expect(fake.formation("shop", "worker")?.quantity).toBe(1);
    expect(fake.formation("shop", "web")?.quantity).toBe(4);
  });

  it("logs every request with its headers and parsed body, and counts them by method", async () => {
    await call("PATCH", "/apps/shop/formation/web", json, '{"quantity":3}');
    await call("GET", "/apps/shop/formation/web", auth);
    expect(fake.count("PATCH")).toBe(1);
    expect(fake.count("GET")).toBe(1);
    expect(fake.requests[0]).toMatchObject({
      method: "PATCH",
      path: "/apps/shop/formation/web",
      body: { quantity: 3 },
    });
    expect(fake.requests[0]?.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it("random faults hit a share of requests for soak tests", async () => {
    // Draws: fault? (0.1 yes) which one? (0) | fault? (0.9 no) | fault? (0.1 yes) which? (0) | (0.9 no)
    const draws = [0.1, 0, 0.9, 0.1, 0, 0.9];
    const faults = [{ kind: "respond", status: 503, body: { id: "unavailable", message: "x" } } as const];
    fake.setRandomFaults({ probability: 0.5, faults, random: () => draws.shift() ?? 0.9 });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await call("GET", "/apps/shop/formation/web", auth)).status);
    expect(statuses).toEqual([503, 200, 503, 200]);
    fake.clearFaults();
    expect((await call("GET", "/apps/shop/formation/web", auth)).status).toBe(200);
  });
});
