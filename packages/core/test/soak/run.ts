import { randomBytes } from "node:crypto";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { type HerokuFake, type HerokuFakeRequest, startHerokuFake } from "@dynosaur/fakes/heroku";
import { createAlertSink, HerokuClient } from "@dynosaur/host";
import { Agent, type Dispatcher } from "undici";
import { must } from "../../src/errors.js";
import { createLogger, type LogRecord } from "../../src/logger.js";
import type { AlertSink, TickReport } from "../../src/report.js";
import { createScaler } from "../helpers.js";
import { SoakClock } from "./clock.js";
import { faultFits, herokuFault } from "./faults.js";
import { Checker, type PluginEvent, type SentRequest, SoakViolation } from "./invariants.js";
import { type Reading, soakPlugin } from "./plugin.js";
import { Rng } from "./random.js";
import {
  HEROKU_FAULTS,
  type HerokuFaultKind,
  hangBudget,
  PLUGIN_FAULTS,
  type PluginFaultKind,
  type Scenario,
} from "./scenario.js";

const DAY = 86_400_000;
const APP = "shop";
const TYPE = "web";
/**
 * Real time one hung call costs: the Heroku client's timeout (a real socket, so with room
 * for a busy CI machine) and a source's (a good reading resolves at once, so it can be tiny).
 */
export const HEROKU_TIMEOUT_S = 0.05;
export const PLUGIN_TIMEOUT_S = 0.02;
const ALERT_MIN_INTERVAL_S = 900;
/** Real time a tick may take: a few hung calls in a row, and then some. */
const TICK_WATCHDOG_MS = 10_000;

export interface SoakResult {
  scenario: Scenario;
  ticks: number;
  simulatedDays: number;
  requests: { GET: number; PATCH: number; received: number };
  herokuFaults: Record<HerokuFaultKind, number>;
  pluginFaults: Record<PluginFaultKind, number>;
  readings: number;
  incidents: { heroku: number; plugin: number };
  manualChanges: number;
  restarts: number;
  leadershipLosses: number;
  scales: { up: number; down: number };
  emails: number;
  peakRequestsPerHour: number;
  checks: Record<string, number>;
  /** Heap used after a forced GC at the end of each simulated day, MB (empty when not measured). */
  heapMb: number[];
  realMs: number;
}

export interface SoakOptions {
  /** Samples the heap after a forced GC once per simulated day. @default false */
  measureHeap?: boolean;
  /** Called once per simulated day (progress). */
  onDay?: (day: number) => void;
}

let gc: (() => void) | undefined;
function forceGc(): () => void {
  if (!gc) {
    setFlagsFromString("--expose-gc");
    gc = runInNewContext("gc") as () => void;
  }
  return gc;
}

/**
 * Runs the real scaler (real sources, real Heroku client over real HTTP on loopback, real
 * alert sink) through a scenario on a virtual clock and checks every invariant on every
 * tick. Throws a SoakViolation at the first broken invariant.
 */
