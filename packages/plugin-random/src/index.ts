import { definePlugin, z } from "@dynosaur/core";

/**
 * The seed's toy plugin: each poll reads a number from 0 to 99 and asks for
 * `ceil(value / 2)` dynos. Handy for trying Dynosaur without any credentials.
 */
export default definePlugin({
  type: "random",
  aliases: ["RandomPlugin"],
  unit: "random units",
  description: "A random reading from 0 to 99 each poll; needs ceil(value / 2) dynos.",
  options: z.object({
    seed: z
      .number()
      .int()
      .optional()
      .describe("Makes the readings reproducible: the same seed gives the same readings. Default: a random seed."),
    max_value: z
      .number()
      .int()
      .positive()
      .default(100)
      .describe("Readings are whole numbers from 0 up to (not including) this."),
  }),
  create(options) {
    const next = mulberry32(options.seed ?? Math.floor(Math.random() * 2 ** 32));
    let closed = false;
    return {
      async retrieve(signal) {
        signal.throwIfAborted();
        if (closed) throw new Error("the random source is closed");
        return Math.floor(next() * options.max_value);
      },
      estimateDynos: (value) => Math.max(0, Math.ceil(value / 2)),
      close() {
        closed = true;
      },
    };
  },
});

/** A small seeded PRNG (mulberry32): deterministic across platforms, uniform in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
