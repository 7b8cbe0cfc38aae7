import { describe, expect, it } from "vitest";
import { parseConfig, parseConfigText } from "../src/config.js";
import { DynosaurError, errorProblems } from "../src/errors.js";
import { redactConfig } from "../src/redact.js";

const plugins = [{ type: "random" }];

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

describe("parseConfig", () => {
  it("fills the documented defaults", () => {
    const { config } = parseConfig({ scaler: { dry_run: true }, plugins });
    expect(config.scaler).toMatchObject({
      process_type: "web",
      min_dynos: 1,
      max_dynos: 10,
      interval: 5,
      policy: "forecast",
      headroom: 0.2,
      boot_seconds: 60,
      blackout: 0,
      scale_down_step: 0,
      stats_file: "stats.txt",
      heroku_api_url: "https://api.heroku.com",
      heroku_poll_interval: 60,
    });
    expect(config.processes.web).toMatchObject({ blackout: 0, scale_down_step: 0, headroom: 0.2 });
  });

  it("keeps the seed's pace under policy: seed, and a pace the config sets under any policy", () => {
    const seed = parseConfig({ scaler: { dry_run: true, policy: "seed" }, plugins }).config;
    expect(seed.scaler).toMatchObject({ blackout: 300, scale_down_step: 1 });
    expect(seed.processes.web).toMatchObject({ blackout: 300, scale_down_step: 1 });
    const set = parseConfig({ scaler: { dry_run: true, blackout: 120, scale_down_step: 2 }, plugins }).config;
    expect(set.scaler).toMatchObject({ policy: "forecast", blackout: 120, scale_down_step: 2 });
  });

  it("takes a process type's own headroom over scaler.headroom", () => {
    const { config } = parseConfig({
      scaler: { dry_run: true, headroom: 0.1 },
      processes: { web: {}, worker: { min_dynos: 0, headroom: 0.5 } },
      plugins,
    });
    expect(config.processes.web?.headroom).toBe(0.1);
    expect(config.processes.worker?.headroom).toBe(0.5);
  });

  it("rejects an unknown policy and a negative headroom, naming the path", () => {
    const unknown = configError(() => parseConfig({ scaler: { dry_run: true, policy: "fast" }, plugins }));
    expect(unknown.message).toContain("scaler.policy");
    expect(unknown.message).toContain("forecast");
    const negative = configError(() => parseConfig({ scaler: { dry_run: true, headroom: -0.1 }, plugins }));
    expect(negative.message).toContain("scaler.headroom");
  });

  it("accepts the seed's key names", () => {
    const { config } = parseConfig({
      scaler: {
        heroku_app_name: "shop",
        heroku_api_key: "k-123456",
        min_web_dynos: 2,
        max_web_dynos: 7,
        dry_run: false,
        interval: 10,
        blackout: 120,
      },
      plugins: [{ name: "rnd", type: "RandomPlugin", interval: 30 }],
    });
    expect(config.scaler).toMatchObject({ min_dynos: 2, max_dynos: 7, interval: 10, blackout: 120 });
    expect(config.plugins[0]).toMatchObject({ name: "rnd", type: "RandomPlugin", interval: 30 });
  });

  it("turns the seed's librato keys into a librato reporter", () => {
    const { config, redactor } = parseConfig({
      scaler: { dry_run: true, librato_email: "ops@example.com", librato_api_key: "lib-secret-token" },
      plugins,
    });
    expect(config.stats).toEqual([
      expect.objectContaining({ type: "librato", email: "ops@example.com", api_key: "lib-secret-token" }),
    ]);
    expect(redactor.scrub("token lib-secret-token")).toBe("token [redacted]");
  });

  it("requires the app and key outside a dry run, naming both paths", () => {
    const e = configError(() => parseConfig({ scaler: {}, plugins }));
    expect(e.code).toBe("DYNO_CONFIG_INVALID");
    expect(e.message).toContain("scaler.heroku_app_name: required unless dry_run is true");
    expect(e.message).toContain("scaler.heroku_api_key: required unless dry_run is true");
  });

  it("rejects min > max with a fix", () => {
    const e = configError(() => parseConfig({ scaler: { dry_run: true, min_dynos: 5, max_dynos: 2 }, plugins }));
    expect(e.message).toContain("scaler.min_dynos: min_dynos (5) is greater than max_dynos (2)");
    expect(e.path).toBe("scaler.min_dynos");
  });

  it("rejects a negative or non-numeric interval", () => {
    expect(configError(() => parseConfig({ scaler: { dry_run: true, interval: -5 }, plugins })).message).toMatch(
      /^scaler\.interval: .*>0/,
    );
    expect(configError(() => parseConfig({ scaler: { dry_run: true, interval: "often" }, plugins })).message).toBe(
      'scaler.interval: expected a number, got the string "often"',
    );
  });

  it("tells a key of the wrong type from a missing one", () => {
    expect(configError(() => parseConfig({ scaler: { dry_run: "yes" }, plugins })).message).toBe(
      'scaler.dry_run: expected true or false, got the string "yes"',
    );
    expect(configError(() => parseConfig({ scaler: { dry_run: true, max_dynos: null }, plugins })).message).toBe(
      "scaler.max_dynos: expected a number, got nothing (null)",
    );
    expect(configError(() => parseConfig({ scaler: { dry_run: true }, plugins: { type: "random" } })).message).toBe(
      "plugins: expected a list, got a mapping",
    );
    expect(configError(() => parseConfig({ scaler: { dry_run: true } })).message).toBe(
      "plugins: required (expected a list)",
    );
  });

  it("never quotes a long value, and scrubs a secret written in a number's place", () => {
    const long = "x".repeat(30);
    expect(configError(() => parseConfig({ scaler: { dry_run: true, interval: long }, plugins })).message).toBe(
      "scaler.interval: expected a number, got a string of 30 characters",
    );
    const e = configError(() =>
      parseConfig({ scaler: { dry_run: true, interval: "${MY_TOKEN}" }, plugins }, { MY_TOKEN: "tok-123456" }),
    );
    expect(e.message).toBe('scaler.interval: expected a number, got the string "[redacted]"');
  });

  it("reports a misspelt section once, as the unknown key that names it", () => {
    const e = configError(() => parseConfig({ scalar: { dry_run: true }, plugins }));
    expect(e.message).toBe('(top level): unknown key "scalar" (did you mean "scaler"?)');
    // --dry-run forces dry_run only into a scaler section that is there: the same one line.
    expect(configError(() => parseConfig({ scalar: { dry_run: true }, plugins }, {}, { dryRun: true })).message).toBe(
      e.message,
    );
  });

  it("rejects duplicate plugin names", () => {
    const e = configError(() =>
      parseConfig({ scaler: { dry_run: true }, plugins: [{ type: "random" }, { type: "random" }] }),
    );
    expect(e.message).toBe('plugins[1].name: "random" is already the name of plugins[0]');
    expect(e.hint).toMatch(/unique `name`/);
  });

  it("suggests the key a typo meant", () => {
    const e = configError(() => parseConfig({ scaler: { dry_run: true, blackuot: 10 }, plugins }));
    expect(e.message).toContain('scaler: unknown key "blackuot" (did you mean "blackout"?)');
  });

  it("rejects an old and a new name given together", () => {
    const e = configError(() => parseConfig({ scaler: { dry_run: true, min_web_dynos: 1, min_dynos: 2 }, plugins }));
    expect(e.message).toContain('both "min_web_dynos" and "min_dynos"');
  });

  it("substitutes ${VAR} and names an unset one with its path", () => {
    const { config, redactor } = parseConfig(
      { scaler: { heroku_app_name: "${APP:-shop}", heroku_api_key: "${HEROKU_API_KEY}" }, plugins },
      { HEROKU_API_KEY: "hk-0123456789" },
    );
    expect(config.scaler.heroku_app_name).toBe("shop");
    expect(config.scaler.heroku_api_key).toBe("hk-0123456789");
    expect(redactor.scrub("Bearer hk-0123456789")).toBe("Bearer [redacted]");
    const e = configError(() =>
      parseConfig({ scaler: { heroku_app_name: "a", heroku_api_key: "${HEROKU_API_KEY}" }, plugins }, {}),
    );
    expect(e.code).toBe("DYNO_ENV_MISSING");
    expect(e.message).toBe("scaler.heroku_api_key: environment variable HEROKU_API_KEY is not set");
    expect(e.hint).toContain("heroku config:set HEROKU_API_KEY=");
  });

  it("reports every unset variable at once, each with its path", () => {
    const e = configError(() =>
      parseConfig(
        {
          scaler: { heroku_app_name: "${APP}", heroku_api_key: "${HEROKU_API_KEY}" },
          plugins: [{ type: "newrelic", api_key: "${NEW_RELIC_API_KEY}" }],
        },
        {},
      ),
    );
    expect(e.code).toBe("DYNO_ENV_MISSING");
    expect(e.message).toBe(
      [
        "scaler.heroku_app_name: environment variable APP is not set",
        "scaler.heroku_api_key: environment variable HEROKU_API_KEY is not set",
        "plugins[0].api_key: environment variable NEW_RELIC_API_KEY is not set",
      ].join("\n"),
    );
    expect(e.path).toBe("scaler.heroku_app_name");
    expect(e.hint).toContain("export APP=...; export HEROKU_API_KEY=...; export NEW_RELIC_API_KEY=...");
  });

  it("lets a dry run leave the Heroku settings' variables unset, and nothing else", () => {
    const scaler = {
      heroku_app_name: "${APP}",
      api_key: "${HEROKU_API_KEY}",
      heroku_api_url: "${HEROKU_URL}",
      stats_file: "${STATS}",
    };
    // Without a dry run all four are errors; with --dry-run or dry_run: true only stats_file is.
    expect(configError(() => parseConfig({ scaler, plugins }, {})).message.split("\n")).toHaveLength(4);
    for (const [raw, options] of [
      [{ scaler, plugins }, { dryRun: true }],
      [{ scaler: { ...scaler, dry_run: true }, plugins }, {}],
    ] as const) {
      expect(configError(() => parseConfig(raw, {}, options)).message).toBe(
        "scaler.stats_file: environment variable STATS is not set",
      );
    }
    const { config } = parseConfig({ scaler: { ...scaler, stats_file: "s.csv" }, plugins }, {}, { dryRun: true });
    expect(config.scaler).toMatchObject({ dry_run: true, heroku_api_url: "https://api.heroku.com" });
    expect(config.scaler.heroku_app_name).toBeUndefined();
    expect(config.scaler.heroku_api_key).toBeUndefined();
    // A variable that is set is still used in a dry run.
    expect(
      parseConfig({ scaler, plugins }, { APP: "shop", STATS: "s.csv" }, { dryRun: true }).config.scaler.heroku_app_name,
    ).toBe("shop");
  });

  it("reads a number or true/false from a variable that is a key's whole value, as if written in place", () => {
    const env = { MAX: "7", EVERY: "2.5", DRY: "true", APP: "12345" };
    const { config } = parseConfig(
      {
        scaler: { dry_run: "${DRY}", max_dynos: "${MAX}", interval: "${EVERY}", heroku_app_name: "${APP}" },
        processes: { web: { min_dynos: "${MIN:-2}" } },
        plugins,
      },
      env,
    );
    expect(config.scaler).toMatchObject({ dry_run: true, max_dynos: 7, interval: 2.5 });
    expect(config.processes.web?.min_dynos).toBe(2);
    // Where a string belongs, a variable's digits stay a string.
    expect(config.scaler.heroku_app_name).toBe("12345");
    // Only a whole reference: text around it, or a value written in quotes, is still a string.
    expect(
      configError(() => parseConfig({ scaler: { dry_run: true, max_dynos: "${MAX}0" }, plugins }, env)).message,
    ).toBe('scaler.max_dynos: expected a number, got the string "70"');
    expect(configError(() => parseConfig({ scaler: { dry_run: true, max_dynos: "7" }, plugins }, env)).message).toBe(
      'scaler.max_dynos: expected a number, got the string "7"',
    );
    // A variable that holds no number says so at its path, and the rules of the key still apply.
    expect(
      configError(() => parseConfig({ scaler: { dry_run: true, max_dynos: "${MAX}" }, plugins }, { MAX: "ten" }))
        .message,
    ).toBe('scaler.max_dynos: expected a number, got the string "ten"');
    expect(
      configError(() => parseConfig({ scaler: { dry_run: true, max_dynos: "${MAX}" }, plugins }, { MAX: "2.5" })).path,
    ).toBe("scaler.max_dynos");
  });

  it("keeps $${ as a literal", () => {
    const { config } = parseConfig({ scaler: { dry_run: true, stats_file: "$${HOME}.csv" }, plugins }, {});
    expect(config.scaler.stats_file).toBe("${HOME}.csv");
  });

  it("says an empty config is empty", () => {
    expect(configError(() => parseConfig(null)).code).toBe("DYNO_CONFIG_EMPTY");
    expect(configError(() => parseConfigText("  \n# nothing\n")).code).toBe("DYNO_CONFIG_EMPTY");
  });

  it("needs at least one plugin", () => {
    expect(configError(() => parseConfig({ scaler: { dry_run: true }, plugins: [] })).message).toContain(
      "plugins: list at least one plugin",
    );
  });
});

