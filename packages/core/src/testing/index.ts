/**
 * `@dynosaur/core/testing`: the conformance kit every plugin runs in its tests, and helpers
 * for a plugin's own tests. Core has no runtime dependency on a test framework.
 */

/** A formation held in memory, for a plugin's engine tests that start from given quantities. */
export { SimulatedFormation } from "../formation/simulated.js";
export {
  checkPlugin,
  defaultSampleValues,
  type InvalidOptionsCase,
  type PluginCheck,
  type PluginCheckId,
  type PluginCheckResult,
  type PluginFixture,
  type PluginTestOptions,
  pluginChecks,
  runPluginCheck,
} from "./checks.js";
export {
  createTestContext,
  createTestInstance,
  type MemoryLogger,
  type TestContext,
  type TestContextOptions,
  type TestInstance,
} from "./context.js";
export { gaSource, nrSource, sampleTick } from "./reports.js";
export { type TestRunner, testPlugin } from "./suite.js";
