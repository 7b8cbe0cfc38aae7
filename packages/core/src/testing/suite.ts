import { type PluginTestOptions, pluginChecks, runPluginCheck } from "./checks.js";

/**
 * The two functions of a test runner the suite needs: vitest's, node:test's, jest's and
 * mocha's all fit. Passing them in keeps core free of any test framework.
 */
export interface TestRunner {
  describe(name: string, body: () => void): unknown;
  it(name: string, body: () => Promise<void>): unknown;
}

/**
 * Registers the conformance suite: one `describe` named for the plugin with one test per
 * check, each failing with the check's message.
 *
 * ```ts
 * import { describe, it } from "vitest";
 * testPlugin(plugin, { validOptions: { per_dyno: 50 }, invalidOptions: [{ options: { per_dyno: 0 }, path: "per_dyno" }] }, { describe, it });
 * ```
 */
export function testPlugin(plugin: unknown, options: PluginTestOptions, runner: TestRunner): void {
  const type = (plugin as { type?: unknown } | null)?.type;
  runner.describe(`plugin conformance: ${typeof type === "string" ? type : "(no type)"}`, () => {
    for (const check of pluginChecks) {
      runner.it(check.title, async () => {
        const result = await runPluginCheck(check.id, plugin, options);
        if (!result.ok) throw new Error(`${check.title}: ${result.message}`);
      });
    }
  });
}
