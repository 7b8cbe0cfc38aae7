import { DynosaurError, PLUGIN_API_VERSION } from "@dynosaur/core";
import { createTestInstance, testPlugin } from "@dynosaur/core/testing";
import { afterEach, describe, expect, it } from "vitest";
import plugin from "../src/index.js";

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const t of open.splice(0)) await t.close();
});

async function instance(options: Record<string, unknown> = {}) {
  const t = await createTestInstance(plugin, options);
  open.push(t);
  return t;
}

async function readings(options: Record<string, unknown>, count: number): Promise<number[]> {
  const { instance: source, ctx } = await instance(options);
  const values: number[] = [];
  // The random plugin reads plain numbers (no busy count).
  for (let i = 0; i < count; i++) values.push((await source.retrieve(ctx.signal)) as number);
  return values;
}

testPlugin(
  plugin,
  {
    validOptions: { seed: 42 },
    invalidOptions: [
      { options: { seed: 1.5 }, path: "seed" },
      { options: { seed: "42" }, path: "seed" },
      { options: { max_value: 0 }, path: "max_value" },
      { options: { sede: 42 }, path: "" },
    ],
  },
  { describe, it },
);

describe("the random plugin", () => {
  it("is type random, still answers to the seed's RandomPlugin, and targets this core", () => {
    expect(plugin.type).toBe("random");
    expect(plugin.aliases).toEqual(["RandomPlugin"]);
    expect(plugin.apiVersion).toBe(PLUGIN_API_VERSION);
  });

  it("reads whole numbers from 0 to 99, across the whole range", async () => {
    const values = await readings({ seed: 7 }, 2000);
    expect(values.every((v) => Number.isInteger(v) && v >= 0 && v <= 99)).toBe(true);
    expect(Math.min(...values)).toBe(0);
    expect(Math.max(...values)).toBe(99);
    expect(new Set(values).size).toBe(100);
  });

  it("repeats its readings for the same seed and not for another", async () => {
    const first = await readings({ seed: 42 }, 50);
    expect(await readings({ seed: 42 }, 50)).toEqual(first);
    expect(await readings({ seed: 43 }, 50)).not.toEqual(first);
  });

  it("picks a seed of its own when none is given", async () => {
    // Two unseeded sources agreeing on 50 readings would take a 1-in-100^50 coincidence.
    expect(await readings({}, 50)).not.toEqual(await readings({}, 50));
  });

  it("stays below max_value", async () => {
    const values = await readings({ seed: 1, max_value: 3 }, 300);
    expect(new Set(values)).toEqual(new Set([0, 1, 2]));
  });

  it("asks for ceil(value / 2) dynos", async () => {
    const { instance: source } = await instance({ seed: 1 });
    expect([0, 1, 2, 3, 50, 98, 99].map((v) => source.estimateDynos(v))).toEqual([0, 1, 1, 2, 25, 49, 50]);
  });

  it("rejects a fractional seed, naming its path", async () => {
    const error = await createTestInstance(plugin, { seed: 0.5 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DynosaurError);
    expect(error).toMatchObject({ code: "DYNO_CONFIG_INVALID", path: "plugins[0].seed" });
  });

  it("refuses to read once closed or aborted", async () => {
    const { instance: source, ctx } = await instance({ seed: 3 });
    const aborted = new AbortController();
    aborted.abort();
    await expect(source.retrieve(aborted.signal)).rejects.toThrow();
    await source.close?.();
    await expect(source.retrieve(ctx.signal)).rejects.toThrow("the random source is closed");
  });
});
