import { randomBytes } from "node:crypto";
import { definePlugin, z } from "@dynosaur/core";
import { describe, expect, it } from "vitest";
import { createSecretBox, isSealed } from "../src/secret-box.js";
import { keepOmittedSecrets, maskConfig, openConfig, pathText, sealConfig, secretPaths } from "../src/secrets.js";

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
