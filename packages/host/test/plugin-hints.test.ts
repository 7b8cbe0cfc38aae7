import { describe, expect, it } from "vitest";
import { installHint, suggestUse } from "../src/plugin-hints.js";

/** The words of a plugin that was not found (issue 25), for the CLI and the server alike. */
describe("plugin hints", () => {
  it("suggestions and install hints", () => {
    const firstParty = { random: "random", sidekiq: "redis-queue", "redis-queue": "redis-queue" };
    expect(suggestUse("randon", firstParty)).toBe("random");
    expect(suggestUse("sidekiq", firstParty)).toBe("redis-queue");
    expect(suggestUse("random", firstParty)).toBeUndefined();
    expect(suggestUse("acme-metrics", firstParty)).toBeUndefined();
    expect(installHint("@dynosaur/plugin-newrelic")).toBe(
      "npm install @dynosaur/plugin-newrelic (until it is on npm, from a clone of Dynosaur: bash scripts/install-from-clone.sh newrelic)",
    );
    expect(installHint("@dynosaur/reporter-otlp")).toContain(
      "bash scripts/install-from-clone.sh @dynosaur/reporter-otlp",
    );
    expect(installHint("dynosaur-plugin-foo")).toBe("npm install dynosaur-plugin-foo");
  });
});
