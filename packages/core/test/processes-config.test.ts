import { describe, expect, it } from "vitest";
import { defaultProcess, parseConfig } from "../src/config.js";
import { DynosaurError } from "../src/errors.js";

/** The config of issue 15: web and worker in one file, each with its own limits. */
const scaler = {
  heroku_app_name: "shop",
  heroku_api_key: "k-123456",
  min_dynos: 2,
  max_dynos: 8,
  blackout: 120,
  scale_down_step: 2,
};

function configError(fn: () => unknown): DynosaurError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DynosaurError);
    expect((e as DynosaurError).exitCode).toBe(2);
    return e as DynosaurError;
  }
  throw new Error("expected a config error");
}

describe("processes", () => {
  it("gives each process type its own limits, taking left-out keys from scaler:", () => {
    const { config } = parseConfig({
      scaler,
      processes: { web: {}, worker: { min_dynos: 0, max_dynos: 20, hold_while_busy: true } },
      plugins: [{ type: "random" }, { name: "jobs", type: "sidekiq", process: "worker" }],
    });
    expect(config.processes).toEqual({
      web: {
        min_dynos: 2,
        max_dynos: 8,
        blackout: 120,
        scale_down_step: 2,
        headroom: 0.2,
        hold_while_busy: false,
        schedule: [],
      },
      worker: {
        min_dynos: 0,
        max_dynos: 20,
        blackout: 120,
        scale_down_step: 2,
        headroom: 0.2,
        hold_while_busy: true,
        schedule: [],
      },
    });
    expect(defaultProcess(config)).toBe("web");
  });

  it("the single-process layout stays as it was: scaler: describes the one process type", () => {
    const web = parseConfig({ scaler: { ...scaler, min_web_dynos: undefined }, plugins: [{ type: "random" }] }).config;
    expect(web.processes).toEqual({
      web: {
        min_dynos: 2,
        max_dynos: 8,
        blackout: 120,
        scale_down_step: 2,
        headroom: 0.2,
        hold_while_busy: false,
        schedule: [],
      },
    });
    const worker = parseConfig({
      scaler: { ...scaler, process_type: "worker", min_dynos: 0 },
      plugins: [{ type: "random" }],
    }).config;
    expect(Object.keys(worker.processes)).toEqual(["worker"]);
    // A source that names no process drives the only one there is.
    expect(defaultProcess(worker)).toBe("worker");
  });

  it("refuses min_dynos 0 for web: it would take the app offline", () => {
    const e = configError(() =>
      parseConfig({ scaler, processes: { web: { min_dynos: 0 } }, plugins: [{ type: "random" }] }),
    );
    expect(e.path).toBe("processes.web.min_dynos");
    expect(e.message).toContain("0 would take the app offline");
    expect(e.hint).toMatch(/scale-to-zero is for worker process types/);
  });

  it("refuses min_dynos above max_dynos of a process type, counting the scaler: defaults", () => {
    const e = configError(() =>
      parseConfig({ scaler, processes: { web: {}, worker: { min_dynos: 9 } }, plugins: [{ type: "random" }] }),
    );
    expect(e.path).toBe("processes.worker.min_dynos");
    expect(e.message).toContain("9 is greater than max_dynos (8)");
  });

  describe("a schedule window's limits, with what the process type fills in", () => {
    const withWindow =
      (web: Record<string, unknown>, s: Record<string, unknown> = scaler) =>
      () =>
        parseConfig({ scaler: s, processes: { web }, plugins: [{ type: "random" }] });

    it("refuses a window max_dynos below the min_dynos in force during it (QA: web scaled 2 -> 1)", () => {
      const e = configError(
        withWindow({ schedule: [{ from: "08:00", to: "18:00", max_dynos: 1 }] }, { ...scaler, max_dynos: 3 }),
      );
      expect(e.path).toBe("processes.web.schedule[0].max_dynos");
      expect(e.message).toContain(
        "processes.web.schedule[0].max_dynos: 1 is below min_dynos (2, from scaler.min_dynos), which stays in force during the window",
      );
      expect(e.hint).toBe(
        "raise the window's max_dynos to at least 2, or give the window its own min_dynos (at most 1)",
      );
    });

    it("refuses a window min_dynos above the process type's own max_dynos", () => {
      const e = configError(
        withWindow({
          max_dynos: 4,
          schedule: [
            { from: "00:00", to: "06:00", min_dynos: 3 },
            { from: "08:00", to: "18:00", min_dynos: 6 },
          ],
        }),
      );
      expect(e.path).toBe("processes.web.schedule[1].min_dynos");
      expect(e.message).toContain("6 is greater than max_dynos (4, from processes.web.max_dynos)");
      expect(e.hint).toContain("lower the window's min_dynos to at most 4, or give the window its own max_dynos");
    });

    it("refuses a window whose own min_dynos is above its own max_dynos", () => {
      const e = configError(withWindow({ schedule: [{ from: "08:00", to: "18:00", min_dynos: 5, max_dynos: 4 }] }));
      expect(e.path).toBe("processes.web.schedule[0].min_dynos");
      expect(e.message).toContain("5 is greater than the window's max_dynos (4)");
    });

    it("refuses a web window with min_dynos 0: the app would be offline during it", () => {
      const e = configError(withWindow({ schedule: [{ from: "01:00", to: "05:00", min_dynos: 0 }] }));
      expect(e.path).toBe("processes.web.schedule[0].min_dynos");
      expect(e.hint).toMatch(/scale-to-zero is for worker process types/);
    });

    it("takes a window that moves both limits past the process type's own", () => {
      const { config } = withWindow({
        schedule: [
          { from: "08:00", to: "18:00", min_dynos: 10, max_dynos: 12 },
          { from: "22:00", to: "06:00", max_dynos: 2 },
        ],
      })();
      expect(config.processes.web?.schedule).toHaveLength(2);
    });
  });

  it("a source naming a process type that is not configured is refused at its path, with the types there are", () => {
    const e = configError(() =>
      parseConfig({
        scaler,
        processes: { web: {}, worker: {} },
        plugins: [{ type: "random" }, { name: "q", type: "sidekiq", process: "wroker" }],
      }),
    );
    expect(e.path).toBe("plugins[1].process");
    expect(e.message).toContain('no process type "wroker" in processes (web, worker)');
    expect(e.hint).toContain("processes.wroker");
  });

  it("a source without process: drives web, which must then be configured", () => {
    const e = configError(() =>
      parseConfig({ scaler, processes: { worker: {}, clock: {} }, plugins: [{ type: "random" }] }),
    );
    expect(e.path).toBe("plugins[0].process");
    expect(e.message).toContain('no process type "web"');
  });

  it("names the path of a bad key inside processes", () => {
    expect(
      configError(() =>
        parseConfig({ scaler, processes: { worker: { min: 0 } }, plugins: [{ type: "random", process: "worker" }] }),
      ).message,
    ).toMatch(/processes\.worker/);
    expect(
      configError(() => parseConfig({ scaler, processes: { "web worker": {} }, plugins: [{ type: "random" }] }))
        .message,
    ).toContain("processes.web worker: not a valid key: a process type as in the Procfile, e.g. worker");
    const bad = configError(() =>
      parseConfig({
        scaler,
        processes: { web: { schedule: [{ from: "8:00", to: "18:00" }] } },
        plugins: [{ type: "random" }],
      }),
    );
    expect(bad.message).toContain("processes.web.schedule[0].from");
    expect(bad.message).toContain("HH:MM");
  });
});

describe("scaler.timezone", () => {
  it("defaults to UTC and takes an IANA zone", () => {
    expect(parseConfig({ scaler, plugins: [{ type: "random" }] }).config.scaler.timezone).toBe("UTC");
    expect(
      parseConfig({ scaler: { ...scaler, timezone: "Europe/Helsinki" }, plugins: [{ type: "random" }] }).config.scaler
        .timezone,
    ).toBe("Europe/Helsinki");
  });

  it("refuses a zone Node.js does not know, naming the path and an example", () => {
    const e = configError(() =>
      parseConfig({ scaler: { ...scaler, timezone: "Europe/Helsinky" }, plugins: [{ type: "random" }] }),
    );
    expect(e.message).toContain("scaler.timezone");
    expect(e.message).toContain("not an IANA time zone");
    expect(e.message).toContain("Europe/Helsinki");
  });
});
