import { describe, expect, it } from "vitest";
import { appState, processState } from "../src/app-state.js";

const ok = [{ name: "site", health: "ok" as const }];
const p = (over: Partial<Parameters<typeof processState>[0]>) =>
  processState({ type: "web", current: 4, estimate: 4, sources: ok, min: 2, max: 8, ...over });

describe("an app's state in words", () => {
  it("an outage first, then at max, scaling, steady", () => {
    expect(p({ sources: [{ name: "site", health: "outage" }] })).toEqual({
      state: "outage: site has no reading",
      attention: true,
    });
    expect(p({ current: 12, estimate: 12, max: 12 })).toEqual({ state: "at max (12 of 12)", attention: true });
    expect(p({ estimate: 6 })).toEqual({ state: "scaling up to 6", attention: false });
    expect(p({ estimate: 3 })).toEqual({ state: "scaling down to 3", attention: false });
    expect(p({ current: 2, estimate: 2 })).toEqual({ state: "steady at 2 (at min 2)", attention: false });
    expect(p({ sources: [{ name: "site", health: "stale" }] })).toEqual({
      state: "steady at 4; site stale",
      attention: true,
    });
    expect(p({ current: null })).toEqual({ state: "no tick yet", attention: false });
  });

  it("the app: what stops it first, then each process type", () => {
    const web = { type: "web", ...p({ current: 8, estimate: 8 }) };
    const worker = { type: "worker", ...p({ type: "worker", current: 0, estimate: 0, min: 0 }) };
    expect(appState({ paused: true, dryRun: true, problem: null, processes: [web, worker] })).toEqual({
      state: "paused · dry run · web: at max (8 of 8) · worker: steady at 0 (at min 0)",
      attention: true,
    });
    expect(appState({ paused: false, dryRun: false, problem: "REDIS_URL is not set", processes: [] })).toEqual({
      state: "cannot run: REDIS_URL is not set",
      attention: true,
    });
    expect(appState({ paused: false, dryRun: null, problem: null, processes: [] })).toEqual({
      state: "no tick yet",
      attention: false,
    });
  });
});
