import { describe, expect, it } from "vitest";
import { fairShare, planShare, shareSlack, weight } from "../src/share.js";

const APPS = Array.from({ length: 300 }, (_, i) => `app-${i}`);

/** The instance rendezvous hashing picks for an app among `live`. */
const home = (app: string, live: string[]) => live.reduce((best, i) => (weight(app, i) > weight(app, best) ? i : best));

/**
 * Rounds of processes sharing apps as the supervisor does, with a lock table standing in
 * for PostgreSQL's (a claim takes the first free apps in the order asked, up to the limit).
 */
function simulate(held: Map<string, Set<string>>, rounds: number): number {
  const owner = new Map<string, string>();
  for (const [i, apps] of held) for (const a of apps) owner.set(a, i);
  const released = new Map<string, Map<string, number>>();
  let moves = 0;
  for (let round = 1; round <= rounds; round++) {
    const live = [...held.keys()];
    for (const self of live) {
      const mine = held.get(self) as Set<string>;
      const cooling = released.get(self) ?? new Map<string, number>();
      released.set(self, cooling);
      const plan = planShare({
        self,
        live,
        apps: APPS.length,
        held: [...mine],
        candidates: APPS.filter((a) => !mine.has(a) && !(round - (cooling.get(a) ?? -99) <= 3)),
      });
      for (const a of plan.release) {
        mine.delete(a);
        owner.delete(a);
        cooling.set(a, round);
        moves++;
      }
      let room = plan.claimLimit;
      for (const a of plan.claim) {
        if (room <= 0) break;
        if (owner.has(a)) continue;
        owner.set(a, self);
        mine.add(a);
        room--;
      }
    }
  }
  return moves;
}

describe("sharing apps among server processes", () => {
  it("a share is ceil(apps / live) with a twentieth of slack", () => {
    expect(fairShare(300, 3)).toBe(100);
    expect(fairShare(301, 3)).toBe(101);
    expect(fairShare(5, 0)).toBe(5);
    expect(shareSlack(100)).toBe(5);
    expect(shareSlack(3)).toBe(1);
  });

  it("rendezvous hashing moves only the apps a joining instance becomes best for", () => {
    const before = new Map(APPS.map((a) => [a, home(a, ["a", "b", "c"])]));
    const after = new Map(APPS.map((a) => [a, home(a, ["a", "b", "c", "d"])]));
    const moved = APPS.filter((a) => before.get(a) !== after.get(a));
    expect(moved.every((a) => after.get(a) === "d")).toBe(true);
    expect(moved.length).toBeGreaterThan(50);
    expect(moved.length).toBeLessThan(100);
  });

  it("over the limit, a process lets a batch of its least wanted apps go, never below its share", () => {
    const live = ["a", "b", "c"];
    const plan = planShare({ self: "a", live, apps: 300, held: APPS, candidates: [] });
    expect(plan).toMatchObject({ share: 100, limit: 105, claim: [], claimLimit: 0 });
    expect(plan.release).toHaveLength(25);
    // The apps another process is best for go first.
    expect(plan.release.every((a) => home(a, live) !== "a")).toBe(true);
    const last = planShare({ self: "a", live, apps: 300, held: APPS.slice(0, 110), candidates: [] });
    expect(last.release).toHaveLength(10);
    // Within the slack it keeps what it has.
    const within = planShare({ self: "a", live, apps: 300, held: APPS.slice(0, 105), candidates: APPS.slice(105) });
    expect(within.release).toEqual([]);
    expect(within.claimLimit).toBe(0);
  });

  it("under the limit, a process asks first for the apps it is best for", () => {
    const live = ["a", "b", "c"];
    const plan = planShare({ self: "b", live, apps: 300, held: APPS.slice(0, 40), candidates: APPS.slice(40) });
    expect(plan.claimLimit).toBe(65);
    const homes = plan.claim.filter((a) => home(a, live) === "b").length;
    expect(plan.claim.slice(0, homes).every((a) => home(a, live) === "b")).toBe(true);
    expect(plan.claim.slice(homes).some((a) => home(a, live) === "b")).toBe(false);
    expect(new Set(plan.claim)).toEqual(new Set(APPS.slice(40)));
  });

  it("processes joining one that holds every app even out, then stop moving apps", () => {
    const held = new Map([
      ["a", new Set(APPS)],
      ["b", new Set<string>()],
      ["c", new Set<string>()],
    ]);
    simulate(held, 20);
    for (const apps of held.values()) expect(apps.size).toBeGreaterThanOrEqual(95);
    expect([...held.values()].reduce((n, s) => n + s.size, 0)).toBe(300);
    expect(simulate(held, 20)).toBe(0);
    // A fourth joins: about a quarter moves to it, and it takes about its share.
    held.set("d", new Set());
    const moves = simulate(held, 20);
    expect(moves).toBeLessThanOrEqual(80);
    for (const apps of held.values()) expect(apps.size).toBeGreaterThanOrEqual(70);
    expect([...held.values()].reduce((n, s) => n + s.size, 0)).toBe(300);
  });
});
