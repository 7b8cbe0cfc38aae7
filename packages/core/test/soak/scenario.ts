import fc from "fast-check";

/** What the Heroku fake can be made to do wrong, one request at a time. */
export const HEROKU_FAULTS = [
  /** 500/502/503 with Heroku's error body, or a proxy's HTML page. */
  "5xx",
  /** 429 with `RateLimit-Remaining: 0` (and sometimes `Retry-After`). */
  "429",
  /** 429 without any `RateLimit-Remaining` header. */
  "429-no-remaining",
  /** An honest answer that says the account's budget is almost (or entirely) spent. */
  "low-remaining",
  /** Never answers: the client's timeout has to fire. Costs real time, so it is budgeted. */
  "hang",
  /** Drops the connection without answering. */
  "reset",
  /** 200 with a body that is not JSON. */
  "malformed-json",
  /** 200 with the first half of the real body (the change, if any, did happen). */
  "truncated",
  /** 200 with valid JSON that is not a formation (array, string quantity, fraction, negative, null...). */
  "wrong-shape",
  /** 401: the key was refused (revoked, say) for a while. */
  "401",
  /** 422 on a PATCH, as for a plan's dyno limit. */
  "422",
  /** 503 whose message echoes the request's Authorization header, as a broken proxy might. */
  "echo-secret",
] as const;
export type HerokuFaultKind = (typeof HEROKU_FAULTS)[number];

/** What a metric source can do wrong on one reading. */
export const PLUGIN_FAULTS = [
  "nan",
  "negative",
  "infinity",
  /** A numeric-looking or plainly non-numeric string. */
  "string",
  /** null or undefined. */
  "null",
  /** A reading worth more than 100x max_dynos. */
  "huge",
  /** `retrieve` throws (a PluginError, a TypeError, a plain string). */
  "throw",
  /** `retrieve` never settles, or settles only when aborted. Costs real time, budgeted. */
  "hang",
  /** `estimateDynos` throws. */
  "estimate-throws",
  /** `estimateDynos` answers NaN, a negative, or a string. */
  "estimate-garbage",
] as const;
export type PluginFaultKind = (typeof PLUGIN_FAULTS)[number];

export interface SourceScenario {
  interval: number;
  hysteresis_period: number;
  outage_after: number;
  /** Reading units one dyno handles. */
  per: number;
  /** Load at the quietest hour, as a fraction of what `max_dynos` dynos handle. */
  base: number;
  /** Daily swing on top of `base`, same unit. */
  swing: number;
  /** Hour of the daily peak. */
  peakHour: number;
  /** Noise, same unit. */
  noise: number;
  /** A hung `retrieve` ignores its abort signal (the worst case) instead of honouring it. */
  hangIgnoresAbort: boolean;
}

export interface Scenario {
  /** Seeds the run's own generator: load noise, fault picks, incident and event times. */
  seed: number;
  days: number;
  scaler: {
    min_dynos: number;
    max_dynos: number;
    blackout: number;
    scale_down_step: number;
    interval: number;
    heroku_poll_interval: number;
  };
  sources: SourceScenario[];
  heroku: {
    /** Probability that one request gets a fault. */
    rate: number;
    kinds: HerokuFaultKind[];
    /** Stretches (1–90 min) when every request fails the same way. */
    incidentsPerDay: number;
  };
  plugins: {
    /** Probability that one reading is a fault. */
    rate: number;
    kinds: PluginFaultKind[];
    /** Stretches (1–180 min) when one source fails every reading. */
    incidentsPerDay: number;
  };
  /** `heroku ps:scale` by a person, to any quantity from 0 to max + 3. */
  manualChangesPerDay: number;
  /** The process is stopped and a new one started (state lost, Heroku's `updated_at` kept). */
  restartsPerDay: number;
  /** Stretches (1–60 min) when the leader hook says another scaler leads. */
  leadershipLossesPerDay: number;
}

/**
 * Most hangs per run, for Heroku and for the sources each: a hang lasts the whole client or
 * plugin timeout in real time, so they are counted out (one per simulated day, at least 3).
 */
