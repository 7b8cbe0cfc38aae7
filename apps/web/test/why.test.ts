import { gaSource, nrSource, sampleTick } from "@dynosaur/core/testing";
import { describe, expect, it } from "vitest";
import { whyScaled } from "../src/why.js";

describe("why a process type scaled, in words", () => {
  it("names the winning source, its reading and what it asks for", () => {
    expect(whyScaled(sampleTick(), 2, 5)).toBe("web 2 → 5: ga read 312 active users, needs 5");
  });

  it("says when max capped the estimate, or min raised it", () => {
    const site = { ...gaSource, name: "site", unit: "req/min", value: 54, estimate: 27 };
    expect(whyScaled(sampleTick({ winner: "site", estimate: 8, sources: [site] }), 2, 8)).toBe(
      "web 2 → 8: site read 54 req/min, needs 27, capped at max 8",
    );
    const quiet = { ...nrSource, value: 10.25, estimate: 1 };
    expect(
      whyScaled(
        sampleTick({
          processType: "worker",
          winner: "nr",
          estimate: 3,
          reason: "below min_dynos (3)",
          sources: [quiet],
        }),
        1,
        3,
      ),
    ).toBe("worker 1 → 3: nr read 10.3 rpm, needs 1, raised to min 3, below min_dynos (3)");
  });

  it("without a winning reading, the policy's reason", () => {
    expect(whyScaled(sampleTick({ winner: null, estimate: null, reason: "above max_dynos (4)" }), 6, 4)).toBe(
      "web 6 → 4: above max_dynos (4)",
    );
  });
});
