import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfigText } from "@dynosaur/core";
import { describe, expect, it } from "vitest";
import { main } from "../src/main.js";
import { tempDir } from "./helpers.js";

async function run(argv: string[], cwd: string, env: Record<string, string> = {}) {
  let stdout = "";
  let stderr = "";
  const code = await main({
    argv,
    cwd,
    env,
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
  });
  return { code, stdout, stderr };
}

const YAML = `use: [random]
scaler:
  dry_run: true
  max_dynos: 4
  interval: 2
plugins:
  - { type: random, seed: 9 }
`;

describe("dynosaur-web import and export", () => {
  it("imports a CLI config as a new version and exports it back as YAML the CLI reads", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "shop.yaml"), YAML);
    const first = await run(["import", "shop.yaml"], dir);
    expect(first).toEqual({ code: 0, stdout: "created app shop: version 1\n", stderr: "" });
    const second = await run(["import", "shop.yaml", "--name", "shop", "--comment", "again"], dir);
    expect(second.stdout).toBe("updated app shop: version 2\n");
    const exported = await run(["export", "shop"], dir);
    expect(exported.code).toBe(0);
    expect(parseConfigText(exported.stdout)).toEqual(parseConfigText(YAML));
  });

  it("an invalid config is not imported: exit 2, every error at its path", async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, "bad.yaml"),
      "use: [random]\nscaler: { dry_run: true, min_dynos: 9, max_dynos: 2 }\nplugins:\n  - { type: random, sed: 1 }\n",
    );
    const r = await run(["import", "bad.yaml"], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/scaler\.min_dynos: min_dynos \(9\) is greater than max_dynos \(2\)/);
    expect(r.stderr).toMatch(/plugins\[0\]: unknown key "sed" \(did you mean "seed"\?\)/);
    expect((await run(["export", "bad"], dir)).code).toBe(2);
  });

  it("usage errors exit 2 with a hint", async () => {
    const dir = tempDir();
    expect(await run(["frobnicate"], dir)).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/unknown command "frobnicate"[\s\S]*hint: see dynosaur-web --help/),
    });
    expect(await run(["--port", "nope"], dir)).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--port nope: not a port number/),
    });
    expect(await run(["import"], dir)).toMatchObject({ code: 2 });
    expect((await run(["--help"], dir)).stdout).toMatch(/dynosaur-web import <config.yaml>/);
  });
});
