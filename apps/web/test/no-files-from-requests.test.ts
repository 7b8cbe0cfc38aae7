import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { dryRunConfig, startTestServer, tempDir } from "./helpers.js";

/*
 * The server runs no file and writes no file a request names (issue 21, findings 1 and 2): in
 * the server a plugin is an installed package's name, load errors quote neither files nor the
 * server's folders, and the file stats reporter is refused.
 */

describe("no file named by a request is loaded", () => {
  it("GET /api/schema and a saved config refuse paths: a module on disk never runs, its folder is never quoted", async () => {
    const t = await startTestServer();
    const ran = join(t.dir, "ran");
    // What an attacker managed to place on the server's disk.
    writeFileSync(
      join(t.dir, "marker.mjs"),
      `import { writeFileSync } from "node:fs"; writeFileSync(${JSON.stringify(ran)}, "ran");\nexport default {};\n`,
    );
    const hostname = existsSync("/etc/hostname") ? readFileSync("/etc/hostname", "utf8").trim() : "";
    for (const use of [
      "/etc/hostname",
      "./marker.mjs",
      join(t.dir, "marker.mjs"),
      "./dynosaur.db.key",
      "file:///etc/passwd",
    ]) {
      const schema = await t.call("GET", `/api/schema?use=${encodeURIComponent(use)}`);
      expect([use, schema.status]).toEqual([use, 422]);
      expect(schema.json.errors).toEqual([
        expect.objectContaining({
          path: "use",
          code: "DYNO_PLUGIN_NOT_FOUND",
          message: expect.stringMatching(/paths and URLs are for the CLI/),
        }),
      ]);
      const saved = await t.call("PUT", "/api/apps/shop/config", { body: dryRunConfig({ use: [use] }) });
      expect([use, saved.status]).toEqual([use, 422]);
      for (const text of [schema.text, saved.text]) {
        expect([use, text.includes(t.dir)]).toEqual([use, false]);
        if (hostname.length > 2) expect([use, text.includes(`${hostname} is not defined`)]).toEqual([use, false]);
      }
    }
    expect(existsSync(ran)).toBe(false);
    // Installed packages still load.
    expect((await t.call("GET", "/api/schema?use=random,dynosaur-plugin-example")).status).toBe(200);
  });
});

describe("no file is written where a config says", () => {
  it("refuses the file stats reporter at its path; nothing is written outside (or inside) the server's folder", async () => {
    const outside = tempDir();
    const t = await startTestServer();
    mkdirSync(join(t.dir, "sub"));
    for (const path of [join(outside, "x.csv"), "../outside/x.csv", "stats.csv"]) {
      const body = { ...dryRunConfig(), stats: [{ type: "console" }, { type: "file", path }] };
      const refused = await t.call("PUT", "/api/apps/shop/config", { body });
      expect([path, refused.status]).toEqual([path, 422]);
      expect(refused.json.errors).toEqual([
        expect.objectContaining({
          path: "stats[1].type",
          message: "the file reporter writes to the server's disk, which dynosaur-web does not allow",
        }),
      ]);
    }
    expect(existsSync(join(outside, "x.csv"))).toBe(false);
    expect(existsSync(join(t.dir, "stats.csv"))).toBe(false);
    expect((await t.call("GET", "/api/apps/shop/config")).status).toBe(404);
  });
});
