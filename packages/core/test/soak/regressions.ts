import type { Scenario } from "./scenario.js";

/**
 * Scenarios a random soak seed once broke, as fast-check shrank them: each replays in the
 * normal test run, so the fix that made it pass stays in place. Printed by a failing soak
 * after "scenario:"; the seed is the one `pnpm test:soak` / `pnpm soak:seeds` reported.
 */
export const REGRESSIONS: ReadonlyArray<{ seed: number; broke: string; scenario: Scenario }> = [
  {
    seed: 1793402757,
    broke:
      "alerts-clear: Heroku refused a scale-down (422) and answered reads again, but the heroku-error alert stayed until a scale went through",
    scenario: {
      seed: 0,
      days: 30,
      scaler: {
        min_dynos: 1,
        blackout: 60,
        scale_down_step: 1,
        interval: 60,
        heroku_poll_interval: 120,
        max_dynos: 19,
      },
      sources: [
        {
          interval: 120,
          hysteresis_period: 900,
          outage_after: 300,
          per: 25,
          base: 0.1,
          swing: 0.8,
          peakHour: 22,
          noise: 1.476515829011954e-229,
          hangIgnoresAbort: false,
        },
        {
          interval: 30,
          hysteresis_period: 900,
          outage_after: 300,
          per: 100,
          base: 8.675192511938012e-300,
          swing: 1.268151686955059e-113,
          peakHour: 2,
          noise: 3.27992191856636e-7,
          hangIgnoresAbort: true,
        },
        {
          interval: 300,
          hysteresis_period: 900,
          outage_after: 1800,
          per: 100,
          base: 1.864007641507087e-142,
          swing: 9.001250987281414e-296,
          peakHour: 18,
          noise: 0.00003432539797202685,
          hangIgnoresAbort: false,
        },
      ],
      heroku: {
        rate: 0.05,
        kinds: [
          "5xx",
          "429",
          "429-no-remaining",
          "low-remaining",
          "hang",
          "reset",
          "malformed-json",
          "truncated",
          "wrong-shape",
          "401",
          "422",
          "echo-secret",
        ],
        incidentsPerDay: 2.999999999999998,
      },
      plugins: {
        rate: 0.05,
        kinds: [
          "nan",
          "negative",
          "infinity",
          "string",
          "null",
          "huge",
          "throw",
          "hang",
          "estimate-throws",
          "estimate-garbage",
        ],
        incidentsPerDay: 1,
      },
      manualChangesPerDay: 3,
      restartsPerDay: 1.4999999999999993,
      leadershipLossesPerDay: 0.5,
    },
  },
  {
    seed: 1940335113,
    broke:
      "alerts-clear: a scale held back by the rate-limit back-off (no request sent) kept the heroku-error alert after reads worked again",
    scenario: {
      seed: 240598924,
      days: 1,
      scaler: { min_dynos: 0, blackout: 300, scale_down_step: 1, interval: 30, heroku_poll_interval: 60, max_dynos: 7 },
      sources: [
        {
          interval: 30,
          hysteresis_period: 0,
          outage_after: 600,
          per: 10,
          base: 1.2374707648161321e-52,
          swing: 1.1999999999999966,
          peakHour: 3,
          noise: 1.107217732870214e-298,
          hangIgnoresAbort: false,
        },
        {
          interval: 30,
          hysteresis_period: 0,
          outage_after: 1800,
          per: 10,
          base: 2.237360810722715e-58,
          swing: 1.0653060339108984e-184,
          peakHour: 19,
          noise: 0.2999999999999997,
          hangIgnoresAbort: false,
        },
      ],
      heroku: {
        rate: 0.1499999999999996,
        kinds: ["5xx", "429", "low-remaining", "reset", "malformed-json", "422"],
        incidentsPerDay: 8.338389313544008e-70,
      },
      plugins: { rate: 7.4220879025627295e-168, kinds: ["negative"], incidentsPerDay: 6.348755922042004e-13 },
      manualChangesPerDay: 1.5201466280867934e-234,
      restartsPerDay: 5e-323,
      leadershipLossesPerDay: 4.748049568003088e-209,
    },
  },
];
