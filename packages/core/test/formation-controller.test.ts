import { HerokuError } from "@dynosaur/host";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../src/clock.js";
import { DynosaurError } from "../src/errors.js";
import { FormationController } from "../src/formation/controller.js";
import type { FormationApi, FormationState } from "../src/formation/simulated.js";

/** A formation that a test scales "by hand" and that records what Dynosaur asked. */
class HandFormation implements FormationApi {
  state: Omit<FormationState, "type"> = { quantity: 2, updatedAt: 0 };
  failNextScale: Error | null = null;
  asked: number[] = [];
  list = async (): Promise<FormationState[]> => [{ type: "web", ...this.state }];
  async update(updates: ReadonlyArray<{ type: string; quantity: number }>) {
    const quantity = updates[0]?.quantity ?? 0;
    this.asked.push(quantity);
    const failure = this.failNextScale;
    this.failNextScale = null;
    if (failure instanceof HerokuError) throw failure;
    this.state = { quantity, updatedAt: 0 };
    // A lost response: the change went through, the caller never heard.
    if (failure) throw failure;
    return [{ type: "web", ...this.state }];
  }
}

const NEVER = new AbortController().signal;
const MIN = 60_000;

/** The controller of `shop` web on `formation`, for an engine ticking every 5 s. */
function controllerOf(formation: FormationApi, clock: ManualClock, leading?: () => boolean) {
  const leader = leading ? { isLeader: leading, describe: () => "the other one leads" } : undefined;
  return new FormationController({
    formation,
    app: "shop",
    processTypes: ["web"],
    intervalMs: 5000,
    pollIntervalMs: 60_000,
    clock,
    leader,
  });
}

function setup(leading?: () => boolean) {
  const clock = new ManualClock(Date.UTC(2026, 10, 30));
  const formation = new HandFormation();
  const controller = controllerOf(formation, clock, leading);
  /** Applies one change to web, as the loop does. */
  const apply = async (from: number, target: number) =>
    (await controller.apply([{ type: "web", from, target }], clock.now(), NEVER)).get("web");
  const read = async (force = false) => {
    const r = await controller.read(clock.now(), NEVER, force);
    return r.ok ? { ok: true, quantity: r.quantities.get("web") } : r;
  };
  const events: ReturnType<FormationController["drainEvents"]> = [];
  /** Reads the formation after a person set it to `quantity`, `minutes` later. */
  const byHand = async (quantity: number, minutes: number) => {
    clock.advance(minutes * MIN);
    formation.state = { quantity, updatedAt: clock.now() };
    await read(true);
    events.push(...controller.drainEvents());
  };
  const foreign = () => events.filter((e) => e.kind === "foreign-scaler");
  return { clock, formation, controller, byHand, foreign, events, apply, read };
}

