// Benchmarks the Platform API budget of one Heroku key (issue 23): 150 apps on one key, each a
// real engine (host's runtime, built dist) against the loopback Heroku fake with Heroku's real
// bucket (4500 tokens, refilled at 75 a minute, 429 when empty), for a simulated 2 hours on a
// manual clock (a tick every 30 s; no real time is waited). The load is steady: each app's
// source steps between two levels every half hour, at its own time (about two scales per app
// per hour), and someone runs `heroku ps:scale` on one app every 10 minutes.
//  - requests an hour, measured over the last hour (the first is the start-up) and at most over
//    any 60-minute window after the first 10 minutes: must be <= 4050 (90 % of 4500)
//  - GETs and PATCHes in the last hour, 429 answers, the fewest tokens left in the bucket
//  - how long a manual scale took to be noticed (the price of spacing the reads)
// `--no-budget` runs the same without the budget (each app reading every 60 s), for comparison;
// `--others N` has the account's other users spend N requests an hour from the same bucket.
// Usage: node bench/api-budget.mjs [--apps 150] [--hours 2] [--others 0] [--no-budget] [--json]
import { parseArgs } from "node:util";
import { definePlugin, ManualClock, z } from "@dynosaur/core";
import { startHerokuFake } from "@dynosaur/fakes/heroku";
import { ApiBudgets, accountOf, createHostRuntime } from "@dynosaur/host";
import { Agent } from "undici";

const { values } = parseArgs({
  options: {
    apps: { type: "string", default: "150" },
    hours: { type: "string", default: "2" },
    "no-budget": { type: "boolean", default: false },
    others: { type: "string", default: "0" },
    json: { type: "boolean", default: false },
  },
});
const APPS = Number(values.apps);
const HOURS = Number(values.hours);
const BUDGET = !values["no-budget"];
/** Requests an hour the account's other users (the CLI, CI, dashboards) spend from the same bucket. */
const OTHERS = Number(values.others);
const HOUR = 3_600_000;
const TICK = 30_000;
const LIMIT = 4050;

const stepping = definePlugin({
  type: "stepping",
  unit: "units",
  options: z.object({ phase: z.number() }),
  create: (options, ctx) => ({
    retrieve: async () => (Math.floor((ctx.clock.now() + options.phase) / (HOUR / 2)) % 2 === 0 ? 10 : 20),
    estimateDynos: (v) => Math.ceil(v / 10),
  }),
});

const clock = new ManualClock(Date.UTC(2026, 0, 1));
const names = Array.from({ length: APPS }, (_, i) => `app-${String(i).padStart(3, "0")}`);
const heroku = await startHerokuFake({
  now: () => clock.now(),
  apps: Object.fromEntries(names.map((n) => [n, { formation: { web: { quantity: 1 } } }])),
});
const agent = new Agent({ connections: 16 });
// One budget for the process, as dynosaur-web has; without it each runtime has its own (one app each).
const budgets = new ApiBudgets({ clock });
const runtimes = [];
const say = (text) => values.json || process.stderr.write(`${text}\n`);

/**
 * Waits for `work`; while it waits on the manual clock alone (a client spacing its calls as the
 * bucket empties, without the budget), moves the clock to the first sleeper's time.
 */
async function settle(work) {
  let done = false;
  const result = work.finally(() => {
    done = true;
  });
  for (let turn = 1; !done; turn++) {
    // Loopback I/O gets the event loop first; a sleeper still there after many turns waits on the clock.
    await new Promise((r) => setImmediate(r));
    const wake = turn % 50 === 0 ? clock.nextWake() : null;
    if (!done && wake !== null) clock.set(Math.max(wake, clock.now()));
  }
  return result;
}

