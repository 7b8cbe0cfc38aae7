import { z } from "zod";
import { PluginError } from "../../src/errors.js";
import { definePlugin, type PluginDefinition } from "../../src/plugin.js";
import type { PluginFaultKind } from "./scenario.js";

/** What the next reading of a source is: a good value, or one of the faults. */
export type Reading = { kind: "good"; value: number } | { kind: PluginFaultKind; detail: string };

/** The soak's side of the plugin: decides each reading and sees what the plugin was asked. */
export interface ReadingSource {
  /** Called by `retrieve`; returns what this reading should be. */
  next(source: string): Reading;
  /** Whether a hung retrieve of this source ignores its abort signal. */
  ignoresAbort(source: string): boolean;
  /** Hung retrieves that never settle and were abandoned (for the leak check). */
  abandoned: number;
}

const HUGE = 1e12;

/**
 * A metric-source plugin whose every reading the soak decides: good numbers following the
 * scenario's daily load, or one of the bad-data and failure kinds. Its secret option
 * (`api_key`) must never show up in a log line, alert or stats payload.
 */
export function soakPlugin(readings: ReadingSource): PluginDefinition {
  return definePlugin({
    type: "soak",
    unit: "requests/min",
    options: z.object({ per: z.number().positive(), api_key: z.string() }),
    create(options) {
      let pendingEstimateFault: Reading | null = null;
      return {
        async retrieve(signal) {
          const r = readings.next(options.name);
          switch (r.kind) {
            case "good":
              return r.value;
            case "nan":
              return Number.NaN;
            case "negative":
              return -1 - (r.detail.length % 7);
            case "infinity":
              return Number.POSITIVE_INFINITY;
            case "string":
              return (r.detail === "numeric" ? "42" : "n/a") as unknown as number;
            case "null":
              return (r.detail === "null" ? null : undefined) as unknown as number;
            case "huge":
              return HUGE;
            case "throw":
              if (r.detail === "plugin-error")
                throw new PluginError("the metrics API answered 503", { hint: "check the service's status page" });
              if (r.detail === "type-error")
                throw new TypeError("Cannot read properties of undefined (reading 'rows')");
              throw "a plain string thrown";
            case "hang":
              if (readings.ignoresAbort(options.name)) {
                readings.abandoned++;
                return new Promise<number>(() => {});
              }
              return new Promise<number>((_, reject) =>
                signal.addEventListener("abort", () => reject(signal.reason), { once: true }),
              );
            case "estimate-throws":
            case "estimate-garbage":
              pendingEstimateFault = r;
              return 1;
          }
        },
        estimateDynos(value) {
          const fault = pendingEstimateFault;
          pendingEstimateFault = null;
          if (fault?.kind === "estimate-throws") throw new RangeError("per-dyno capacity table is empty");
          if (fault?.kind === "estimate-garbage") {
            if (fault.detail === "nan") return Number.NaN;
            if (fault.detail === "negative") return -3;
            return "7" as unknown as number;
          }
          return Math.ceil(value / options.per);
        },
      };
    },
  });
}
