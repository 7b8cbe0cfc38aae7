import { readdirSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { ManualClock } from "@dynosaur/core";
import { startHerokuFake } from "@dynosaur/fakes/heroku";
import { describe, expect, it } from "vitest";
import { main } from "../src/main.js";
import { nextTick, onCleanup, startTestServer, type TestServer } from "./helpers.js";

/** Fake-looking values no scanner takes for real keys, long enough for the redactor. */
const HEROKU_KEY = "heroku-fake-0123456789abcdef";
const PLUGIN_TOKEN = "example-plugin-token-for-tests-5f3a";

/** A JSON endpoint for the example plugin that only answers its bearer token. */
async function jsonEndpoint(value: number) {
  const seen: string[] = [];
  // `leak`: the endpoint echoes the token where the number should be, and the plugin quotes it in its error.
  const mode = { leak: false };
  const server = createServer((req, res) => {
    seen.push(req.headers.authorization ?? "");
    if (req.headers.authorization !== `Bearer ${PLUGIN_TOKEN}`) {
      res.writeHead(401).end();
      return;
    }
    res
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify({ data: { n: mode.leak ? PLUGIN_TOKEN : value } }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  onCleanup(() => new Promise((r) => server.close(r)));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/stats.json`, seen, mode };
}

function config(herokuUrl: string, endpoint: string, overrides: Record<string, unknown> = {}) {
  return {
    use: ["random", "dynosaur-plugin-example"],
    scaler: {
      heroku_app_name: "example",
      heroku_api_key: HEROKU_KEY,
      heroku_api_url: herokuUrl,
      min_dynos: 1,
      max_dynos: 8,
      interval: 5,
      ...overrides,
    },
    plugins: [
      { type: "example", name: "queue", url: endpoint, json_pointer: "/data/n", per_dyno: 4, token: PLUGIN_TOKEN },
      { type: "random", seed: 1, max_value: 2 },
    ],
  };
}

/** Everything the database files hold, as text. */
function databaseBytes(dir: string): string {
  return readdirSync(dir)
    .filter((f) => f.startsWith("dynosaur.db"))
    .map((f) => readFileSync(join(dir, f)).toString("latin1"))
    .join("\n");
}

async function everyAnswer(t: TestServer): Promise<string> {
  const paths = [
    "/api/apps",
    "/api/apps/shop/config",
    "/api/apps/shop/config/versions",
    "/api/apps/shop/status",
    "/api/apps/shop/ticks",
    "/api/apps/shop/events",
    "/api/apps/shop/readings",
    "/api/instances",
  ];
  const answers = await Promise.all(paths.map((p) => t.call("GET", p)));
  for (const a of answers) expect(a.status).toBe(200);
  return answers.map((a) => a.text).join("\n");
}

describe("secrets", () => {
  it("a literal secret is encrypted at rest, used by the engine, and never appears in a response, log, or export; an update that leaves it out keeps it", async () => {
    const heroku = await startHerokuFake({ apiKey: HEROKU_KEY });
    onCleanup(() => heroku.close());
    const endpoint = await jsonEndpoint(12);
    const t = await startTestServer();

    const put = await t.call("PUT", "/api/apps/shop/config", { body: config(heroku.url, endpoint.url) });
    expect(put.status).toBe(200);
    const tick = await nextTick(t, "shop");
    // The engine got the opened values: Heroku accepted the key, the endpoint the token.
    expect(tick.sources.find((s) => s.name === "queue")).toMatchObject({ value: 12, estimate: 3, health: "ok" });
    expect(tick.after).toBe(3);
    expect(heroku.formation("example", "web")?.quantity).toBe(3);
    expect(endpoint.seen.at(-1)).toBe(`Bearer ${PLUGIN_TOKEN}`);

    const shown = await t.call("GET", "/api/apps/shop/config");
    expect(shown.json.secrets).toEqual(
      expect.arrayContaining([
        { path: "scaler.heroku_api_key", state: "set" },
        { path: "plugins[0].token", state: "set" },
      ]),
    );
    expect(shown.json.config.scaler.heroku_api_key).toBeUndefined();
    expect(shown.json.config.plugins[0].token).toBeUndefined();

    // Save what was shown, with one change: the secrets left out are kept.
    const edited = structuredClone(shown.json.config);
    edited.scaler.min_dynos = 2;
    const again = await t.call("PUT", "/api/apps/shop/config", { body: edited, headers: { "if-match": '"1"' } });
    expect(again.status).toBe(200);
    const before = heroku.count();
    const later = await nextTick(t, "shop");
    expect(later.sources.find((s) => s.name === "queue")?.health).toBe("ok");
    expect(heroku.requests.slice(before).every((r) => r.headers.authorization === `Bearer ${HEROKU_KEY}`)).toBe(true);
    expect((await t.call("GET", "/api/apps/shop/config")).json.secrets).toHaveLength(2);

    // The service answers with the token where the number should be; the plugin quotes it in its error.
    endpoint.mode.leak = true;
    (t.clock as ManualClock).advance(60_000);
    const failed = await nextTick(t, "shop");
    expect(failed.sources.find((s) => s.name === "queue")?.lastError).toMatch(/\[redacted\].* not a number/);

    await t.server.recorder.flush();
    const exported = { out: "", err: "" };
    const code = await main({
      argv: ["export", "shop"],
      cwd: t.dir,
      env: {},
      stdout: { write: (s: string) => (exported.out += s) },
      stderr: { write: (s: string) => (exported.err += s) },
    });
    expect([code, exported.err]).toEqual([0, ""]);
    expect(exported.out).toMatch(/heroku_api_key: \$\{HEROKU_API_KEY\}/);
    expect(exported.out).toMatch(/token: \$\{QUEUE_TOKEN\}/);

    for (const [where, text] of [
      ["the answers", await everyAnswer(t)],
      ["the logs", t.lines.join("\n")],
      ["the export", exported.out],
      ["the database files", databaseBytes(t.dir)],
    ] as const) {
      expect([where, text.includes(HEROKU_KEY)]).toEqual([where, false]);
      expect([where, text.includes(PLUGIN_TOKEN)]).toEqual([where, false]);
    }
    expect(statSync(join(t.dir, "dynosaur.db.key")).mode & 0o777).toBe(0o600);
  });

  it("keeps ${VAR} references as written, shows them, and resolves them from the environment at run time", async () => {
    const heroku = await startHerokuFake({ apiKey: HEROKU_KEY });
    onCleanup(() => heroku.close());
    const endpoint = await jsonEndpoint(4);
    const t = await startTestServer({ env: { HEROKU_API_KEY: HEROKU_KEY, QUEUE_TOKEN: PLUGIN_TOKEN } });
    const body = config(heroku.url, endpoint.url);
    body.scaler.heroku_api_key = "${HEROKU_API_KEY}";
    const [queue] = body.plugins;
    if (!queue) throw new Error("the config has a plugin");
    queue.token = "${QUEUE_TOKEN}";
    expect((await t.call("PUT", "/api/apps/shop/config", { body })).status).toBe(200);
    const tick = await nextTick(t, "shop");
    expect(tick.sources.find((s) => s.name === "queue")?.value).toBe(4);
    const shown = await t.call("GET", "/api/apps/shop/config");
    expect(shown.json.config.scaler.heroku_api_key).toBe("${HEROKU_API_KEY}");
    expect(shown.json.secrets).toEqual(expect.arrayContaining([{ path: "scaler.heroku_api_key", state: "reference" }]));
    expect(await everyAnswer(t)).not.toContain(PLUGIN_TOKEN);
    expect(t.lines.join("\n")).not.toContain(HEROKU_KEY);

    // A reference to a variable that is not set is refused at its path.
    body.scaler.heroku_api_key = "${NOT_SET_ANYWHERE}";
    const refused = await t.call("PUT", "/api/apps/shop/config", { body });
    expect(refused.status).toBe(422);
    expect(refused.json.errors).toEqual([
      expect.objectContaining({
        path: "scaler.heroku_api_key",
        message: expect.stringMatching(/NOT_SET_ANYWHERE is not set/),
      }),
    ]);
  });

  it("refuses a fallback in a secret field (it would be stored in clear text), and never suggests one for a secret", async () => {
    const t = await startTestServer();
    const body = config("http://127.0.0.1:9", "http://127.0.0.1:9/x");
    body.scaler.heroku_api_key = `\${NOPE_KEY:-${HEROKU_KEY}}`;
    const refused = await t.call("PUT", "/api/apps/shop/config", { body });
    expect([refused.status, refused.json]).toEqual([
      422,
      {
        errors: [
          {
            path: "scaler.heroku_api_key",
            message: "a fallback in a secret (${NOPE_KEY:-...}) would be stored in clear text",
            hint: "set the variable NOPE_KEY, or type the secret itself, which is encrypted",
            code: "DYNO_CONFIG_INVALID",
          },
        ],
      },
    ]);
    expect((await t.call("GET", "/api/apps/shop/config")).status).toBe(404);
    expect(databaseBytes(t.dir)).not.toContain(HEROKU_KEY);
    expect(t.lines.join("\n")).not.toContain(HEROKU_KEY);
    // A plugin's secret too.
    body.scaler.heroku_api_key = HEROKU_KEY;
    const [queue] = body.plugins;
    if (!queue) throw new Error("the config has a plugin");
    queue.token = `\${QUEUE_TOKEN:-${PLUGIN_TOKEN}}`;
    const plugin = await t.call("PUT", "/api/apps/shop/config", { body });
    expect(plugin.json.errors).toEqual([expect.objectContaining({ path: "plugins[0].token" })]);
    expect(plugin.text).not.toContain(PLUGIN_TOKEN);

    // An unset variable: in a secret field the hint offers no `${VAR:-default}`; elsewhere it still does.
    queue.token = "${QUEUE_TOKEN}";
    body.scaler.heroku_app_name = "${APP_NAME_UNSET}";
    const unset = await t.call("PUT", "/api/apps/shop/config", { body });
    expect(unset.status).toBe(422);
    const hintAt = (path: string) =>
      (unset.json.errors as { path: string; hint?: string }[]).find((e) => e.path === path)?.hint;
    expect(hintAt("plugins[0].token")).toBe(
      "set QUEUE_TOKEN where this server runs (`heroku config:set QUEUE_TOKEN=...` on Heroku), or type the secret itself, which is encrypted",
    );
    expect(hintAt("scaler.heroku_app_name")).toMatch(/:-default/);
  });

  it("a stored secret opened with another key fails loudly, naming DYNOSAUR_SECRET_KEY", async () => {
    const t = await startTestServer({ env: { DYNOSAUR_SECRET_KEY: "a".repeat(64) } });
    const body = config("http://127.0.0.1:9", "http://127.0.0.1:9/x");
    expect((await t.call("PUT", "/api/apps/shop/config", { body })).status).toBe(200);
    await t.close();
    const other = await startTestServer({ dir: t.dir, env: { DYNOSAUR_SECRET_KEY: "b".repeat(64) } });
    await other.server.supervisor.sync();
    expect(other.server.supervisor.status("shop")).toBeNull();
    expect((await other.call("GET", "/api/apps")).json.apps[0].problem).toMatch(
      /DYNOSAUR_SECRET_KEY is not the key it was saved with/,
    );
    // A change that leaves the secret out cannot be checked with the wrong key either.
    const shown = (await other.call("GET", "/api/apps/shop/config")).json.config;
    const refused = await other.call("PUT", "/api/apps/shop/config", { body: shown });
    expect(refused.status).toBe(422);
  });
});
