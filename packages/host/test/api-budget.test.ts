import { definePlugin, ManualClock, type Runtime, z } from "@dynosaur/core";
import { type HerokuFake, startHerokuFake } from "@dynosaur/fakes/heroku";
import { Agent } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { type AccountUse, ApiBudgets, accountOf, type BudgetShare } from "../src/api-budget.js";
import { createHostRuntime } from "../src/runtime.js";

const HOUR = 3_600_000;
const KEY = "heroku-key-0123456789abcdef0123456789";

/** Joins `n` apps with a 60 s poll interval to `budgets` on `key`. */
const join = (budgets: ApiBudgets, n: number, key = KEY) =>
  Array.from({ length: n }, () => budgets.join(key, () => 60_000));

/** The server's processes as a `BudgetShare` sees them: each one's last published use. */
class SharedUse {
  readonly rows = new Map<string, readonly AccountUse[]>();
  of(process: string): BudgetShare {
    return {
      exchange: async (mine) => {
        this.rows.set(process, mine);
        const sums = new Map<string, AccountUse>();
        for (const [p, uses] of this.rows) {
          if (p === process) continue;
          for (const u of uses) {
            const s = sums.get(u.account) ?? { account: u.account, apps: 0, wantedPerHour: 0, changesPerHour: 0 };
            s.apps += u.apps;
            s.wantedPerHour += u.wantedPerHour;
            s.changesPerHour += u.changesPerHour;
            sums.set(u.account, s);
          }
        }
        return [...sums.values()];
      },
    };
  }
}