describe("formation controller", () => {
  it("counts the blackout from Heroku's updated_at on the first read, and from our own change after", async () => {
    const { clock, formation, controller, apply, read } = setup();
    formation.state = { quantity: 3, updatedAt: clock.now() - 30_000 };
    expect(await read()).toEqual({ ok: true, quantity: 3 });
    expect(controller.lastChange("web")).toBe(clock.now() - 30_000);
    clock.advance(5000);
    expect(await apply(3, 5)).toEqual({ kind: "applied", quantity: 5 });
    expect(controller.lastChange("web")).toBe(clock.now());
    expect(controller.drainEvents().map((e) => [e.kind, e.message])).toEqual([["scale", "scaled web 3 → 5"]]);
  });

  it("answers from its cache within the poll interval and backs off after a failure", async () => {
    const { clock, formation, controller, read } = setup();
    await read();
    formation.state = { quantity: 9, updatedAt: 0 };
    clock.advance(30_000);
    expect(await read()).toEqual({ ok: true, quantity: 2 });
    formation.list = async () => {
      throw new HerokuError("HEROKU_UNAVAILABLE", "Heroku failed (503)");
    };
    expect(await read(true)).toEqual({ ok: false, code: "HEROKU_UNAVAILABLE" });
    // Backed off for one tick: no call goes out, the answer is still unavailable.
    let calls = 0;
    formation.list = async () => {
      calls++;
      return [{ type: "web", quantity: 9, updatedAt: 0 }];
    };
    clock.advance(31_000);
    expect(await read()).toEqual({ ok: true, quantity: 9 });
    expect(calls).toBe(1);
    expect(controller.drainEvents().map((e) => e.kind)).toEqual(["heroku-error", "heroku-recovered", "manual-change"]);
  });

  it("remembers a refused quantity, goes to the limit Heroku names at the next tick, and forgets it after an hour", async () => {
    const { clock, formation, controller, apply, read } = setup();
    await read();
    formation.failNextScale = new HerokuError(
      "HEROKU_UNPROCESSABLE",
      "Cannot update to more than 6 dynos per process type",
      { status: 422, limit: 6 },
    );
    // One change per tick: the limit is asked for at the next tick, not in this one.
    expect(await apply(2, 9)).toEqual({ kind: "refused", quantity: 2, limit: 6 });
    expect(formation.asked).toEqual([9]);
    expect(controller.refusedQuantity("web", clock.now())).toBe(7);
    clock.advance(5000);
    expect(await apply(2, 6)).toEqual({ kind: "applied", quantity: 6 });
    expect(formation.asked).toEqual([9, 6]);
    clock.advance(61 * MIN);
    expect(controller.refusedQuantity("web", clock.now())).toBeNull();
    expect(controller.drainEvents().map((e) => e.kind)).toEqual(["heroku-refused", "scale", "heroku-refusal-lifted"]);
  });

  it("never changes the formation while another scaler leads", async () => {
    const { formation, apply, read } = setup(() => false);
    await read();
    expect(await apply(2, 5)).toEqual({ kind: "standby", quantity: 2, reason: "the other one leads" });
    expect(formation.asked).toEqual([]);
  });

  it("a refused scale-down is an error that ends at Heroku's next answer, even when no scale follows", async () => {
    const { clock, formation, controller, apply, read } = setup();
    await read();
    formation.failNextScale = new HerokuError(
      "HEROKU_UNPROCESSABLE",
      "Cannot update to more than 4 Standard-1X size dynos per process type.",
      { status: 422, limit: 4 },
    );
    expect(await apply(2, 1)).toMatchObject({ kind: "unavailable", quantity: 2, code: "HEROKU_UNPROCESSABLE" });
    expect(controller.refusedQuantity("web", clock.now())).toBeNull();
    clock.advance(61 * MIN);
    expect(await read()).toEqual({ ok: true, quantity: 2 });
    expect(controller.errorCode).toBeNull();
    expect(controller.drainEvents().map((e) => e.kind)).toEqual(["heroku-error", "heroku-recovered"]);
  });

  it("a scale held back by the rate limit ends when the limit does, at the next read", async () => {
    const { clock, formation, controller, apply, read } = setup();
    await read();
    formation.failNextScale = new HerokuError("HEROKU_RATE_LIMITED", "rate limit exhausted", {
      retryAt: clock.now() + MIN,
    });
    expect(await apply(2, 5)).toMatchObject({ kind: "unavailable", code: "HEROKU_RATE_LIMITED" });
    clock.advance(2 * MIN);
    expect(await read()).toEqual({ ok: true, quantity: 2 });
    expect(controller.errorCode).toBeNull();
    expect(controller.drainEvents().map((e) => e.kind)).toEqual(["heroku-error", "heroku-recovered"]);
  });

  it("reports a failed change as unavailable with its code", async () => {
    const { formation, controller, apply, read } = setup();
    await read();
    formation.failNextScale = new HerokuError("HEROKU_RATE_LIMITED", "rate limit exhausted");
    expect(await apply(2, 5)).toEqual({ kind: "unavailable", quantity: 2, code: "HEROKU_RATE_LIMITED" });
    expect(controller.errorCode).toBe("HEROKU_RATE_LIMITED");
  });
});