export async function runSoak(scenario: Scenario, options: SoakOptions = {}): Promise<SoakResult> {
  const realStart = performance.now();
  const cfg = scenario.scaler;
  const rng = new Rng(scenario.seed);
  const loadRng = rng.fork();
  const faultRng = rng.fork();
  const pluginRng = rng.fork();
  const eventRng = rng.fork();
  const clock = new SoakClock(Date.UTC(2026, 0, 5));
  const secrets = {
    heroku: `hk-${randomBytes(12).toString("hex")}`,
    plugin: `plugin-secret-${randomBytes(8).toString("hex")}`,
    sendgrid: `SG.${randomBytes(16).toString("hex")}`,
  };

  const result: SoakResult = {
    scenario,
    ticks: 0,
    simulatedDays: 0,
    requests: { GET: 0, PATCH: 0, received: 0 },
    herokuFaults: Object.fromEntries(HEROKU_FAULTS.map((k) => [k, 0])) as Record<HerokuFaultKind, number>,
    pluginFaults: Object.fromEntries(PLUGIN_FAULTS.map((k) => [k, 0])) as Record<PluginFaultKind, number>,
    readings: 0,
    incidents: { heroku: 0, plugin: 0 },
    manualChanges: 0,
    restarts: 0,
    leadershipLosses: 0,
    scales: { up: 0, down: 0 },
    emails: 0,
    peakRequestsPerHour: 0,
    checks: {},
    heapMb: [],
    realMs: 0,
  };

  const checker: Checker = new Checker({
    min: cfg.min_dynos,
    max: cfg.max_dynos,
    blackoutMs: cfg.blackout * 1000,
    step: cfg.scale_down_step,
    intervalMs: cfg.interval * 1000,
    alertMinIntervalMs: ALERT_MIN_INTERVAL_S * 1000,
    secrets: Object.values(secrets),
  });

  // What happened lately, for the message of a violation.
  const recent: string[] = [];
  const note = (line: string) => {
    recent.push(`${new Date(clock.now()).toISOString()} ${line}`);
    if (recent.length > 40) recent.shift();
  };
  checker.context = () => `scenario: ${JSON.stringify(scenario)}\nlast events:\n  ${recent.join("\n  ")}`;

  const fake: HerokuFake = await startHerokuFake({
    apiKey: secrets.heroku,
    apps: { [APP]: { formation: { [TYPE]: { quantity: cfg.min_dynos } } } },
    now: () => clock.now(),
  });

  // Faults are chosen as each request leaves the client, so each is tied to its request.
  let sent: SentRequest[] = [];
  const hangs = { heroku: 0, plugin: 0 };
  const budget = hangBudget(scenario.days);
  let herokuIncident: { kind: HerokuFaultKind; until: number } | null = null;
  const chooseHerokuFault = (method: string): HerokuFaultKind | undefined => {
    let kind: HerokuFaultKind | undefined;
    if (herokuIncident && clock.now() < herokuIncident.until) kind = herokuIncident.kind;
    else if (faultRng.chance(scenario.heroku.rate)) {
      const fits = scenario.heroku.kinds.filter((k) => faultFits(k, method));
      // A kind not injected yet goes first: a run that scales rarely (few PATCHes) still meets
      // every kind it was given (a 422 answers only a PATCH), whatever the seed.
      const unseen = fits.filter((k) => result.herokuFaults[k] === 0);
      const pool = unseen.length ? unseen : fits;
      kind = pool.length ? faultRng.pick(pool) : undefined;
    }
    if (kind && !faultFits(kind, method)) kind = undefined;
    if (kind === "hang" && hangs.heroku >= budget) kind = undefined;
    return kind;
  };
  let requestCount = 0;
  /** Requests sent that the fake has not received yet (a request the client gave up on travels on). */
  const inFlight = new Set<string>();
  const agent = new Agent({ keepAliveTimeout: 60_000, connections: 4 });
  const dispatcher: Dispatcher = agent.compose((dispatch) => (opts, handler) => {
    const method = (opts.method ?? "GET").toUpperCase();
    const request: SentRequest = { method, at: clock.now() };
    if (method === "PATCH" && typeof opts.body === "string")
      request.quantity = (JSON.parse(opts.body) as { updates?: { quantity?: unknown }[] }).updates?.[0]?.quantity;
    const kind = chooseHerokuFault(method);
    // Each request's fault is bound to it by id: on a loaded machine a request the client gave
    // up on (its 50 ms timeout) may reach the fake late, and must not take the next one's fault.
    const requestId = `soak-${++requestCount}`;
    inFlight.add(requestId);
    opts.headers = { ...(opts.headers as Record<string, string>), "request-id": requestId };
    if (kind) {
      const fault = herokuFault(kind, faultRng, secrets.heroku);
      fake.queueFault(fault, { times: 1, requestId });
      request.fault = kind;
      result.herokuFaults[kind]++;
      if (kind === "hang") hangs.heroku++;
      const headers = fault.kind === "respond" || fault.kind === "headers" ? (fault.headers ?? {}) : {};
      const retryAfter = headers["Retry-After"];
      if (
        kind === "429" ||
        kind === "429-no-remaining" ||
        (kind === "low-remaining" && headers["RateLimit-Remaining"] === "0")
      ) {
        request.backoffMs = retryAfter === undefined ? 60_000 : Math.max(1000, Number(retryAfter) * 1000);
      }
    }
    result.requests[method === "PATCH" ? "PATCH" : "GET"]++;
    sent.push(request);
    // Whether the client got the whole answer: on a loaded machine its 50 ms timeout may give
    // up first, and a 429 it never read cannot be honoured.
    const answered = new Proxy(handler, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== "function") return value;
        if (prop !== "onResponseEnd" && prop !== "onComplete") return value.bind(target);
        return (...args: unknown[]) => {
          request.answered = true;
          return value.apply(target, args);
        };
      },
    });
    return dispatch(opts, answered);
  });

  // Readings: the daily load of each source, or a fault.
  let pluginEvents: PluginEvent[] = [];
  const recentGood = new Map<string, number[]>();
  const pluginIncidents = new Map<string, { kind: PluginFaultKind; until: number }>();
  const sourceNames = scenario.sources.map((_, i) => `src${i}`);
  const sourceByName = new Map(scenario.sources.map((s, i) => [sourceNames[i] ?? "", s]));
  const goodValue = (name: string): number => {
    const s = must(sourceByName.get(name), `source ${name}`);
    const hour = (clock.now() % DAY) / 3_600_000;
    const daily = 0.5 + 0.5 * Math.cos(((hour - s.peakHour) / 24) * 2 * Math.PI);
    const load = s.base + s.swing * daily + s.noise * (loadRng.next() - 0.5);
    return Math.max(0, Math.round(load * cfg.max_dynos * s.per));
  };
  const plugin = soakPlugin({
    abandoned: 0,
    ignoresAbort: (name) => sourceByName.get(name)?.hangIgnoresAbort ?? false,
    next(name): Reading {
      result.readings++;
      const incident = pluginIncidents.get(name);
      let kind: PluginFaultKind | undefined;
      if (incident && clock.now() < incident.until) kind = incident.kind;
      else if (scenario.plugins.kinds.length > 0 && pluginRng.chance(scenario.plugins.rate))
        kind = pluginRng.pick(scenario.plugins.kinds);
      if (kind === "hang" && hangs.plugin >= budget) kind = undefined;
      if (!kind) {
        const value = goodValue(name);
        const list = recentGood.get(name) ?? [];
        list.push(value);
        if (list.length > 64) list.shift();
        recentGood.set(name, list);
        pluginEvents.push({ source: name, kind: "good", value });
        return { kind: "good", value };
      }
      if (kind === "hang") hangs.plugin++;
      result.pluginFaults[kind]++;
      const detail =
        kind === "throw"
          ? pluginRng.pick(["plugin-error", "type-error", "string"])
          : kind === "null"
            ? pluginRng.pick(["null", "undefined"])
            : kind === "string"
              ? pluginRng.pick(["numeric", "text"])
              : kind === "estimate-garbage"
                ? pluginRng.pick(["nan", "negative", "string"])
                : name;
      pluginEvents.push({ source: name, kind, detail });
      return { kind, detail };
    },
  });

  // Everything the scaler writes, checked line by line and kept only for the current tick.
  let logs: LogRecord[] = [];
  const logger = createLogger(
    (r) => {
      logs.push(r);
      if (r.level === "warn" || r.level === "error") note(`${r.level}: ${r.message.slice(0, 200)}`);
    },
    { level: "debug", now: () => clock.now() },
  );

  // A violation found inside a callback (an email, an alert, a stats report) would be caught
  // and logged by the code under test: keep it and throw it after the tick.
  let deferred: unknown = null;
  const guard = (check: () => void) => {
    try {
      check();
    } catch (e) {
      deferred ??= e;
    }
  };

  let leading = true;
  let leaderLossUntil = 0;
  // Emails leave through the sink's queue: waiting for it after each tick stamps each email
  // with the tick that decided it, not a later one.
  let alertsSettled: () => Promise<void> = async () => {};
  const makeAlerts = (): AlertSink => {
    const sink = createAlertSink(
      { email: "ops@example.com", sendgrid_api_key: secrets.sendgrid, min_interval: ALERT_MIN_INTERVAL_S },
      {
        app: APP,
        logger,
        http: agent,
        env: {},
        clock,
        mailer: {
          send: async (email) => {
            note(`email: ${email.subject}`);
            guard(() => checker.emailed(email.subject, email.text, clock.now()));
          },
        },
      },
    );
    alertsSettled = () => sink.settled();
    return {
      raise: (p) => {
        guard(() => checker.raised(p, clock.now()));
        sink.raise(p);
      },
      clear: (key) => {
        checker.cleared(key);
        sink.clear(key);
      },
      tick: (report, healthy) => sink.tick?.(report, healthy),
      close: () => sink.close(),
    };
  };

  const start = async () =>
    createScaler(
      {
        scaler: {
          heroku_app_name: APP,
          heroku_api_key: secrets.heroku,
          process_type: TYPE,
          heroku_api_url: fake.url,
          heroku_timeout: HEROKU_TIMEOUT_S,
          ...cfg,
        },
        plugins: scenario.sources.map((s, i) => ({
          name: sourceNames[i],
          type: "soak",
          per: s.per,
          api_key: secrets.plugin,
          interval: s.interval,
          hysteresis_period: s.hysteresis_period,
          outage_after: s.outage_after,
          timeout: PLUGIN_TIMEOUT_S,
        })),
      },
      {
        plugins: [plugin],
        clock,
        http: agent,
        logger,
        alerts: makeAlerts(),
        leader: { isLeader: () => leading, describe: () => "the soak's other scaler leads" },
        stats: {
          report: (t: TickReport) => {
            guard(() => checker.secretFree("stats payload", JSON.stringify(t)));
          },
        },
        formation: ({ scaler: s }) =>
          new HerokuClient({
            app: must(s.heroku_app_name, "scaler.heroku_app_name"),
            apiKey: must(s.heroku_api_key, "scaler.heroku_api_key"),
            processType: s.process_type,
            baseUrl: s.heroku_api_url,
            dispatcher,
            timeoutMs: s.heroku_timeout * 1000,
            clock,
          }),
      },
    );

  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on("unhandledRejection", onUnhandled);
  process.on("uncaughtException", onUnhandled);

  let scaler = await start();
  const end = clock.now() + scenario.days * DAY;
  const perTick = (perDay: number) => (perDay * cfg.interval * 1000) / DAY;
  let lastActualChange = clock.now();
  // Heroku's quantity as the fake holds it, read once per tick (serializing it costs).
  let quantity = must(fake.formation(APP, TYPE), "the formation").quantity;
  let nextDay = clock.now() + DAY;
  try {
    while (clock.now() < end) {
      // On a loaded machine a request the client gave up on may still be on its way: the tick
      // starts from what Heroku holds once it has arrived, or the checks judge a stale quantity.
      await arrived(inFlight, fake);
      const t = clock.now();
      // A PATCH the client gave up on (its 50 ms timeout, on a loaded machine) may reach the
      // fake after its tick ended: it still changed the formation the next tick starts from.
      if (fake.requests.some((r) => r.method === "PATCH")) {
        const late = must(fake.formation(APP, TYPE), "the formation").quantity;
        if (late !== quantity) {
          quantity = late;
          lastActualChange = t;
          note(`a late PATCH set ${late}`);
        }
      }

      // The world moves: a person scales, the process restarts, dependencies fail for a while.
      if (eventRng.chance(perTick(scenario.manualChangesPerDay))) {
        const current = quantity;
        const q = eventRng.int(0, cfg.max_dynos + 3);
        if (q !== current) {
          fake.setQuantity(APP, TYPE, q);
          quantity = q;
          lastActualChange = t;
          result.manualChanges++;
          note(`a person scales ${current} → ${q}`);
        }
      }
      if (eventRng.chance(perTick(scenario.restartsPerDay))) {
        await scaler.stop({ graceMs: 1000 });
        scaler = await start();
        checker.restarted();
        result.restarts++;
        note("restart");
      }
      if (leading && eventRng.chance(perTick(scenario.leadershipLossesPerDay))) {
        leading = false;
        leaderLossUntil = t + eventRng.int(1, 60) * 60_000;
        result.leadershipLosses++;
        note("another scaler takes the lead");
      } else if (!leading && t >= leaderLossUntil) {
        leading = true;
        note("the lead is back");
      }
      if (
        scenario.heroku.kinds.length > 0 &&
        !(herokuIncident && t < herokuIncident.until) &&
        eventRng.chance(perTick(scenario.heroku.incidentsPerDay))
      ) {
        const kinds = scenario.heroku.kinds.filter((k) => k !== "422");
        if (kinds.length > 0) {
          herokuIncident = { kind: eventRng.pick(kinds), until: t + eventRng.int(1, 90) * 60_000 };
          result.incidents.heroku++;
          note(`Heroku incident: ${herokuIncident.kind} until ${new Date(herokuIncident.until).toISOString()}`);
        }
      }
      if (scenario.plugins.kinds.length > 0 && eventRng.chance(perTick(scenario.plugins.incidentsPerDay))) {
        const name = eventRng.pick(sourceNames);
        const kind = eventRng.pick(scenario.plugins.kinds);
        pluginIncidents.set(name, { kind, until: t + eventRng.int(1, 180) * 60_000 });
        result.incidents.plugin++;
        note(`source incident: ${name} ${kind}`);
      }

      const before = quantity;
      const leaderAtTick = leading;
      sent = [];
      pluginEvents = [];
      logs = [];
      let report: TickReport;
      try {
        report = await withWatchdog(scaler.tick(), TICK_WATCHDOG_MS);
        checker.count("tick-resolves");
      } catch (e) {
        checker.fail("tick-resolves", `tick rejected: ${e instanceof Error ? e.stack : String(e)}`);
      }
      result.ticks++;
      await alertsSettled();
      if (deferred) throw deferred;
      const after = must(fake.formation(APP, TYPE), "the formation").quantity;
      quantity = after;
      const patch = sent.find((r) => r.method === "PATCH");
      note(
        `tick ${report.before ?? "?"}→${report.after ?? "?"} (${report.reason})${patch ? ` PATCH ${String(patch.quantity)}${patch.fault ? ` [${patch.fault}]` : ""}` : ""}`,
      );

      checker.tick({
        report,
        before,
        lastActualChange,
        sent,
        plugin: pluginEvents,
        logs,
        leader: leaderAtTick,
        recentGood,
      });
      if (after !== before) {
        lastActualChange = patch?.at ?? clock.now();
        result.scales[after > before ? "up" : "down"]++;
      }
      checker.received(
        fake.requests.map((r) => r.at),
        fake.rateLimitRemaining,
      );
      result.requests.received += fake.requests.length;
      forgetArrived(inFlight, fake.requests);
      fake.clearRequests();
      if (unhandled.length > 0)
        checker.fail(
          "no-unhandled-rejection",
          String(unhandled[0] instanceof Error ? unhandled[0].stack : unhandled[0]),
        );
      checker.count("no-unhandled-rejection");

      clock.set(Math.max(t + cfg.interval * 1000, clock.now()));
      if (clock.now() >= nextDay) {
        nextDay += DAY;
        result.simulatedDays++;
        if (options.measureHeap) {
          const collect = forceGc();
          collect();
          result.heapMb.push(process.memoryUsage().heapUsed / 2 ** 20);
        }
        options.onDay?.(result.simulatedDays);
      }
    }
  } finally {
    process.off("unhandledRejection", onUnhandled);
    process.off("uncaughtException", onUnhandled);
    await scaler.stop({ graceMs: 1000 }).catch(() => {});
    await fake.close();
    await agent.close().catch(() => {});
  }

  if (options.measureHeap) checkHeap(result.heapMb, checker);
  result.emails = checker.emails;
  result.peakRequestsPerHour = checker.peakPerHour;
  result.checks = { ...checker.counts };
  result.realMs = performance.now() - realStart;
  return result;
}

