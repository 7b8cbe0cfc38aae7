import { ManualClock, PLUGIN_API_VERSION, silentLogger } from "@dynosaur/core";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import plugin, { dynosFor } from "../src/index.js";
import { CLIENT_EMAIL, KEY, withSourceDefaults } from "./helpers.js";

const valid = { property_id: 123456789, client_email: CLIENT_EMAIL, key: KEY.pem, users_per_dyno: 50 };

function issues(input: Record<string, unknown>) {
  const result = plugin.options.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
}

describe("plugin definition", () => {
  it("is the google-analytics plugin, with the seed's name as an alias", () => {
    expect(plugin.type).toBe("google-analytics");
    expect(plugin.aliases).toEqual(["GoogleAnalyticsPlugin"]);
    expect(plugin.unit).toBe("active users");
    expect(plugin.apiVersion).toBe(PLUGIN_API_VERSION);
  });

  it("has a JSON Schema for `dynosaur schema` and editors", () => {
    const schema = z.toJSONSchema(plugin.options, { io: "input" }) as {
      required: string[];
      properties: Record<string, { default?: unknown }>;
    };
    expect(schema.required.sort()).toEqual(["property_id", "users_per_dyno"]);
    expect(schema.properties.minutes?.default).toBe(5);
    expect(schema.properties.interval?.default).toBe(60);
  });
});

describe("options", () => {
  it("fills the defaults", () => {
    expect(plugin.options.parse(valid)).toEqual({
      ...valid,
      minutes: 5,
      interval: 60,
      api_root: "https://analyticsdata.googleapis.com",
      token_url: "https://oauth2.googleapis.com/token",
    });
  });

  it("refuses an interval under 10 seconds, naming the realtime quota", () => {
    expect(issues({ ...valid, interval: 9.5 })).toEqual([
      { path: "interval", message: expect.stringMatching(/at least 10 seconds.*realtime .*quota/) },
    ]);
    expect(issues({ ...valid, interval: 10 })).toEqual([]);
  });

  it("keeps minutes within a standard property's realtime window", () => {
    expect(issues({ ...valid, minutes: 0 })).toMatchObject([{ path: "minutes" }]);
    expect(issues({ ...valid, minutes: 31 })).toEqual([
      { path: "minutes", message: expect.stringContaining("at most 30") },
    ]);
    expect(issues({ ...valid, minutes: 2.5 })).toMatchObject([{ path: "minutes" }]);
    expect(issues({ ...valid, minutes: 30 })).toEqual([]);
  });

  it("requires users_per_dyno > 0", () => {
    const { users_per_dyno: _, ...without } = valid;
    expect(issues(without)).toEqual([{ path: "users_per_dyno", message: expect.stringContaining("required") }]);
    expect(issues({ ...valid, users_per_dyno: 0 })).toMatchObject([{ path: "users_per_dyno" }]);
  });

  it("explains ids that are not GA4 property ids", () => {
    expect(issues({ ...valid, property_id: "G-ABC123XYZ" })).toEqual([
      { path: "property_id", message: expect.stringContaining("measurement id") },
    ]);
    expect(issues({ ...valid, property_id: "UA-1234567-1" })).toEqual([
      { path: "property_id", message: expect.stringContaining("Universal Analytics") },
    ]);
    expect(issues({ ...valid, property_id: "abc" })).toEqual([
      { path: "property_id", message: expect.stringContaining("Admin > Property settings") },
    ]);
    expect(issues({ ...valid, property_id: "properties/123" })).toEqual([]);
  });

  it("refuses endpoints that are not http(s) URLs", () => {
    expect(issues({ ...valid, api_root: "analyticsdata.googleapis.com" })).toMatchObject([{ path: "api_root" }]);
    expect(issues({ ...valid, token_url: "ftp://example.com/token" })).toMatchObject([{ path: "token_url" }]);
  });
});

describe("a seed-era config with analytics_view_id", () => {
  const seed = {
    type: "GoogleAnalyticsPlugin",
    analytics_view_id: "ga:12345678",
    client_email: CLIENT_EMAIL,
    key: KEY.pem,
    users_per_dyno: 50,
  };

  it("fails validation at analytics_view_id, saying what to write instead", () => {
    const { type: _, ...options } = seed;
    const found = issues(options);
    const viewId = found.find((i) => i.path === "analytics_view_id");
    expect(viewId?.message).toMatch(/Universal Analytics/);
    expect(viewId?.message).toMatch(/July 2023/);
    expect(viewId?.message).toMatch(/set property_id/);
    expect(viewId?.message).toMatch(/Viewer/);
    expect(found.map((i) => i.path)).toContain("property_id");
  });

  it("is refused by create as a config error too", async () => {
    // Core validates first; this guards embedders that call create directly.
    const options = { ...plugin.options.parse(valid), analytics_view_id: "ga:12345678" } as unknown as ReturnType<
      typeof plugin.options.parse
    >;
    const ctx = {
      name: "ga",
      logger: silentLogger,
      http: undefined as never,
      signal: new AbortController().signal,
      clock: new ManualClock(),
    };
    await expect(async () => plugin.create(withSourceDefaults(options), ctx)).rejects.toMatchObject({
      code: "DYNO_CONFIG_INVALID",
      path: "analytics_view_id",
      exitCode: 2,
      hint: expect.stringContaining("property_id"),
    });
  });
});

describe("estimateDynos", () => {
  it("is ceil(active users / users_per_dyno)", () => {
    expect(dynosFor(0, 50)).toBe(0);
    expect(dynosFor(1, 50)).toBe(1);
    expect(dynosFor(50, 50)).toBe(1);
    expect(dynosFor(51, 50)).toBe(2);
    expect(dynosFor(312, 50)).toBe(7);
  });

  it("does not round an exact quotient up because of float noise", () => {
    expect(21 / 0.7).not.toBe(30); // 30.000000000000004
    expect(dynosFor(21, 0.7)).toBe(30);
    expect(dynosFor(22, 0.7)).toBe(32);
  });

  it("never decreases as users grow", () => {
    let last = 0;
    for (let users = 0; users <= 2000; users += 7) {
      const dynos = dynosFor(users, 33);
      expect(dynos).toBeGreaterThanOrEqual(last);
      last = dynos;
    }
  });
});
