import { describe, expect, it } from "vitest";
import type { AppEvent } from "../src/api.js";
import { groupBursts } from "../src/bursts.js";

const T0 = Date.UTC(2026, 0, 1, 3);
const ev = (minute: number, kind: string, process: string | null = "web"): AppEvent => ({
  at: new Date(T0 + minute * 60_000).toISOString(),
  kind,
  message: `${kind} at ${minute}`,
  data: { process },
});

describe("bursts of scale events fold under their newest", () => {
  it("one process type's scales within 10 minutes of each other are one group; anything else breaks it", () => {
    const log = [
      ev(40, "scale-down"),
      ev(35, "scale-up"),
      ev(30, "scale-up", "worker"),
      ev(28, "scale-up"),
      ev(10, "scale-up"),
      ev(5, "config-changed", null),
      ev(4, "scale-up"),
    ];
    expect(groupBursts(log).map((g) => [g.head.message, g.rest.map((e) => e.message)])).toEqual([
      ["scale-down at 40", ["scale-up at 35"]],
      ["scale-up at 30", []],
      ["scale-up at 28", []],
      ["scale-up at 10", []],
      ["config-changed at 5", []],
      ["scale-up at 4", []],
    ]);
  });

  it("a burst chains: each event within 10 minutes of the one after it", () => {
    const log = [ev(30, "scale-up"), ev(21, "scale-down"), ev(12, "scale-up"), ev(3, "scale-up")];
    expect(groupBursts(log)).toHaveLength(1);
    expect(groupBursts(log)[0]?.rest).toHaveLength(3);
  });
});
