import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type HerokuFake, startHerokuFake } from "@dynosaur/fakes/heroku";
import { type NerdGraphFake, startNerdGraphFake } from "@dynosaur/fakes/newrelic";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { spawnCli, tempDir } from "./helpers.js";

/*
 * The README's "Against your app" walkthrough, step by step as a new user types it, against
 * the fakes of Heroku and New Relic NerdGraph posing as the README's example app (Heroku app
 * `my-shop` running 2 web dynos; New Relic account 1234567, APM app `my-shop-web` at 1,500
 * requests/min). The steps are read from the README itself, so the README cannot drift from
 * what works. Two things differ from a real user's run: the install step is not run here (CI
 * runs scripts/install-from-clone.sh in scripts/check-packages.sh; this runs the built CLI
 * of this checkout, whose plugins are installed next to it), and the config's two API URLs
 * point at the fakes instead of api.heroku.com and api.newrelic.com.
 */
const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const NR_KEY = "NRAK-readme-walkthrough-0000000";

let heroku: HerokuFake;
let nr: NerdGraphFake;

beforeAll(async () => {
  heroku = await startHerokuFake({
    apps: { "my-shop": { formation: { web: { quantity: 2 }, worker: { quantity: 1 } } } },
  });
  nr = await startNerdGraphFake({
    apiKey: NR_KEY,
    accountId: 1234567,
    apps: [{ name: "my-shop-web", id: 42, rpm: 1500 }],
  });
});
afterAll(async () => {
  await Promise.all([heroku.close(), nr.close()]);
});

/** The README's "Against your app" section: its shell steps and its sample outputs. */
function walkthrough() {
  const readme = readFileSync(join(REPO, "README.md"), "utf8");
  const section = readme.split(/^## /m).find((s) => s.startsWith("Against your app\n"));
  if (!section) throw new Error('README.md has no "## Against your app" section');
  const blocks = [...section.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1], text: m[2] ?? "" }));
  const steps = blocks.find((b) => b.lang === "sh")?.text ?? "";
  const outputs = blocks.filter((b) => b.lang === "").map((b) => b.text.trimEnd().split("\n"));
  const commands = steps
    .split("\n")
    .map((line) => line.replace(/\s+#.*$/, "").trim())
    .filter(Boolean);
  return { commands, outputs };
}

/** What each variable the README exports holds when the fakes play the user's services. */
function envFor(name: string, herokuKey: string): string {
  const values: Record<string, string> = { HEROKU_API_KEY: herokuKey, NEW_RELIC_API_KEY: NR_KEY };
  const value = values[name];
  if (value === undefined) throw new Error(`the README exports ${name}; this walkthrough does not know what it holds`);
  return value;
}

/** Runs the README's steps in a fresh directory; returns what the `dynosaur` step printed. */
async function followReadme(herokuKey: string) {
  const { commands } = walkthrough();
  const dir = tempDir();
  const env: Record<string, string> = {};
  let result: Awaited<ReturnType<typeof spawnCli>["exited"]> | null = null;
  for (const command of commands) {
    const [program, ...args] = command.split(/\s+/);
    if (program === "bash" && args[0] === "scripts/install-from-clone.sh") {
      // Installs what the config uses (checked once the config is copied).
      env.__plugins = args.slice(1).join(" ");
    } else if (program === "cp" && args.length === 2) {
      const [from = "", to = ""] = args;
      copyFileSync(join(REPO, from), join(dir, to));
      const doc = parseDocument(readFileSync(join(dir, to), "utf8"));
      expect(env.__plugins?.split(" ")).toEqual(expect.arrayContaining((doc.toJS() as { use: string[] }).use));
      // The one change a real user does not make: the APIs are the fakes.
      doc.setIn(["scaler", "heroku_api_url"], heroku.url);
      doc.setIn(["plugins", 0, "endpoint"], nr.endpoint);
      writeFileSync(join(dir, to), doc.toString());
    } else if (program === "export") {
      const name = /^export (\w+)=/.exec(command)?.[1];
      if (!name) throw new Error(`the README's step "${command}" exports no NAME=value`);
      env[name] = envFor(name, herokuKey);
    } else if (program === "dynosaur") {
      const { __plugins: _, ...userEnv } = env;
      result = await spawnCli(args, { cwd: dir, env: userEnv }).exited;
    } else {
      throw new Error(`the README's step "${command}" is not one this walkthrough knows`);
    }
  }
  if (!result) throw new Error("the README's steps never run dynosaur");
  return result;
}

describe("README: against your app, dynosaur doctor first", () => {
  it("a new user following the README reaches a passing `dynosaur doctor`, and sees what the README shows", async () => {
    const { outputs } = walkthrough();
    heroku.clearRequests();
    const { code, stdout, stderr } = await followReadme(heroku.apiKey);
    expect(stderr).toBe("");
    expect(stdout.trimEnd().split("\n")).toEqual(outputs[0]);
    expect(code).toBe(0);
    // Read once, never scaled.
    expect(heroku.requests.map((r) => r.method)).toEqual(["GET"]);
  });

  it("with a wrong Heroku key, doctor prints what the README says it prints, and exits 1", async () => {
    const { outputs } = walkthrough();
    const { code, stdout } = await followReadme("wrong-key-0123456789");
    expect(stdout.trimEnd().split("\n")).toEqual(outputs[1]);
    expect(code).toBe(1);
  });
});