describe("parseConfigText", () => {
  it("parses YAML and JSON", () => {
    expect(parseConfigText("scaler:\n  dry_run: true\n")).toEqual({ scaler: { dry_run: true } });
    expect(parseConfigText('{"scaler": {"dry_run": true}}')).toEqual({ scaler: { dry_run: true } });
  });

  it("reports a YAML syntax error with its line and column", () => {
    const e = configError(() => parseConfigText("scaler:\n  dry_run: true\n plugins: [\n", "bad.yaml"));
    expect(e.code).toBe("DYNO_CONFIG_SYNTAX");
    expect(e.message).toMatch(/^bad\.yaml: YAML syntax error at line 3, column \d+/);
  });
});

describe("redactConfig", () => {
  it("blanks secret-named values and every OTLP header", () => {
    const out = redactConfig({
      scaler: { heroku_api_key: "k", heroku_app_name: "shop" },
      plugins: [{ key: "pem", client_email: "a@b" }],
      stats: [{ type: "otlp", headers: { "x-honeycomb-team": "t" } }],
    });
    expect(out).toEqual({
      scaler: { heroku_api_key: "[redacted]", heroku_app_name: "shop" },
      plugins: [{ key: "[redacted]", client_email: "a@b" }],
      stats: [{ type: "otlp", headers: { "x-honeycomb-team": "[redacted]" } }],
    });
  });
});