describe("backing off a failing Heroku", () => {
  /** A formation whose reads and scales a test makes fail, counting every call that goes out. */
  function failing() {
    const calls: { op: "list" | "update"; at: number }[] = [];
    const clock = new ManualClock(Date.UTC(2026, 10, 30));
    const events: ReturnType<FormationController["drainEvents"]> = [];
    const state = {
      quantity: 2,
      listError: null as Error | null,
      updateError: null as Error | null,
    };
    const c = controllerOf(
      {
        list: async () => {
          calls.push({ op: "list", at: clock.now() });
          if (state.listError) throw state.listError;
          return [{ type: "web", quantity: state.quantity, updatedAt: 0 }];
        },
        update: async (updates) => {
          calls.push({ op: "update", at: clock.now() });
          if (state.updateError) throw state.updateError;
          state.quantity = updates[0]?.quantity ?? 0;
          return [{ type: "web", quantity: state.quantity, updatedAt: 0 }];
        },
      },
      clock,
    );
    /** One tick wanting `target` dynos, as the loop runs it: read, read again before a change, scale. */
    const tick = async (target: number, signal = NEVER) => {
      const now = clock.now();
      const read = await c.read(now, signal);
      if (!read.ok) return;
      const from = read.quantities.get("web") ?? 0;
      if (from === target) return;
      if (!c.readIsFresh(now) && !(await c.read(now, signal, true)).ok) return;
      await c.apply([{ type: "web", from, target }], now, signal);
    };
    /** Ticks every 5 s for `seconds`, then gives the events. */
    const run = async (target: number, seconds: number) => {
      for (let t = 0; t < seconds; t += 5) {
        await tick(target);
        clock.advance(5000);
      }
      events.push(...c.drainEvents());
      return events.map((e) => e.kind);
    };
    return { clock, controller: c, state, calls, tick, run, start: clock.now() };
  }

  it("a key that reads but cannot scale: scales are backed off, and a working read is no recovery", async () => {
    const { controller, state, calls, run, tick, start } = failing();
    await tick(2);
    state.updateError = new HerokuError("HEROKU_FORBIDDEN", "Insufficient scope (read)", { status: 403 });
    const kinds = await run(6, 150);
    const scales = calls.filter((c) => c.op === "update").map((c) => (c.at - start) / 1000);
    // 1, 2, 4, 8 ticks apart, then a poll interval: not once a tick (30 calls).
    expect(scales).toEqual([0, 5, 15, 35, 75, 135]);
    expect(kinds.filter((k) => k === "heroku-recovered")).toEqual([]);
    expect(kinds.filter((k) => k === "heroku-error")).toHaveLength(6);
    expect(controller.errorCode).toBe("HEROKU_FORBIDDEN");
    // The key is fixed: the next scale works and ends the streak.
    state.updateError = null;
    const after = await run(6, 60);
    expect(after.slice(-2)).toEqual(["heroku-recovered", "scale"]);
  });

  it("with a change pending, the read before it keeps the back-off its log line announced", async () => {
    const { state, calls, run, tick, clock, start } = failing();
    await tick(2);
    clock.advance(5000);
    state.listError = new HerokuError("HEROKU_UNAVAILABLE", "Heroku failed (503)", { status: 503 });
    await run(6, 60);
    const reads = calls.filter((c) => c.op === "list").map((c) => (c.at - start) / 1000);
    // The first read, then a failed one at 5 s and retries 5, 10, 20 s after (not one a tick).
    expect(reads).toEqual([0, 5, 10, 20, 40]);
  });

  it("after a 429, waits for Heroku's Retry-After, with one error line", async () => {
    const { state, calls, run, tick, clock, start } = failing();
    await tick(2);
    state.updateError = new HerokuError("HEROKU_RATE_LIMITED", "rate limit exhausted", {
      status: 429,
      retryAt: clock.now() + 20_000,
    });
    const kinds = await run(6, 15);
    expect(kinds.filter((k) => k === "heroku-error")).toHaveLength(1);
    state.updateError = null;
    await run(6, 10);
    const scales = calls.filter((c) => c.op === "update").map((c) => (c.at - start) / 1000);
    expect(scales).toEqual([0, 20]);
  });

  it("a call abandoned because Dynosaur is stopping is no Heroku error", async () => {
    const { controller, state, tick } = failing();
    await tick(2);
    const stopping = new AbortController();
    stopping.abort(new Error("stopping"));
    state.updateError = new DynosaurError("HEROKU_UNAVAILABLE", "stopping");
    await tick(6, stopping.signal);
    expect(controller.drainEvents().map((e) => e.kind)).toEqual([]);
  });
});