describe("ApiBudgets: one Platform API budget per key", () => {
  it("spaces 150 apps' reads on one key to 90 % of 4500 an hour less the changes' share, and says so", () => {
    const clock = new ManualClock(0);
    const budgets = new ApiBudgets({ clock });
    const apps = join(budgets, 150);
    // 4050 an hour, 405 of them kept for changes: 3645 reads for 150 apps.
    const spacing = apps[0]?.minPollIntervalMs() ?? 0;
    expect(spacing).toBeCloseTo((150 * HOUR) / 3645, 0);
    expect((150 * HOUR) / spacing + 405).toBeLessThanOrEqual(4050);
    const notice = budgets.notice(accountOf(KEY));
    expect(notice).toMatchObject({
      apps: 150,
      wantedPerHour: 9000,
      allowedPerHour: 3645,
      reservedForChanges: 405,
      readEverySeconds: 148,
      spaced: true,
    });
    expect(notice?.message).toMatch(/^150 apps on this key need 9000 formation reads\/h; the budget allows 3645 /);
    expect(notice?.message).toMatch(/reads spaced to every 2\.5 min, .*Use Heroku webhooks to see changes sooner/);
  });

  it("leaves a key's apps alone while their own poll intervals fit, and keys apart", () => {
    const budgets = new ApiBudgets({ clock: new ManualClock(0) });
    const [one] = join(budgets, 1, "key-a");
    const many = join(budgets, 150, "key-b");
    expect(one?.minPollIntervalMs()).toBeLessThan(60_000);
    expect(budgets.notice(accountOf("key-a"))).toMatchObject({ apps: 1, spaced: false, message: null });
    expect(budgets.notice(accountOf("key-b"))?.apps).toBe(150);
    // Leaving gives the share back to the others.
    for (const m of many.slice(10)) m.leave();
    expect(budgets.notice(accountOf("key-b"))).toMatchObject({ apps: 10, spaced: false });
    for (const m of many.slice(0, 10)) m.leave();
    expect(budgets.notice(accountOf("key-b"))).toBeNull();
  });

  it("never keeps the key: the account is a hash, and no notice names the key", () => {
    const budgets = new ApiBudgets({ clock: new ManualClock(0) });
    join(budgets, 150);
    expect(accountOf(KEY)).toMatch(/^[0-9a-f]{16}$/);
    expect(accountOf(KEY)).toBe(accountOf(KEY));
    expect(accountOf(`${KEY}x`)).not.toBe(accountOf(KEY));
    expect(JSON.stringify(budgets.notices())).not.toContain(KEY);
    expect(JSON.stringify(budgets.use())).not.toContain(KEY);
  });

  it("changes go first: what they spend comes off the reads", () => {
    const clock = new ManualClock(0);
    const budgets = new ApiBudgets({ clock });
    const apps = join(budgets, 150);
    const before = apps[0]?.minPollIntervalMs() ?? 0;
    // 600 changes in the hour: 1200 requests with their reads, more than the 405 kept.
    for (let i = 0; i < 600; i++) apps[i % 150]?.spent("change", 4000);
    const during = apps[0]?.minPollIntervalMs() ?? 0;
    expect(during).toBeCloseTo((150 * HOUR) / (4050 - 1200), 0);
    expect(during).toBeGreaterThan(before);
    // An hour later they no longer count.
    clock.advance(HOUR + 1);
    expect(apps[0]?.minPollIntervalMs()).toBeCloseTo(before, 0);
  });

  it("follows RateLimit-Remaining: reads slow as the bucket empties and wait for the refill near empty", () => {
    const clock = new ManualClock(0);
    const budgets = new ApiBudgets({ clock });
    const [app] = join(budgets, 10);
    if (!app) throw new Error("no app");
    const normal = app.minPollIntervalMs();
    app.spent("read", 4000);
    expect(app.minPollIntervalMs()).toBe(normal);
    app.spent("read", 562);
    // Half of the low mark (1125) left: half the pace.
    expect(app.minPollIntervalMs() / normal).toBeCloseTo(1125 / 562, 6);
    app.spent("read", 50);
    expect(app.minPollIntervalMs()).toBeGreaterThanOrEqual(HOUR);
    expect(budgets.notice(accountOf(KEY))?.message).toMatch(/only 50 requests are left: something else is spending/);
    // The bucket refills at 75 a minute: after a minute, 125 are left and reads go on, slowly.
    clock.advance(60_000);
    expect(app.minPollIntervalMs()).toBeLessThan(HOUR);
    expect(app.minPollIntervalMs()).toBeGreaterThan(normal * 5);
  });

  it("a request besides the formation calls (a webhook subscription, a preboot check) is spent like a change's", () => {
    const clock = new ManualClock(0);
    const budgets = new ApiBudgets({ clock });
    join(budgets, 10);
    budgets.spentOutside(KEY, 3000);
    budgets.spentOutside("another-key", 1);
    expect(budgets.use()).toEqual([expect.objectContaining({ account: accountOf(KEY), changesPerHour: 1 })]);
    expect(budgets.notice(accountOf(KEY))?.rateLimitRemaining).toBe(3000);
  });

  it("across processes: two processes with 75 apps each on one key space as for 150", async () => {
    const clock = new ManualClock(0);
    const shared = new SharedUse();
    const a = new ApiBudgets({ clock, share: shared.of("a") });
    const b = new ApiBudgets({ clock, share: shared.of("b") });
    const [inA] = join(a, 75);
    const [inB] = join(b, 75);
    const alone = inA?.minPollIntervalMs() ?? 0;
    await a.sync();
    await b.sync();
    await a.sync();
    expect(inA?.minPollIntervalMs()).toBeCloseTo(alone * 2, 0);
    expect(inB?.minPollIntervalMs()).toBeCloseTo(alone * 2, 0);
    expect(a.notice(accountOf(KEY))?.apps).toBe(150);
    // B's changes count against A's reads too.
    for (let i = 0; i < 600; i++) inB?.spent("change", null);
    await b.sync();
    await a.sync();
    expect(inA?.minPollIntervalMs()).toBeCloseTo((150 * HOUR) / (4050 - 1200), 0);
  });
});

describe("the Heroku fake's rate limit, as Heroku's", () => {
  let fake: HerokuFake | undefined;
  afterEach(async () => {
    await fake?.close();
  });

  it("holds 4500 tokens, refills 75 a minute and answers 429 when empty", async () => {
    const clock = new ManualClock(0);
    fake = await startHerokuFake({ now: () => clock.now(), rateLimit: { remaining: 1 } });
    const get = () =>
      fetch(`${fake?.url}/apps/example/formation`, {
        headers: { accept: "application/vnd.heroku+json; version=3", authorization: `Bearer ${fake?.apiKey}` },
      });
    const first = await get();
    expect(first.status).toBe(200);
    expect(first.headers.get("ratelimit-remaining")).toBe("0");
    await first.text();
    const refused = await get();
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ id: "rate_limit" });
    clock.advance(60_000);
    expect(fake.rateLimitRemaining).toBeCloseTo(75, 6);
    clock.advance(2 * HOUR);
    expect(fake.rateLimitRemaining).toBe(4500);
  });
});

