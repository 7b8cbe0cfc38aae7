import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { startHerokuFake } from "@dynosaur/fakes/heroku";
import { describe, expect, it } from "vitest";
import { main } from "../src/main.js";
import { nextTick, onCleanup, startTestServer, type TestServer } from "./helpers.js";

/*
 * Attacks on a kept secret: a save that leaves a secret out keeps the stored one, so it must
 * not be able to move where that secret is sent (issue 21, finding 3), and a secret field
 * holding anything but exactly `${NAME}` is a secret, sealed and never shown (finding 4).
 */

const HEROKU_KEY = "heroku-fake-0123456789abcdef";
const PLUGIN_TOKEN = "example-plugin-token-for-tests-5f3a";
const NR_KEY = "NRAK-fake0123456789abcdefghijklmn";
const LIBRATO_KEY = "librato-fake-token-0123456789abcd";

/** A host playing the attacker: records every request's Authorization (and any header holding a secret). */
async function attacker() {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(JSON.stringify(req.headers));
    res.writeHead(500).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  onCleanup(() => new Promise((r) => server.close(r)));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

/** A JSON endpoint for the example plugin (a third-party plugin that declares no `destinations`). */
async function jsonEndpoint() {
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ data: { n: 4 } }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  onCleanup(() => new Promise((r) => server.close(r)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/stats.json`;
}

function config(herokuUrl: string, endpoint: string) {
  return {
    use: ["random", "dynosaur-plugin-example", "@dynosaur/plugin-newrelic"],
    scaler: {
      heroku_app_name: "example",
      heroku_api_key: HEROKU_KEY,
      heroku_api_url: herokuUrl,
      min_dynos: 1,
      max_dynos: 8,
      interval: 5,
    },
    plugins: [
      { type: "example", name: "queue", url: endpoint, json_pointer: "/data/n", per_dyno: 4, token: PLUGIN_TOKEN },
      {
        type: "newrelic",
        name: "nr",
        api_key: NR_KEY,
        account_id: 1,
        app_name: "shop",
        rpm_per_dyno: 100,
        endpoint: "http://127.0.0.1:9/graphql",
      },
    ],
    stats: [{ type: "librato", email: "ops@example.com", api_key: LIBRATO_KEY, endpoint: "http://127.0.0.1:9" }],
  };
}

type Config = ReturnType<typeof config>;

/** The config as the API shows it (secrets left out), for an edit. */
async function shown(t: TestServer): Promise<Config> {
  const answer = await t.call("GET", "/api/apps/shop/config");
  expect(answer.status).toBe(200);
  return answer.json.config;
}

function databaseBytes(dir: string): string {
  return readdirSync(dir)
    .filter((f) => f.startsWith("dynosaur.db"))
    .map((f) => readFileSync(join(dir, f)).toString("latin1"))
    .join("\n");
}

describe("a kept secret is bound to where it is sent", () => {
  it("refuses to keep the Heroku key when heroku_api_url moves to another host, so the key never reaches it", async () => {
    const heroku = await startHerokuFake({ apiKey: HEROKU_KEY });
    onCleanup(() => heroku.close());
    const evil = await attacker();
    const t = await startTestServer();
    expect(
      (await t.call("PUT", "/api/apps/shop/config", { body: config(heroku.url, await jsonEndpoint()) })).status,
    ).toBe(200);
    await nextTick(t, "shop");

    const edit = await shown(t);
    edit.scaler.heroku_api_url = evil.url;
    const refused = await t.call("PUT", "/api/apps/shop/config", { body: edit });
    expect(refused.status).toBe(422);
    expect(refused.json.errors).toEqual([
      {
        path: "scaler.heroku_api_key",
        message: "scaler.heroku_api_url changed, so this stored secret would be sent somewhere new: it is not kept",
        hint: "type the secret again in this save (or change it back)",
        code: "DYNO_CONFIG_INVALID",
      },
    ]);
    // Nothing was saved: the engine still talks to the real Heroku only.
    expect((await t.call("GET", "/api/apps/shop/config")).json.version).toBe(1);
    await nextTick(t, "shop");
    expect(evil.seen).toEqual([]);

    // Typed again, the move is the user's own choice.
    const typed = await t.call("PUT", "/api/apps/shop/config", {
      body: { ...edit, scaler: { ...edit.scaler, heroku_api_key: HEROKU_KEY } },
    });
    expect(typed.status).toBe(200);
    // Other edits still keep the key.
    const again = await shown(t);
    again.scaler.min_dynos = 2;
    expect((await t.call("PUT", "/api/apps/shop/config", { body: again })).status).toBe(200);
  });

  it("binds a third-party plugin's secret to its URL-like options and its type, New Relic's key to endpoint and region, a reporter's to its endpoint", async () => {
    const t = await startTestServer();
    const evil = await attacker();
    expect(
      (await t.call("PUT", "/api/apps/shop/config", { body: config("http://127.0.0.1:9", await jsonEndpoint()) }))
        .status,
    ).toBe(200);
    // What each attempt changes (list, index, option, new value), and the kept secret it must refuse.
    const attempts: [string, "plugins" | "stats", number, string, string, string][] = [
      ["example url", "plugins", 0, "url", `${evil.url}/stats.json`, "plugins[0].token"],
      ["another type under the same name", "plugins", 0, "type", "random", "plugins[0].token"],
      ["New Relic endpoint", "plugins", 1, "endpoint", `${evil.url}/graphql`, "plugins[1].api_key"],
      ["New Relic region", "plugins", 1, "region", "eu", "plugins[1].api_key"],
      ["stats endpoint", "stats", 0, "endpoint", evil.url, "stats[0].api_key"],
    ];
    for (const [what, list, index, option, value, path] of attempts) {
      const edit = await shown(t);
      (edit[list][index] as Record<string, unknown>)[option] = value;
      const refused = await t.call("PUT", "/api/apps/shop/config", { body: edit });
      expect([what, refused.status]).toEqual([what, 422]);
      expect([what, refused.json.errors.map((e: { path: string }) => e.path)]).toEqual([
        what,
        expect.arrayContaining([path]),
      ]);
    }
    expect((await t.call("GET", "/api/apps/shop/config")).json.version).toBe(1);
    await t.server.supervisor.sync();
    expect(evil.seen).toEqual([]);
  });
});

describe("a secret field holds a secret unless it is exactly ${NAME}", () => {
  it("seals mixed values and URL passwords: never in an answer, the export or the database files", async () => {
    const t = await startTestServer({ env: { HOME: "/home/dyno", X: "x" } });
    const mixedHeroku = "HRKU-0123456789abcdef${HOME}";
    const mixedNr = "NRAK-0123456789abcdefgh$${X}";
    const urlPassword = "s3cr3t-url-password-0123";
    const body = config(`https://user:${urlPassword}@api.heroku.com`, await jsonEndpoint());
    body.scaler.heroku_api_key = mixedHeroku;
    // Nothing here may reach a real host.
    (body.scaler as Record<string, unknown>).dry_run = true;
    (body.plugins[1] as { api_key: string }).api_key = mixedNr;
    body.plugins[1] = { ...body.plugins[1], endpoint: `https://nr:${urlPassword}@api.newrelic.com/graphql` } as never;
    expect((await t.call("PUT", "/api/apps/shop/config", { body })).status).toBe(200);

    const answer = await t.call("GET", "/api/apps/shop/config");
    expect(answer.json.secrets).toEqual(
      expect.arrayContaining([
        { path: "scaler.heroku_api_key", state: "set" },
        { path: "scaler.heroku_api_url", state: "set" },
        { path: "plugins[1].api_key", state: "set" },
        { path: "plugins[1].endpoint", state: "set" },
      ]),
    );
    const versions = await t.call("GET", "/api/apps/shop/config/versions");
    const exported = { out: "", err: "" };
    await t.close();
    expect(
      await main({
        argv: ["export", "shop"],
        cwd: t.dir,
        env: {},
        stdout: { write: (s: string) => (exported.out += s) },
        stderr: { write: (s: string) => (exported.err += s) },
      }),
    ).toBe(0);
    for (const [where, text] of [
      ["the config", answer.text],
      ["the versions", versions.text],
      ["the export", exported.out],
      ["the database files", databaseBytes(t.dir)],
    ] as const) {
      for (const secret of ["HRKU-0123456789abcdef", "NRAK-0123456789abcdefgh", urlPassword])
        expect([where, secret, text.includes(secret)]).toEqual([where, secret, false]);
    }
    // A reference alone is still shown as written.
    expect(exported.out).toMatch(/heroku_api_key: \$\{HEROKU_API_KEY\}/);
  });
});

describe("the server's own secrets", () => {
  it("a config may not reference them: ${DATABASE_URL} or ${DYNOSAUR_SECRET_KEY} in a URL is refused at its path", async () => {
    const t = await startTestServer({ env: { DYNOSAUR_SECRET_KEY: "k".repeat(40) } });
    const body = config("http://127.0.0.1:9/?k=${DYNOSAUR_SECRET_KEY}", await jsonEndpoint());
    const refused = await t.call("PUT", "/api/apps/shop/config", { body });
    expect([refused.status, refused.json.errors]).toEqual([
      422,
      [
        expect.objectContaining({
          path: "scaler.heroku_api_url",
          message: "${DYNOSAUR_SECRET_KEY} is one of dynosaur-web's own variables, which configs may not read",
        }),
      ],
    ]);
    expect(refused.text).not.toContain("k".repeat(40));
  });
});
