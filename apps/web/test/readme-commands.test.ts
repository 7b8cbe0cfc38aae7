import { type ChildProcess, spawn } from "node:child_process";
import { cpSync, existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { onCleanup, tempDir, until } from "./helpers.js";

/*
 * The README's shell blocks, run as a new user types them in a clone: every ```sh block is
 * either run here or named below with the reason it cannot be, so a new block fails this test
 * until it is one or the other. Each runs in a fresh folder holding a copy of examples/ (so a
 * chart or stats file never lands in the checkout), with two textual changes: `bash scripts/`
 * points at this checkout's scripts, and the web server gets a free port (`--port`, which the
 * README names) instead of 3000, which the curl lines follow.
 */
const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const README = readFileSync(join(REPO, "README.md"), "utf8");
const BLOCKS = [...README.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? "");

/** Blocks not run here, by their first line, and why. */
const NOT_RUN: Record<string, string> = {
  "git clone <this repository> dynosaur && cd dynosaur":
    "installs into the global npm prefix; CI runs this very install (scripts/check-packages.sh)",
  "npm install -g @dynosaur/cli @dynosaur/plugin-newrelic     # global": "the packages are not on npm yet",
  "bash scripts/install-from-clone.sh newrelic     # once: the CLI and the New Relic plugin":
    "needs a Heroku and a New Relic account: apps/cli/test/readme-doctor.test.ts runs it against their fakes",
  "dynosaur dynosaur.yaml --dry-run --ticks 3      # decides, scales nothing":
    "needs the previous block's config of a real app; the Quick start runs the same dry run",
  'curl -H "Authorization: Bearer $TOKEN" https://my-dynosaur.herokuapp.com/api/apps/my-shop/drain':
    "needs a deployed dynosaur-web and a Heroku app: apps/web/test/drain.test.ts asks for the drain URL and posts deliveries to it",
  'curl -X POST -H "Authorization: Bearer $TOKEN" https://my-dynosaur.herokuapp.com/api/apps/my-shop/heroku-webhook':
    "needs a deployed dynosaur-web and a Heroku app: apps/web/test/heroku-webhooks.test.ts makes the webhook and delivers to it from the Heroku fake",
};
/** Blocks run here, by their first line. */
const RUN = {
  quickStart: "bash scripts/dynosaur examples/dry-run.yaml --ticks 10   # a dry run: no credentials, no Heroku",
  simulate: "bash scripts/dynosaur simulate examples/backtest.yaml \\",
  tune: "bash scripts/dynosaur tune examples/backtest.yaml --trace examples/traces/aws-elb-requests.csv --chart frontier.svg",
  webServer: "DYNOSAUR_ADMIN_PASSWORD=let-me-in DYNOSAUR_API_TOKEN=try-me bash scripts/dynosaur-web",
  webImport: "bash scripts/dynosaur-web import examples/dry-run.yaml --name demo    # or PUT /api/apps/demo/config",
  webExport: "bash scripts/dynosaur-web export demo > demo.yaml   # the config back as CLI YAML",
};

function block(firstLine: string): string[] {
  const found = BLOCKS.find((b) => b.split("\n")[0] === firstLine);
  if (found === undefined) throw new Error(`README.md has no sh block starting with: ${firstLine}`);
  return found
    .replace(/\\\n\s*/g, " ")
    .split("\n")
    .filter((line) => line.trim() !== "");
}

/** A fresh folder with a copy of examples/, as a clone has it. */
function clone(): string {
  const dir = tempDir();
  cpSync(join(REPO, "examples"), join(dir, "examples"), {
    recursive: true,
    filter: (src) => !src.includes("node_modules") && !src.includes("plugin-template"),
  });
  return dir;
}

function env(): NodeJS.ProcessEnv {
  const out = { ...process.env };
  for (const name of ["PORT", "DATABASE_URL", "DYNOSAUR_ADMIN_PASSWORD", "DYNOSAUR_API_TOKEN"]) delete out[name];
  return out;
}

const asTyped = (line: string, port?: number) => {
  const local = line.replaceAll("bash scripts/", `bash ${REPO}scripts/`);
  return port === undefined ? local : local.replaceAll("localhost:3000", `localhost:${port}`);
};

function sh(line: string, cwd: string, port?: number): Promise<{ code: number | null; out: string }> {
  return new Promise((done) => {
    const child = spawn("bash", ["-c", asTyped(line, port)], { cwd, env: env(), stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("close", (code) => done({ code, out }));
  });
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((done) => s.listen(0, "127.0.0.1", done));
  const address = s.address();
  await new Promise((done) => s.close(done));
  if (!address || typeof address !== "object") throw new Error("no port");
  return address.port;
}

describe("the README's shell blocks", () => {
  it("every block is run below or named with the reason it is not", () => {
    const known = [...Object.keys(NOT_RUN), ...Object.values(RUN)];
    for (const b of BLOCKS) expect(known, `an unclassified README block:\n${b}`).toContain(b.split("\n")[0]);
    expect(BLOCKS).toHaveLength(known.length);
  });

  it("Quick start: the dry run prints a line per tick and writes stats.txt", async () => {
    const dir = clone();
    const [dryRun, testSuite] = block(RUN.quickStart);
    // The second line is the test suite this test belongs to.
    expect(testSuite).toMatch(/^bash scripts\/test\s/);
    const r = await sh(must(dryRun), dir);
    expect(r.code, r.out).toBe(0);
    expect(r.out.match(/\[dry run\] web \d+→\d+ estimate \d+/g)).toHaveLength(10);
    expect(existsSync(join(dir, "stats.txt"))).toBe(true);
  }, 120_000);

  it("simulate --compare ends with its conclusion and writes the chart", async () => {
    const dir = clone();
    const [command] = block(RUN.simulate);
    const r = await sh(must(command), dir);
    expect(r.code, r.out).toBe(0);
    expect(r.out.trimEnd().split("\n").at(-1)).toMatch(/^conclusion: /);
    expect(readFileSync(join(dir, "examples/traces/aws-elb-requests.svg"), "utf8")).toMatch(/^<svg/);
  }, 180_000);

  it("tune recommends a headroom and writes the frontier", async () => {
    const dir = clone();
    const [command] = block(RUN.tune);
    const r = await sh(must(command), dir);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/headroom/);
    expect(readFileSync(join(dir, "frontier.svg"), "utf8")).toMatch(/^<svg/);
  }, 240_000);

  it("the web quick start: the server, import, the API, the stream, export, and a login to the pages", async () => {
    const dir = clone();
    const port = await freePort();
    const [serve] = block(RUN.webServer);
    // Its own process group, so stopping it stops whatever bash started.
    const server: ChildProcess = spawn("bash", ["-c", `${asTyped(must(serve))} --port ${port}`], {
      cwd: dir,
      env: env(),
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let log = "";
    server.stdout?.on("data", (d) => (log += d));
    server.stderr?.on("data", (d) => (log += d));
    const exited = new Promise((done) => server.on("close", done));
    onCleanup(async () => {
      if (server.exitCode === null && server.signalCode === null) process.kill(-must(server.pid), "SIGTERM");
      await exited;
    });
    await until(() => /listening on/.test(log), 60_000, `the server to listen; got:\n${log}`);

    const [importLine, listLine, streamLine, ...rest] = block(RUN.webImport);
    expect(rest).toEqual([]);
    const imported = await sh(must(importLine), dir, port);
    expect(imported.code, imported.out).toBe(0);
    expect(imported.out).toContain("created app demo: version 1");
    const listed = await sh(must(listLine), dir, port);
    expect(listed.code, listed.out).toBe(0);
    expect(listed.out).toContain('"demo"');
    // The stream never ends by itself: a user stops it with Ctrl-C once ticks come.
    const streamed = await sh(`timeout 5 ${must(streamLine)}`, dir, port);
    expect(streamed.out).toMatch(/^data: /m);

    const [exportLine] = block(RUN.webExport);
    const exported = await sh(must(exportLine), dir, port);
    expect(exported.code, exported.out).toBe(0);
    expect(readFileSync(join(dir, "demo.yaml"), "utf8")).toMatch(/type: random/);

    // "Open http://localhost:3000/ and log in as admin with the password <the one the command sets>".
    const password = must(/DYNOSAUR_ADMIN_PASSWORD=(\S+)/.exec(must(serve))?.[1]);
    expect(README.replace(/\s+/g, " ")).toContain(`log in as \`admin\` with the password \`${password}\``);
    const page = await fetch(`http://localhost:${port}/`);
    expect(page.status).toBe(200);
    const login = await fetch(`http://localhost:${port}/api/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "admin", password }),
    });
    expect(login.status, await login.clone().text()).toBe(200);
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const apps = await fetch(`http://localhost:${port}/api/apps`, { headers: { cookie } });
    expect(apps.status).toBe(200);
    expect(await apps.text()).toContain("demo");
  }, 180_000);
});

function must<T>(value: T | undefined | null): T {
  if (value === undefined || value === null) throw new Error("missing");
  return value;
}
