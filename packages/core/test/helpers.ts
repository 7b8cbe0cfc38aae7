import { z } from "zod";
import { definePlugin, type PluginDefinition } from "../src/plugin.js";
import type { TickReport } from "../src/report.js";
import { createRuntime, type RuntimeOptions } from "../src/runtime.js";

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
 * A runtime for a config with one process type, whose `tick()` resolves with that one
 * report: what most engine tests look at.
 */
export async function createScaler(config: unknown, options: RuntimeOptions) {
  const runtime = await createRuntime(config, options);
  return {
    get config() {
      return runtime.config;
    },
    get lastReport() {
      return runtime.lastReports[0] ?? null;
    },
    async tick(): Promise<TickReport> {
      const [report] = await runtime.tick();
      if (!report) throw new Error("a tick reported no process type");
      return report;
    },
    start: () => runtime.start(),
    stop: (o?: { graceMs?: number }) => runtime.stop(o),
    status: () => runtime.status(),
    reconfigure: (c: unknown) => runtime.reconfigure(c),
  };
}