describe("a config error's problems, each at its path (what the web app answers per path)", () => {
  it("lists every problem of a schema error and of unset variables without its path in the message", () => {
    const schema = configError(() =>
      parseConfig({ scaler: { min_dynos: "two", intervall: 5 }, plugins }, {}, { dryRun: true }),
    );
    expect(schema.code).toBe("DYNO_CONFIG_INVALID");
    expect(schema.problems).toEqual([
      { path: "scaler.min_dynos", message: 'expected a number, got the string "two"' },
      { path: "scaler", message: 'unknown key "intervall" (did you mean "interval"?)' },
    ]);
    // The message still lists them, one `path: problem` line each, for a terminal.
    expect(schema.message.split("\n")).toEqual(schema.problems.map((p) => `${p.path}: ${p.message}`));

    const env = configError(() =>
      parseConfig({ scaler: { heroku_app: "${APP}", heroku_api_key: "${KEY}" }, plugins }, {}),
    );
    expect(env.code).toBe("DYNO_ENV_MISSING");
    expect(env.problems).toEqual([
      { path: "scaler.heroku_app", message: "environment variable APP is not set" },
      { path: "scaler.heroku_api_key", message: "environment variable KEY is not set" },
    ]);

    const top = configError(() => parseConfig({ scaler: {}, plugins, extra: 1 }, {}, { dryRun: true }));
    expect(top.problems).toEqual([{ path: "", message: 'unknown key "extra"' }]);
  });

  it("makes one problem of an error written `path: problem`, and of one from a copy of core that lists none", () => {
    const one = configError(() =>
      parseConfig({ scaler: {}, plugins: [{ type: "random" }, { type: "random" }] }, {}, { dryRun: true }),
    );
    expect(one.problems).toEqual([{ path: "plugins[1].name", message: '"random" is already the name of plugins[0]' }]);
    expect(new DynosaurError("DYNO_USAGE", "no path here").problems).toEqual([{ path: "", message: "no path here" }]);
    const older = Object.assign(new DynosaurError("DYNO_CONFIG_INVALID", "a.b: bad", { path: "a.b" }), {
      problems: undefined,
    }) as unknown as DynosaurError;
    expect(errorProblems(older)).toEqual([{ path: "a.b", message: "bad" }]);
  });
});