/** Its load steps between two levels every half hour, each app at its own time: about two changes an hour. */
const stepping = definePlugin({
  type: "stepping",
  unit: "units",
  options: z.object({ phase: z.number() }),
  create: (options, ctx) => ({
    retrieve: async () => (Math.floor((ctx.clock.now() + options.phase) / (HOUR / 2)) % 2 === 0 ? 10 : 20),
    estimateDynos: (v) => Math.ceil(v / 10),
  }),
});

describe("150 apps on one key against the fake's real bucket (4500, +75 a minute)", () => {
  let fake: HerokuFake | undefined;
  let agent: Agent | undefined;
  let runtimes: Runtime[] = [];
  afterEach(async () => {
    await Promise.all(runtimes.map((r) => r.stop()));
    runtimes = [];
    await agent?.close();
    await fake?.close();
  });

  it("stays under 4050 requests an hour without a 429, scales at once, and still notices a manual scale", async () => {
    const APPS = 150;
    const TICK = 30_000;
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const names = Array.from({ length: APPS }, (_, i) => `app-${String(i).padStart(3, "0")}`);
    fake = await startHerokuFake({
      now: () => clock.now(),
      apps: Object.fromEntries(names.map((n) => [n, { formation: { web: { quantity: 1 } } }])),
    });
    agent = new Agent({ connections: 16 });
    const budgets = new ApiBudgets({ clock });
    for (const [i, name] of names.entries()) {
      runtimes.push(
        await createHostRuntime(
          {
            scaler: {
              heroku_app_name: name,
              heroku_api_key: fake.apiKey,
              heroku_api_url: fake.url,
              interval: TICK / 1000,
              heroku_poll_interval: 60,
              min_dynos: 1,
              max_dynos: 5,
              policy: "seed",
              blackout: 60,
            },
            plugins: [{ type: "stepping", name: "load", phase: Math.floor((i * HOUR) / APPS) }],
          },
          { plugins: [stepping], clock, env: {}, http: agent, apiBudgets: budgets },
        ),
      );
    }
    /** Times a client waited for the bucket to refill (spacing its calls as it empties). */
    let waits = 0;
    /** Waits for `work`; a client that waits on the manual clock for the bucket gets its time. */
    const settle = async <T>(work: Promise<T>): Promise<T> => {
      let done = false;
      const result = work.finally(() => {
        done = true;
      });
      for (let turn = 1; !done; turn++) {
        await new Promise((r) => setImmediate(r));
        const wake = turn % 50 === 0 ? clock.nextWake() : null;
        if (!done && wake !== null) {
          waits++;
          clock.set(wake);
        }
      }
      return result;
    };
    const start = clock.now();
    let manualAt: number | null = null;
    let manualSeenAt: number | null = null;
    // 70 minutes: the first 10 settle, the last hour is measured.
    for (let t = 0; t < 70 * 60_000; t += TICK) {
      if (t === 40 * 60_000) {
        fake.setQuantity("app-007", "web", 4);
        manualAt = clock.now();
      }
      const reports = (await settle(Promise.all(runtimes.map((r) => r.tick())))).flat();
      if (
        manualAt !== null &&
        manualSeenAt === null &&
        reports.some((r) => r.events.some((e) => e.kind === "manual-change"))
      )
        manualSeenAt = clock.now();
      clock.advance(TICK);
    }
    const measured = fake.requests.filter((r) => r.at >= start + 10 * 60_000);
    const patches = measured.filter((r) => r.method === "PATCH").length;
    expect(fake.requests.some((r) => r.fault !== undefined)).toBe(false);
    expect(measured.length).toBeLessThanOrEqual(4050);
    // Changes were not held back: about two an app an hour went through.
    expect(patches).toBeGreaterThan(APPS);
    // No 429: the fake's bucket never ran dry.
    expect(fake.rateLimitRemaining).toBeGreaterThan(100);
    expect(waits).toBe(0);
    expect(fake.requests.filter((r) => r.status === 429)).toHaveLength(0);
    expect(fake.requests.every((r) => r.status === 200)).toBe(true);
    // The manual scale was seen within one spaced read (148 s, at the next 30 s tick).
    expect(manualSeenAt).not.toBeNull();
    expect((manualSeenAt ?? 0) - (manualAt ?? 0)).toBeLessThanOrEqual(180_000);
  }, 120_000);
});
