import { describe, expect, it } from "vitest";
import { nodeVersionProblem } from "../src/node-version.js";

describe("the Node.js version check", () => {
  it("refuses what the dependencies cannot run on, naming both versions", () => {
    expect(nodeVersionProblem("v20.20.2")).toBe(
      "dynosaur needs Node.js 22.19.0 or newer (24 LTS recommended); this is v20.20.2. Install a current Node.js (https://nodejs.org) and run it again.",
    );
    expect(nodeVersionProblem("v22.18.0")).toMatch(/this is v22\.18\.0/);
  });
  it("accepts 22.19 and later", () => {
    for (const v of ["v22.19.0", "v22.20.1", "v24.21.0", "v26.0.0"]) expect(nodeVersionProblem(v)).toBeNull();
  });
});
