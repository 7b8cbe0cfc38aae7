import { randomBytes } from "node:crypto";
import { definePlugin, z } from "@dynosaur/core";
import { describe, expect, it } from "vitest";
import { createSecretBox, isSealed } from "../src/secret-box.js";
import {
  destinationsOf,
  type KeptSecret,
  keepOmittedSecrets,
  maskConfig,
  movedSecrets,
  openConfig,
  pathText,
  sealConfig,
  secretPaths,
} from "../src/secrets.js";

/** A plugin whose secret option is not named like one: only its `secrets` list says so. */
const queue = definePlugin({
  type: "queue",
  unit: "jobs",
  secrets: ["url"],
  options: z.object({ url: z.string(), per_dyno: z.number() }),
  create: () => ({ retrieve: async () => 0, estimateDynos: () => 0 }),
});
const pluginFor = (type: string) => (type === "queue" ? queue : undefined);

const config = () => ({
  scaler: { heroku_app_name: "shop", heroku_api_key: "literal-heroku-key-123", min_dynos: 1 },
  plugins: [
    { type: "queue", name: "jobs", url: "redis://user:hunter2hunter2@db.example.com:6379", per_dyno: 10 },
    { type: "queue", name: "mail", url: "${MAIL_QUEUE_URL}", per_dyno: 5 },
  ],
  stats: [{ type: "otlp", headers: { "x-api-key": "otlp-header-secret-value" } }],
});

describe("secret handling of a config", () => {
  it("finds secrets by core's naming rule and by the plugins' `secrets` lists", () => {
    const paths = secretPaths(config(), pluginFor).map(pathText).sort();
    expect(paths).toEqual(
      ["plugins[0].url", "plugins[1].url", "scaler.heroku_api_key", "stats[0].headers.x-api-key"].sort(),
    );
  });

  it("seals literals (never references), opens them back, and masks them", () => {
    const box = createSecretBox(randomBytes(32));
    const sealed = sealConfig(config(), secretPaths(config(), pluginFor), box) as ReturnType<typeof config>;
    expect(isSealed(sealed.scaler.heroku_api_key)).toBe(true);
    expect(isSealed(sealed.plugins[0]?.url)).toBe(true);
    expect(sealed.plugins[1]?.url).toBe("${MAIL_QUEUE_URL}");
    expect(JSON.stringify(sealed)).not.toMatch(/hunter2|literal-heroku-key|otlp-header-secret/);
    expect(openConfig(sealed, box)).toEqual(config());
    const masked = maskConfig(sealed);
    expect(masked.secrets.map((s) => s.path).sort()).toEqual([
      "plugins[0].url",
      "scaler.heroku_api_key",
      "stats[0].headers.x-api-key",
    ]);
    expect(JSON.stringify(masked.config)).not.toContain("dynosaur-sealed");
    // Each value gets its own IV: the same secret twice is two different ciphertexts.
    expect(box.seal("same")).not.toBe(box.seal("same"));
    expect(() => createSecretBox(randomBytes(32)).open(sealed.scaler.heroku_api_key as string)).toThrow(
      /DYNOSAUR_SECRET_KEY/,
    );
  });

  it("an update that leaves a secret out keeps it, matching plugins by name even when reordered", () => {
    const box = createSecretBox(randomBytes(32));
    const stored = sealConfig(config(), secretPaths(config(), pluginFor), box);
    const shown = maskConfig(stored).config as ReturnType<typeof config>;
    const [jobs, mail] = shown.plugins;
    if (!jobs || !mail) throw new Error("the config has two plugins");
    const edited = { ...shown, plugins: [mail, { ...jobs, per_dyno: 20 }] };
    const merged = keepOmittedSecrets(edited, stored);
    const opened = openConfig(merged, box) as ReturnType<typeof config>;
    expect(opened.plugins.map((p) => [p.name, p.url, p.per_dyno])).toEqual([
      ["mail", "${MAIL_QUEUE_URL}", 5],
      ["jobs", "redis://user:hunter2hunter2@db.example.com:6379", 20],
    ]);
    expect(opened.scaler.heroku_api_key).toBe("literal-heroku-key-123");
    expect(opened.stats[0]?.headers["x-api-key"]).toBe("otlp-header-secret-value");
    // A value sent replaces the stored one.
    const replaced = openConfig(
      keepOmittedSecrets({ ...edited, scaler: { ...edited.scaler, heroku_api_key: "new-heroku-key-456" } }, stored),
      box,
    ) as ReturnType<typeof config>;
    expect(replaced.scaler.heroku_api_key).toBe("new-heroku-key-456");
  });
});

describe("where kept secrets go", () => {
  const previous = {
    scaler: { heroku_api_key: "dynosaur-sealed:v1:x", heroku_api_url: "https://api.heroku.com", min_dynos: 1 },
    plugins: [{ type: "queue", name: "jobs", url: "dynosaur-sealed:v1:y", token: "dynosaur-sealed:v1:z", host: "a" }],
  };
  const declared = definePlugin({
    type: "declared",
    unit: "x",
    destinations: { token: ["endpoint"] },
    options: z.object({ token: z.string(), endpoint: z.string(), mirror: z.string() }),
    create: () => ({ retrieve: async () => 0, estimateDynos: () => 0 }),
  });
  const lookup = (type: string) => (type === "queue" ? queue : type === "declared" ? declared : undefined);

  it("a plugin that declares nothing: its URL-like options and its type; core's own: the map", () => {
    const kept = [
      { path: ["scaler", "heroku_api_key"], from: ["scaler", "heroku_api_key"] },
      { path: ["plugins", 0, "token"], from: ["plugins", 0, "token"] },
    ];
    expect(destinationsOf(previous, previous, kept[0] as KeptSecret, lookup).keys).toEqual(["heroku_api_url"]);
    expect(destinationsOf(previous, previous, kept[1] as KeptSecret, lookup).keys.sort()).toEqual(
      ["host", "type", "url"].sort(),
    );
    const moved = structuredClone(previous);
    moved.plugins[0] = { ...moved.plugins[0], host: "b" } as never;
    expect(movedSecrets(moved, previous, kept, lookup)).toEqual([
      { path: ["plugins", 0, "token"], changed: ["plugins[0].host"] },
    ]);
  });

  it("a plugin's `destinations` says which options go with a secret; the others move freely", () => {
    const before = {
      plugins: [{ type: "declared", token: "dynosaur-sealed:v1:t", endpoint: "https://a", mirror: "https://m" }],
    };
    const kept = [{ path: ["plugins", 0, "token"], from: ["plugins", 0, "token"] }];
    const mirror = { plugins: [{ ...before.plugins[0], mirror: "https://elsewhere" }] };
    expect(movedSecrets(mirror, before, kept, lookup)).toEqual([]);
    const endpoint = { plugins: [{ ...before.plugins[0], endpoint: "https://evil" }] };
    expect(movedSecrets(endpoint, before, kept, lookup)).toEqual([
      { path: ["plugins", 0, "token"], changed: ["plugins[0].endpoint"] },
    ]);
  });
});
