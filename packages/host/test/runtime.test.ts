import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRuntime, DynosaurError, definePlugin, ManualClock, z } from "@dynosaur/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createHostRuntime } from "../src/runtime.js";

/** A source that always reads `value` (estimate: value / 10 dynos). */
const steady = definePlugin({
  type: "steady",
  unit: "units",
  options: z.object({ value: z.number() }),
  create: (options) => ({ retrieve: async () => options.value, estimateDynos: (v) => Math.ceil(v / 10) }),
});

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "dynosaur-host-runtime-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const config = (statsFile: string, value = 30) => ({
  scaler: { dry_run: true, max_dynos: 10, blackout: 0, stats_file: join(dir, "dry-run.txt") },
  plugins: [{ type: "steady", name: "s", value }],
  stats: [{ type: "file", path: join(dir, statsFile) }],
});
const lines = async (file: string) =>
  (await readFile(join(dir, file), "utf8").catch(() => "")).split("\n").filter(Boolean).length;

describe("createHostRuntime", () => {
  it("adds the reporters of `stats:` and the dry run's stats file, and rebuilds the reporters when `stats:` changes", async () => {
    const runtime = await createHostRuntime(config("a.csv"), { plugins: [steady], clock: new ManualClock(0), env: {} });
    await runtime.tick();
    await runtime.tick();
    await runtime.reconfigure(config("b.csv"));
    await runtime.tick();
    expect(runtime.describeAlerts()).toMatch(/^logged only/);
    await runtime.stop();
    // A header and one row per tick: two ticks before the change, one after.
    expect(await lines("a.csv")).toBe(3);
    expect(await lines("b.csv")).toBe(2);
    expect(await lines("dry-run.txt")).toBeGreaterThanOrEqual(3);
  });

  it("a plugin option error fails before any reporter or alert channel is set up", async () => {
    const bad = { ...config("a.csv"), plugins: [{ type: "steady", name: "s", value: "many" }] };
    await expect(createHostRuntime(bad, { plugins: [steady], env: {} })).rejects.toThrow(/plugins\[0\]\.value/);
    expect(await lines("a.csv")).toBe(0);
  });
});

describe("core's createRuntime", () => {
  it("builds no formation of its own: outside a dry run one must be given", async () => {
    const live = {
      scaler: { heroku_app_name: "shop", heroku_api_key: "k", max_dynos: 10 },
      plugins: [{ type: "steady", name: "s", value: 30 }],
    };
    const e = await createRuntime(live, { plugins: [steady], env: {} }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DynosaurError);
    expect((e as DynosaurError).message).toMatch(/no formation/);
  });
});
