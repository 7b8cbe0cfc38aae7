import { describe, expect, it } from "vitest";
import { sideBySide } from "../src/side-by-side.js";

describe("sideBySide: two figures and their difference, as a table shows them", () => {
  it("takes the difference of the shown figures, so it agrees with them", () => {
    // Rounded apart: 0.11, 0.13 and +0.01.
    expect(sideBySide(0.114, 0.125, 2)).toEqual(["0.11", "0.13", "+0.02"]);
    expect(sideBySide(0.26, 0.34, 1)).toEqual(["0.3", "0.3", "±0.0"]);
    expect(sideBySide(0.26, 0.34, 2)).toEqual(["0.26", "0.34", "+0.08"]);
  });

  it("signs a fall with a minus sign, and whole numbers with no decimals", () => {
    expect(sideBySide(12.5, 3.25, 2)).toEqual(["12.50", "3.25", "−9.25"]);
    expect(sideBySide(7, 4, 0)).toEqual(["7", "4", "−3"]);
    expect(sideBySide(0, 0, 0)).toEqual(["0", "0", "±0"]);
  });

  it("agrees on any pair: the shown difference is the shown after minus the shown before", () => {
    for (let i = 0; i < 500; i++) {
      const before = (i * 0.0137) % 3;
      const after = (i * 0.0291) % 3;
      const [b, a, d] = sideBySide(before, after, 2);
      const signed = Number(d.replace("−", "-").replace("±", ""));
      expect(Math.round((Number(a) - Number(b)) * 100)).toBe(Math.round(signed * 100));
    }
  });
});
