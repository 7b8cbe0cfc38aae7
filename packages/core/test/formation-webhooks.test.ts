import { describe, expect, it } from "vitest";
import { ManualClock } from "../src/clock.js";
import { FormationController, WEBHOOK_SAFETY_READ_MS } from "../src/formation/controller.js";
import type { FormationApi, FormationState } from "../src/formation/simulated.js";

/* What Heroku's app webhooks tell the formation controller: `observe`, the hold, the safety read. */

/** A formation that counts reads; `answer` resolves a scale the test holds open. */
class CountingFormation implements FormationApi {
  quantity = 2;
  reads = 0;
  pending: (() => void) | null = null;
  async list(): Promise<FormationState[]> {
    this.reads++;
    return [{ type: "web", quantity: this.quantity, updatedAt: 0 }];
  }
  async update(updates: ReadonlyArray<{ type: string; quantity: number }>): Promise<FormationState[]> {
    const quantity = updates[0]?.quantity ?? 0;
    await new Promise<void>((resolve) => {
      this.pending = resolve;
    });
    this.quantity = quantity;
    return [{ type: "web", quantity, updatedAt: 0 }];
  }
}

const NEVER = new AbortController().signal;

async function setup() {
  const clock = new ManualClock(Date.UTC(2026, 11, 7));
  const formation = new CountingFormation();
  const controller = new FormationController({
    formation,
    app: "shop",
    processTypes: ["web"],
    intervalMs: 5000,
    pollIntervalMs: 60_000,
    clock,
  });
  await controller.read(clock.now(), NEVER);
  controller.drainEvents();
  return { clock, formation, controller };
}

describe("the formation controller and Heroku's webhooks", () => {
  it("a change by someone else is a manual change naming them, returned at once, and restarts the blackout", async () => {
    const { clock, controller } = await setup();
    clock.advance(30_000);
    const events = controller.observe({
      kind: "formation",
      type: "web",
      quantity: 6,
      from: 2,
      actor: "ann@example.com",
    });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      kind: "manual-change",
      processType: "web",
      fields: { from: 2, to: 6, actor: "ann@example.com", via: "webhook" },
    });
    expect(events[0]?.message).toContain("by ann@example.com: web 2 → 6");
    expect(controller.current("web")).toBe(6);
    expect(controller.lastChange("web")).toBe(clock.now());
    // Not told again with the next tick.
    expect(controller.drainEvents()).toEqual([]);
    // A type it does not scale, or the quantity it has: nothing.
    expect(controller.observe({ kind: "formation", type: "worker", quantity: 3, actor: null })).toEqual([]);
    expect(controller.observe({ kind: "formation", type: "web", quantity: 6, actor: null })).toEqual([]);
  });

  it("its own change, told by the webhook before Heroku's answer arrives, is no manual change", async () => {
    const { clock, formation, controller } = await setup();
    const applying = controller.apply([{ type: "web", from: 2, target: 4 }], clock.now(), NEVER);
    expect(controller.observe({ kind: "formation", type: "web", quantity: 4, actor: "scaler@example.com" })).toEqual(
      [],
    );
    formation.pending?.();
    expect((await applying).get("web")).toEqual({ kind: "applied", quantity: 4 });
    expect(controller.drainEvents().map((e) => e.kind)).toEqual(["scale"]);
  });

  it("while webhooks flow, reads are safety reads; a change only a read found turns them back", async () => {
    const { clock, formation, controller } = await setup();
    expect(controller.pollIntervalMs()).toBe(60_000);
    controller.observe({ kind: "webhook" });
    expect([controller.webhooksFlowing, controller.pollIntervalMs()]).toEqual([true, WEBHOOK_SAFETY_READ_MS]);
    const reads = formation.reads;
    clock.advance(5 * 60_000);
    await controller.read(clock.now(), NEVER);
    expect(formation.reads).toBe(reads);
    clock.advance(5 * 60_000);
    formation.quantity = 3;
    await controller.read(clock.now(), NEVER);
    expect(formation.reads).toBe(reads + 1);
    const [missed] = controller.drainEvents();
    expect(missed?.kind).toBe("manual-change");
    expect(missed?.message).toMatch(/no Heroku webhook told it, so reading every 60 s again/);
    expect([controller.webhooksFlowing, controller.pollIntervalMs()]).toEqual([false, 60_000]);
  });

  it("a hold answers every change held, with its reason, until it ends or is lifted", async () => {
    const { clock, formation, controller } = await setup();
    const until = clock.now() + 60_000;
    controller.observe({ kind: "hold", reason: "Heroku is prebooting release v9", until });
    expect(controller.held(clock.now())).toEqual({ reason: "Heroku is prebooting release v9", until });
    const held = await controller.apply([{ type: "web", from: 2, target: 5 }], clock.now(), NEVER);
    expect(held.get("web")).toEqual({ kind: "held", quantity: 2, reason: "Heroku is prebooting release v9" });
    expect(formation.pending).toBeNull();
    clock.set(until);
    expect(controller.held(clock.now())).toBeNull();
    controller.observe({ kind: "hold", reason: "again", until: clock.now() + 60_000 });
    controller.observe({ kind: "lift" });
    expect(controller.held(clock.now())).toBeNull();
  });
});
