import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { candidateNames, installName } from "@dynosaur/host";
import { describe, expect, it } from "vitest";
import { spawnCli, tempDir } from "./helpers.js";

const CORE = fileURLToPath(new URL("../../../packages/core", import.meta.url));

/** A plugin as a third party would publish it: plain ESM, core and zod as peers. */
function pluginSource(type: string, reading: number) {
  return `import { definePlugin } from "@dynosaur/core";
import { z } from "zod";
export default definePlugin({
  type: ${JSON.stringify(type)},
  unit: "widgets",
  options: z.object({ per: z.number().positive() }),
  create: (o) => ({ retrieve: async () => ${reading}, estimateDynos: (v) => Math.ceil(v / o.per) }),
});
`;
}

/** Installs a package into `<dir>/node_modules/<name>`, as `npm install` would. */
function installPackage(dir: string, name: string, files: Record<string, string>) {
  const root = join(dir, "node_modules", name);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  }
}

/** A user's project: @dynosaur/core and zod installed next to the config. */
function project(files: Record<string, string>) {
  const dir = tempDir(files);
  mkdirSync(join(dir, "node_modules", "@dynosaur"), { recursive: true });
  symlinkSync(CORE, join(dir, "node_modules", "@dynosaur", "core"), "dir");
  symlinkSync(join(CORE, "node_modules", "zod"), join(dir, "node_modules", "zod"), "dir");
  return dir;
}

const pkg = (name: string) =>
  JSON.stringify({
    name,
    version: "1.2.3",
    type: "module",
    keywords: ["dynosaur-plugin"],
    exports: { ".": { default: "./dist/index.js" } },
  });

describe("use: resolves third-party plugins from the config's directory", () => {
  it("maps names the documented way", () => {
    expect(candidateNames("foo")).toEqual(["@dynosaur/plugin-foo", "dynosaur-plugin-foo", "foo"]);
    expect(candidateNames("@acme/foo")).toEqual(["@acme/dynosaur-plugin-foo", "@acme/foo"]);
    expect(candidateNames("dynosaur-plugin-foo")).toEqual(["dynosaur-plugin-foo"]);
    expect(candidateNames("@dynosaur/plugin-random")).toEqual(["@dynosaur/plugin-random"]);
    expect(installName("google-analytics")).toBe("@dynosaur/plugin-google-analytics");
    expect(installName("GoogleAnalyticsPlugin")).toBe("@dynosaur/plugin-google-analytics");
    expect(installName("foo")).toBe("dynosaur-plugin-foo");
    expect(installName("@acme/foo")).toBe("@acme/dynosaur-plugin-foo");
  });

  it("runs a config using a short name, a scoped name and a relative path", async () => {
    const dir = project({
      "c.yaml": [
        "use: [widgets, '@acme/gadgets', ./local/sprockets.js]",
        "scaler: {dry_run: true, max_dynos: 20}",
        "plugins:",
        "  - {type: widgets, per: 10}",
        "  - {type: gadgets, per: 10}",
        "  - {type: sprockets, per: 10}",
      ].join("\n"),
    });
    installPackage(dir, "dynosaur-plugin-widgets", {
      "package.json": pkg("dynosaur-plugin-widgets"),
      "dist/index.js": pluginSource("widgets", 42),
    });
    installPackage(dir, "@acme/dynosaur-plugin-gadgets", {
      "package.json": pkg("@acme/dynosaur-plugin-gadgets"),
      "dist/index.js": pluginSource("gadgets", 77),
    });
    mkdirSync(join(dir, "local"));
    writeFileSync(join(dir, "local", "sprockets.js"), pluginSource("sprockets", 15));
    const { code, stdout, stderr } = await spawnCli(["c.yaml", "--once"], { cwd: dir }).exited;
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toContain(
      "sources: dynosaur-plugin-widgets@1.2.3, @acme/dynosaur-plugin-gadgets@1.2.3, ./local/sprockets.js",
    );
    expect(stdout).toMatch(
      /1→8 estimate 8 \(scale up\) winner gadgets \| widgets: 42 widgets → 5 ok \| gadgets: 77 widgets → 8 ok \| sprockets: 15 widgets → 2 ok/,
    );
  });

  it("tells a plugin built for another contract version from a broken one", async () => {
    const dir = project({ "c.yaml": "use: [old, broken]\nscaler: {dry_run: true}\nplugins: [{type: old}]\n" });
    installPackage(dir, "dynosaur-plugin-old", {
      "package.json": pkg("dynosaur-plugin-old"),
      "dist/index.js": "export default { apiVersion: 99, type: 'old', unit: 'x', options: {}, create() {} };",
    });
    installPackage(dir, "dynosaur-plugin-broken", {
      "package.json": pkg("dynosaur-plugin-broken"),
      "dist/index.js": "export default { type: 'broken' };",
    });
    const old = await spawnCli(["c.yaml", "--once"], { cwd: dir }).exited;
    expect(old.code).toBe(2);
    expect(old.stderr).toContain(
      "DYNO_PLUGIN_INCOMPATIBLE: plugin package dynosaur-plugin-old@1.2.3 was built for plugin contract v99, but this @dynosaur/core speaks v1 and v2",
    );
    expect(old.stderr).toContain("upgrade @dynosaur/cli and @dynosaur/core");
    writeFileSync(join(dir, "c.yaml"), "use: [broken]\nscaler: {dry_run: true}\nplugins: [{type: broken}]\n");
    const broken = await spawnCli(["c.yaml", "--once"], { cwd: dir }).exited;
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain(
      "DYNO_PLUGIN_INVALID: plugin package dynosaur-plugin-broken@1.2.3 is not a valid Dynosaur plugin: no `unit`; no `create` function",
    );
  });
});