export function hangBudget(days: number): number {
  return Math.max(3, Math.ceil(days));
}

const sourceArb: fc.Arbitrary<SourceScenario> = fc.record({
  interval: fc.constantFrom(60, 30, 120, 300),
  hysteresis_period: fc.constantFrom(0, 300, 900),
  outage_after: fc.constantFrom(300, 600, 1800),
  per: fc.constantFrom(10, 25, 100),
  base: fc.double({ min: 0, max: 0.5, noNaN: true }),
  swing: fc.double({ min: 0, max: 1.2, noNaN: true }),
  peakHour: fc.integer({ min: 0, max: 23 }),
  noise: fc.double({ min: 0, max: 0.3, noNaN: true }),
  hangIgnoresAbort: fc.boolean(),
});

/**
 * Scenarios shrink toward something small: fewer fault kinds, lower rates, fewer
 * incidents and events, one source, shorter runs. `days` bounds the run's length.
 */
export function scenarioArb(options: {
  days: { min: number; max: number };
  interval?: number;
  herokuPollInterval?: number;
}): fc.Arbitrary<Scenario> {
  const scaler = fc
    .record({
      min_dynos: fc.integer({ min: 0, max: 3 }),
      span: fc.integer({ min: 1, max: 20 }),
      blackout: fc.constantFrom(300, 0, 60, 900),
      scale_down_step: fc.constantFrom(1, 0, 2),
      interval: options.interval === undefined ? fc.constantFrom(30, 15, 60) : fc.constant(options.interval),
      heroku_poll_interval:
        options.herokuPollInterval === undefined ? fc.constantFrom(60, 120) : fc.constant(options.herokuPollInterval),
    })
    .map(({ span, ...s }) => ({ ...s, max_dynos: s.min_dynos + span }));
  return fc.record({
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    days: fc.integer(options.days),
    scaler,
    sources: fc.array(sourceArb, { minLength: 1, maxLength: 3 }),
    heroku: fc.record({
      rate: fc.double({ min: 0, max: 0.15, noNaN: true }),
      kinds: fc.subarray([...HEROKU_FAULTS]),
      incidentsPerDay: fc.double({ min: 0, max: 3, noNaN: true }),
    }),
    plugins: fc.record({
      rate: fc.double({ min: 0, max: 0.15, noNaN: true }),
      kinds: fc.subarray([...PLUGIN_FAULTS]),
      incidentsPerDay: fc.double({ min: 0, max: 3, noNaN: true }),
    }),
    manualChangesPerDay: fc.double({ min: 0, max: 8, noNaN: true }),
    restartsPerDay: fc.double({ min: 0, max: 1.5, noNaN: true }),
    leadershipLossesPerDay: fc.double({ min: 0, max: 2, noNaN: true }),
  });
}

/**
 * A scenario with every kind of trouble switched on and a real daily swing (so the app is
 * scaled up and down every day), for the long run.
 */
export function everythingOn(s: Scenario): Scenario {
  const [first, ...rest] = s.sources;
  const busy = first && { ...first, base: Math.max(first.base, 0.1), swing: Math.max(first.swing, 0.8) };
  return {
    ...s,
    scaler: { ...s.scaler, max_dynos: Math.max(s.scaler.max_dynos, s.scaler.min_dynos + 6) },
    sources: busy ? [busy, ...rest] : s.sources,
    heroku: {
      ...s.heroku,
      kinds: [...HEROKU_FAULTS],
      rate: Math.max(s.heroku.rate, 0.05),
      incidentsPerDay: Math.max(s.heroku.incidentsPerDay, 1),
    },
    plugins: {
      ...s.plugins,
      kinds: [...PLUGIN_FAULTS],
      rate: Math.max(s.plugins.rate, 0.05),
      incidentsPerDay: Math.max(s.plugins.incidentsPerDay, 1),
    },
    manualChangesPerDay: Math.max(s.manualChangesPerDay, 3),
    restartsPerDay: Math.max(s.restartsPerDay, 0.5),
    leadershipLossesPerDay: Math.max(s.leadershipLossesPerDay, 0.5),
  };
}