try {
  for (const [i, name] of names.entries()) {
    runtimes.push(
      await createHostRuntime(
        {
          scaler: {
            heroku_app_name: name,
            heroku_api_key: heroku.apiKey,
            heroku_api_url: heroku.url,
            interval: TICK / 1000,
            heroku_poll_interval: 60,
            min_dynos: 1,
            max_dynos: 5,
            policy: "seed",
            blackout: 60,
          },
          plugins: [{ type: "stepping", name: "load", phase: Math.floor((i * HOUR) / APPS) }],
        },
        { plugins: [stepping], clock, env: {}, http: agent, ...(BUDGET ? { apiBudgets: budgets } : {}) },
      ),
    );
  }
  const start = clock.now();
  const end = start + HOURS * HOUR;
  let minRemaining = heroku.rateLimitRemaining;
  const manual = [];
  let nextManual = start + 5 * 60_000;
  const started = performance.now();
  while (clock.now() < end) {
    if (clock.now() >= nextManual) {
      const app = names[manual.length % APPS];
      heroku.setQuantity(app, "web", 5);
      manual.push({ app, at: clock.now(), seen: null });
      nextManual += 10 * 60_000;
    }
    const reports = await settle(Promise.all(runtimes.map((r) => r.tick())));
    for (const [i, rs] of reports.entries())
      for (const r of rs)
        if (r.events.some((e) => e.kind === "manual-change"))
          for (const m of manual) if (m.app === names[i] && m.seen === null) m.seen = clock.now();
    minRemaining = Math.min(minRemaining, heroku.rateLimitRemaining);
    clock.advance(TICK);
    if (OTHERS > 0) heroku.setRateLimitRemaining(Math.max(0, heroku.rateLimitRemaining - (OTHERS * TICK) / HOUR));
  }
  const times = heroku.requests.map((r) => r.at);
  const inLastHour = heroku.requests.filter((r) => r.at >= end - HOUR);
  // The busiest 60 minutes after the start-up, at each minute.
  let busiest = 0;
  for (let from = start + 10 * 60_000; from + HOUR <= end; from += 60_000)
    busiest = Math.max(busiest, times.filter((t) => t >= from && t < from + HOUR).length);
  const seen = manual.filter((m) => m.seen !== null).map((m) => (m.seen - m.at) / 1000);
  const notice = budgets.notice(accountOf(heroku.apiKey));
  const result = {
    apps: APPS,
    budget: BUDGET,
    others_per_hour: OTHERS,
    simulated_hours: HOURS,
    requests_last_hour: inLastHour.length,
    requests_busiest_hour: busiest,
    gets_last_hour: inLastHour.filter((r) => r.method === "GET").length,
    patches_last_hour: inLastHour.filter((r) => r.method === "PATCH").length,
    rate_limited_429: heroku.requests.filter((r) => r.status === 429).length,
    min_tokens_left: Math.floor(minRemaining),
    read_every_s: notice?.readEverySeconds ?? 60,
    manual_scales_seen: `${seen.length}/${manual.length}`,
    manual_seen_after_s_max: seen.length ? Math.round(Math.max(...seen)) : null,
    real_seconds: Math.round((performance.now() - started) / 1000),
  };
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    say(
      `${APPS} apps on one Heroku key, ${HOURS} simulated hours, ${BUDGET ? "with" : "WITHOUT"} the API budget (fake bucket 4500, +75/min${OTHERS ? `, other users ${OTHERS}/h` : ""}):`,
    );
    say(`  requests in the last hour        ${result.requests_last_hour}   (limit ${LIMIT})`);
    say(`  busiest 60 minutes               ${result.requests_busiest_hour}`);
    say(`  GET / PATCH in the last hour     ${result.gets_last_hour} / ${result.patches_last_hour}`);
    say(`  429 answers                      ${result.rate_limited_429}`);
    say(`  fewest tokens left               ${result.min_tokens_left}`);
    say(`  formation read every             ${result.read_every_s} s`);
    say(
      `  manual scales noticed            ${result.manual_scales_seen}, at most ${result.manual_seen_after_s_max} s later`,
    );
    say(`  (${result.real_seconds} s of real time)`);
    if (notice?.message) say(`  overview: ${notice.message}`);
  }
  if (BUDGET && (result.requests_busiest_hour > LIMIT || result.rate_limited_429 > 0)) process.exitCode = 1;
} finally {
  await Promise.all(runtimes.map((r) => r.stop()));
  await agent.close();
  await heroku.close();
}
