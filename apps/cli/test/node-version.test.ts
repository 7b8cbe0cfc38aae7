import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { nodeVersionProblem } from "../src/node-version.js";
import { BIN } from "./helpers.js";

/** The machine's own Node.js, older than the CLI needs (machines here ship Node 20). */
const OLD_NODE = process.env.DYNOSAUR_OLD_NODE ?? "/usr/bin/node";

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

  it("the built CLI run by an older Node.js exits 2, a bad environment, and says which Node it needs", () => {
    const version = spawnSync(OLD_NODE, ["--version"], { encoding: "utf8" }).stdout.trim();
    expect(
      nodeVersionProblem(version),
      `${OLD_NODE} is ${version}: set DYNOSAUR_OLD_NODE to a Node.js older than 22.19`,
    ).not.toBeNull();
    const { status, stdout, stderr } = spawnSync(OLD_NODE, [BIN, "check", "examples/dry-run.yaml"], {
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "" },
    });
    expect(stderr).toBe(`error ${nodeVersionProblem(version)}\n`);
    expect(stdout).toBe("");
    expect(status).toBe(2);
  });
});
