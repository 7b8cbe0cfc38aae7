import { describe, expect, it } from "vitest";
import { runCli, tempDir } from "./helpers.js";

/*
 * check, run and schema read a config through one path (loadSetup → parseConfig), so a
 * config error reads the same whichever command, and with or without --dry-run.
 */
const HEROKU =
  "use: [random]\nscaler:\n  heroku_app_name: ${HEROKU_APP}\n  heroku_api_key: ${HEROKU_API_KEY}\nplugins: [{type: random, seed: 1}]\n";

describe("a config error reads the same from every command", () => {
  it("a misspelt scaler: section is one line, for check and run, with and without --dry-run", async () => {
    const dir = tempDir({ "c.yaml": "use: [random]\nscalar: {dry_run: true}\nplugins: [{type: random}]\n" });
    const runs = [
      ["check", "c.yaml"],
      ["check", "c.yaml", "--dry-run"],
      ["c.yaml", "--once"],
      ["c.yaml", "--once", "--dry-run"],
      ["schema", "c.yaml"],
    ];
    for (const argv of runs) {
      const { code, stderr } = await runCli(argv, { cwd: dir });
      expect(code, argv.join(" ")).toBe(2);
      expect(stderr, argv.join(" ")).toBe(
        'error DYNO_CONFIG_INVALID: (top level): unknown key "scalar" (did you mean "scaler"?)\n  hint: fix the config at the path named\n  `dynosaur schema` prints every key\n',
      );
    }
  });

  it("every unset variable is named at once, each with its path", async () => {
    const dir = tempDir({ "c.yaml": HEROKU.replace("seed: 1", "seed: 1, max_value: '${MAX}'") });
    const { code, stderr } = await runCli(["check", "c.yaml"], { cwd: dir });
    expect(code).toBe(2);
    expect(stderr).toContain(
      [
        "error DYNO_ENV_MISSING: scaler.heroku_app_name: environment variable HEROKU_APP is not set",
        "scaler.heroku_api_key: environment variable HEROKU_API_KEY is not set",
        "plugins[0].max_value: environment variable MAX is not set",
      ].join("\n"),
    );
  });

  it("--dry-run needs no Heroku variable: check and a run both go through", async () => {
    const dir = tempDir({ "c.yaml": HEROKU });
    const checked = await runCli(["check", "c.yaml", "--dry-run"], { cwd: dir });
    expect(checked.stderr).toBe("");
    expect(checked.code).toBe(0);
    expect(checked.stdout).toContain("scales: nothing (dry run");
    const ran = await runCli(["c.yaml", "--once", "--dry-run"], { cwd: dir });
    expect(ran.code).toBe(0);
    expect(ran.stdout).toContain("[dry run]");
    // Without --dry-run the same config needs both.
    expect((await runCli(["check", "c.yaml"], { cwd: dir })).code).toBe(2);
  });
});
