import type { RJSFSchema } from "@rjsf/utils";
import { describe, expect, it } from "vitest";
import { limitProblems, processLimits, setLimit, windowText } from "../src/limits.js";
import { labelSources, withUse } from "../src/sources.js";
import { validator } from "../src/validator.js";

describe("the Limits block's reading and writing of a config", () => {
  it("one process type: scaler's keys; several: each type's own over scaler's", () => {
    expect(processLimits({ scaler: { min_dynos: 2, max_dynos: 8 } })).toEqual([
      { type: "web", at: "scaler", own: { min_dynos: 2, max_dynos: 8 }, inherited: expect.any(Object), schedule: [] },
    ]);
    const two = processLimits({
      scaler: { max_dynos: 6, headroom: 0.3 },
      processes: { web: { min_dynos: 2 }, worker: {} },
    });
    expect(two.map((p) => [p.type, p.at, p.own, p.inherited])).toEqual([
      ["web", "processes.web", { min_dynos: 2 }, { min_dynos: 1, max_dynos: 6, headroom: 0.3 }],
      ["worker", "processes.worker", {}, { min_dynos: 1, max_dynos: 6, headroom: 0.3 }],
    ]);
  });

  it("sets and leaves out one key, touching nothing else", () => {
    const config = { use: ["random"], scaler: { min_dynos: 1, interval: 5 }, processes: { web: { max_dynos: 4 } } };
    expect(setLimit(config, "scaler", "min_dynos", 3)).toEqual({ ...config, scaler: { min_dynos: 3, interval: 5 } });
    expect(setLimit(config, "processes.web", "max_dynos", undefined)).toEqual({ ...config, processes: { web: {} } });
    expect(setLimit(config, "processes.worker", "min_dynos", 0).processes).toEqual({
      web: { max_dynos: 4 },
      worker: { min_dynos: 0 },
    });
  });

  it("fewest above most (inherited values included) and web at 0 are problems at min_dynos", () => {
    expect(limitProblems({ scaler: { min_dynos: 9, max_dynos: 8 } })).toEqual([
      {
        path: "scaler.min_dynos",
        message: "web: fewest (9) is more than most (8): lower min_dynos or raise max_dynos",
      },
    ]);
    expect(
      limitProblems({ scaler: { max_dynos: 3 }, processes: { worker: { min_dynos: 4 } } }).map((p) => p.path),
    ).toEqual(["processes.worker.min_dynos"]);
    expect(limitProblems({ processes: { web: { min_dynos: 0 } } }).map((p) => p.message)).toEqual([
      "web needs at least 1 dyno: 0 would take the app offline",
    ]);
    expect(limitProblems({ scaler: { min_dynos: 2, max_dynos: 2 } })).toEqual([]);
  });

  it("says a schedule window in words", () => {
    expect(windowText({ days: ["mon", "tue", "wed", "thu", "fri"], from: "08:00", to: "18:00", min_dynos: 4 })).toBe(
      "mon–fri 08:00–18:00: at least 4",
    );
    expect(windowText({ days: ["sat", "mon"], from: "22:00", to: "06:00", min_dynos: 1, max_dynos: 2 })).toBe(
      "sat, mon 22:00–06:00: 1–2 dynos",
    );
    expect(windowText({ from: "00:00", to: "01:00", max_dynos: 3 })).toBe("every day 00:00–01:00: at most 3");
  });

  it("the form's validator runs the page's own check beside the schema's", () => {
    const schema = { type: "object", properties: { scaler: { type: "object" } } } as RJSFSchema;
    const data = { scaler: { min_dynos: 9, max_dynos: 8 } };
    const { errors, errorSchema } = validator.validateFormData(data, schema, (d, e) => {
      for (const p of limitProblems(d as Record<string, unknown>)) e.scaler?.min_dynos?.addError(p.message);
      return e;
    });
    expect(errors.map((e) => e.stack)).toEqual([
      ".scaler.min_dynos web: fewest (9) is more than most (8): lower min_dynos or raise max_dynos",
    ]);
    expect(errorSchema.scaler?.min_dynos?.__errors).toHaveLength(1);
  });
});

describe("sources added in the form", () => {
  const installed = [
    { spec: "random", type: "random", description: null, unit: "x" },
    { spec: "redis-queue", type: "sidekiq", description: null, unit: "jobs" },
    { spec: "postgres-queue", type: "good-job", description: null, unit: "jobs" },
  ];
  it("a new source's package joins use: (once); a config without use: is left to the server", () => {
    const config = { use: ["random"], plugins: [{ type: "random" }, { type: "sidekiq" }, { type: "sidekiq" }] };
    expect(withUse(config, installed).use).toEqual(["random", "redis-queue"]);
    const noUse = { plugins: [{ type: "good-job" }] };
    expect(withUse(noUse, installed)).toBe(noUse);
  });

  it("each kind is named by its type, writes it when chosen, and is picked by it", () => {
    const branch = (type: string) => ({ type: "object", properties: { type: { type: "string", enum: [type] } } });
    const schema = {
      type: "object",
      properties: { plugins: { type: "array", items: { anyOf: [branch("random"), branch("sidekiq")] } } },
    };
    const labelled = labelSources(schema as RJSFSchema) as {
      properties: { plugins: { items: Record<string, unknown> } };
    };
    const items = labelled.properties.plugins.items;
    expect(items.discriminator).toEqual({ propertyName: "type" });
    expect(items.anyOf).toEqual([
      {
        ...branch("random"),
        title: "random",
        properties: { type: { type: "string", enum: ["random"], default: "random" } },
      },
      {
        ...branch("sidekiq"),
        title: "sidekiq",
        properties: { type: { type: "string", enum: ["sidekiq"], default: "sidekiq" } },
      },
    ]);
  });
});
