import { z } from "zod";
import { definePlugin, type PluginDefinition } from "../src/plugin.js";

/**
 * A plugin whose readings a test scripts: `script.next` is returned by the next
 * retrieve (a number, an Error to throw, or a function). Estimate = ceil(value / per).
 */
export function scriptedPlugin(type = "scripted"): PluginDefinition & {
  script: Map<string, Array<number | Error | (() => Promise<number>)>>;
  calls: Map<string, number>;
  /** Names of the instances closed, in order. */
  closed: string[];
} {
  const script = new Map<string, Array<number | Error | (() => Promise<number>)>>();
  const calls = new Map<string, number>();
  const closed: string[] = [];
  const plugin = definePlugin({
    type,
    aliases: [`${type}Plugin`],
    unit: "units",
    options: z.object({ per: z.number().positive().default(10), fallback: z.number().optional() }),
    create(options) {
      return {
        async retrieve() {
          calls.set(options.name, (calls.get(options.name) ?? 0) + 1);
          const queue = script.get(options.name) ?? [];
          const next = queue.length > 1 ? queue.shift() : queue[0];
          if (next === undefined) {
            if (options.fallback !== undefined) return options.fallback;
            throw new Error("no scripted reading");
          }
          if (next instanceof Error) throw next;
          if (typeof next === "function") return next();
          return next;
        },
        estimateDynos: (v) => Math.ceil(v / options.per),
        close() {
          closed.push(options.name);
        },
      };
    },
  });
  return Object.assign(plugin, { script, calls, closed });
}

/**
 * Waits until `check()` holds, polling every 25 ms of real time, for what only a real
 * server decides (a PostgreSQL lock changing hands); `ms` bounds the wait.
 */
export async function until(check: () => boolean, ms: number, what: string): Promise<number> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return performance.now() - started;
}