/**
 * Memory is flat when the heap after GC in the second half of the run is no bigger than in
 * the first days (after a warm-up day) plus a small allowance for V8's own noise. Anything
 * that keeps per-tick state (a growing list of readings, requests, alerts, listeners)
 * grows by megabytes over 30 days and fails this.
 */
function checkHeap(samples: readonly number[], checker: Checker): void {
  if (samples.length < 6) return;
  const early = samples.slice(1, 4);
  const late = samples.slice(Math.floor(samples.length / 2));
  const baseline = Math.max(...early);
  const worst = Math.max(...late);
  const allowanceMb = 1.5;
  checker.count("memory-flat", samples.length);
  if (worst > baseline + allowanceMb) {
    throw new SoakViolation(
      `invariant "memory-flat" violated: heap after GC grew from ${baseline.toFixed(1)} MB (days 2-4) to ${worst.toFixed(1)} MB (later): ${samples.map((m) => m.toFixed(1)).join(", ")}`,
    );
  }
}

function forgetArrived(inFlight: Set<string>, requests: readonly HerokuFakeRequest[]): void {
  for (const r of requests) {
    const id = r.headers["request-id"];
    if (typeof id === "string") inFlight.delete(id);
  }
}

/** Waits (at most 1 s of real time) for the requests still in flight to reach the fake. */
async function arrived(inFlight: Set<string>, fake: HerokuFake): Promise<void> {
  const deadline = performance.now() + 1000;
  forgetArrived(inFlight, fake.requests);
  while (inFlight.size > 0 && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 2));
    forgetArrived(inFlight, fake.requests);
  }
  // A request whose body never left the client never arrives: nothing more to wait for.
  inFlight.clear();
}

async function withWatchdog<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const watchdog = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the tick did not resolve within ${ms} ms of real time`)), ms);
  });
  try {
    return await Promise.race([promise, watchdog]);
  } finally {
    clearTimeout(timer);
  }
}
