import { describe, expect, it } from "vitest";
import { oneShotHint } from "../src/one-shot-hint.js";
import { installHint, suggestUse } from "../src/plugin-hints.js";
import { runCli, tempDir } from "./helpers.js";

/** The messages a new user meets in the first hour (issue 25), each saying what to do. */
describe("first-hour messages", () => {
  it("use: [randon] says did you mean random, and how to write it", async () => {
    const dir = tempDir({ "c.yaml": "use: [randon]\nscaler: { dry_run: true }\nplugins: [{ type: random }]\n" });
    const { code, stderr } = await runCli(["check", "c.yaml"], { cwd: dir });
    expect(code).toBe(2);
    expect(stderr).toContain('use[0]: plugin "randon" is not installed (did you mean random?)');
    expect(stderr).toContain("hint: write use: [random] if you meant it");
  });

  it("type: randon suggests type: random, not use: [randon]", async () => {
    const dir = tempDir({ "c.yaml": "use: [random]\nscaler: { dry_run: true }\nplugins: [{ type: randon }]\n" });
    const { code, stderr } = await runCli(["check", "c.yaml"], { cwd: dir });
    expect(code).toBe(2);
    expect(stderr).toContain('unknown plugin type "randon" (did you mean "random"?)');
    expect(stderr).toContain("hint: write type: random if you meant it");
    expect(stderr).not.toContain("use: [randon]");
  });

  it("an empty ${HEROKU_API_KEY} is called set but empty, not a too-short string", async () => {
    const dir = tempDir({
      "c.yaml":
        "use: [random]\nscaler: { heroku_app_name: shop, heroku_api_key: '${HEROKU_API_KEY}' }\nplugins: [{ type: random }]\n",
    });
    const { code, stderr } = await runCli(["check", "c.yaml"], { cwd: dir, env: { HEROKU_API_KEY: "" } });
    expect(code).toBe(2);
    expect(stderr).toContain("scaler.heroku_api_key: environment variable HEROKU_API_KEY is set but empty");
    expect(stderr).not.toMatch(/Too small/);
    // A dry run never uses it: empty is as good as unset there.
    const dry = await runCli(["check", "c.yaml", "--dry-run"], { cwd: dir, env: { HEROKU_API_KEY: "" } });
    expect(dry.code).toBe(0);
  });

  it("a line indented too far is named itself, in plain words", async () => {
    const dir = tempDir({
      "c.yaml": "use: [random]\nscaler:\n  dry_run: true\n   max_dynos: 4\nplugins: [{ type: random }]\n",
    });
    const { code, stderr } = await runCli(["check", "c.yaml"], { cwd: dir });
    expect(code).toBe(2);
    expect(stderr).toContain(
      "YAML syntax error at line 4, column 4: `max_dynos: 4` is indented further than the line above it (`dry_run: true`)",
    );
    expect(stderr).not.toMatch(/compact mappings|implicit key/i);
  });

  it("a key that starts left of its neighbours, and a tab, are said as such", async () => {
    const left = tempDir({ "c.yaml": "use: [random]\nscaler:\n  dry_run: true\n max_dynos: 4\n" });
    expect((await runCli(["check", "c.yaml"], { cwd: left })).stderr).toMatch(/line 4, column 1: .*`max_dynos: 4`/);
    const tab = tempDir({ "c.yaml": "use: [random]\nscaler:\n\tdry_run: true\n" });
    expect((await runCli(["check", "c.yaml"], { cwd: tab })).stderr).toContain(
      "line 3, column 1: this line is indented with a tab; YAML indents with spaces",
    );
  });

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

  it("a live run's hint reworded for a one-shot check", () => {
    expect(
      oneShotHint("Heroku may be slow or unreachable; see https://status.heroku.com. The next tick tries again."),
    ).toBe(
      "Heroku may be slow or unreachable; see https://status.heroku.com; run `dynosaur doctor` again to check once more",
    );
    expect(
      oneShotHint(
        "the last good reading stands; if this persists, check New Relic's status or raise the source's `timeout`",
      ),
    ).toBe("if this persists, check New Relic's status or raise the source's `timeout`");
    expect(oneShotHint("create a key")).toBe("create a key");
  });
});