describe("noticing another scaler without a database", () => {
  it("one change by hand is not another scaler; a second within the window is, and the warning names app and process type", async () => {
    const { byHand, foreign, events, read } = setup();
    await read();
    await byHand(5, 1);
    expect(events.map((e) => e.kind)).toEqual(["manual-change"]);
    expect(foreign()).toHaveLength(0);
    await byHand(3, 2);
    expect(foreign()).toHaveLength(1);
    expect(foreign()[0]?.level).toBe("warn");
    expect(foreign()[0]?.message).toMatch(
      /ANOTHER SCALER\? the web formation of app shop changed 2 times in 15 min without this Dynosaur/,
    );
    expect(foreign()[0]?.message).toContain("DATABASE_URL");
    // Once per window, not once per change.
    await byHand(6, 1);
    expect(foreign()).toHaveLength(1);
  });

  it("changes far apart are a person now and then, not another scaler", async () => {
    const { byHand, foreign, read } = setup();
    await read();
    for (const q of [5, 3, 7]) await byHand(q, 16);
    expect(foreign()).toHaveLength(0);
  });

  it("our own changes never count, even when the response was lost", async () => {
    const { controller, clock, formation, events, apply, read } = setup();
    await read();
    await apply(2, 4);
    formation.failNextScale = new DynosaurError("HEROKU_UNAVAILABLE", "response lost");
    clock.advance(5000);
    expect((await apply(4, 6))?.kind).toBe("unavailable");
    clock.advance(5000);
    expect(await read(true)).toEqual({ ok: true, quantity: 6 });
    expect(controller.lastChange("web")).toBe(clock.now());
    events.push(...controller.drainEvents());
    expect(events.map((e) => e.kind)).toEqual(["scale", "heroku-error", "heroku-recovered"]);
  });

  it("a standby expects the leader's changes", async () => {
    let leading = false;
    const { byHand, foreign, read } = setup(() => leading);
    await read();
    for (const q of [5, 3, 7]) await byHand(q, 0.2);
    expect(foreign()).toHaveLength(0);
    leading = true;
    for (const q of [4, 8]) await byHand(q, 0.2);
    expect(foreign()).toHaveLength(1);
  });
});

describe("a formation port that asks for a longer poll interval (an API budget)", () => {
  it("reads no more often than the longer of the two, and still reads at once before a change", async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 30));
    let asked = 5 * MIN;
    let reads = 0;
    const hand = new HandFormation();
    const formation: FormationApi = {
      list: async () => {
        reads++;
        return hand.list();
      },
      update: (u) => hand.update(u),
      minPollIntervalMs: () => asked,
    };
    const controller = controllerOf(formation, clock);
    await controller.read(clock.now(), NEVER);
    expect(controller.pollIntervalMs()).toBe(5 * MIN);
    clock.advance(4 * MIN);
    await controller.read(clock.now(), NEVER);
    expect(reads).toBe(1);
    // A read right before a change is never held back.
    await controller.read(clock.now(), NEVER, true);
    expect(reads).toBe(2);
    clock.advance(5 * MIN);
    await controller.read(clock.now(), NEVER);
    expect(reads).toBe(3);
    // Asking for less than the configured interval changes nothing: the longer one holds.
    asked = 10_000;
    expect(controller.pollIntervalMs()).toBe(MIN);
    clock.advance(30_000);
    await controller.read(clock.now(), NEVER);
    expect(reads).toBe(3);
  });
});
