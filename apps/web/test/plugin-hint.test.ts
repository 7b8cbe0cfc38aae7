import { describe, expect, it } from "vitest";
import { startTestServer } from "./helpers.js";

describe("a config naming a plugin the server does not have", () => {
  it("says how to add it on Heroku (DYNOSAUR_PLUGINS), and what was meant for a typo", async () => {
    const t = await startTestServer();
    const r = await t.call("PUT", "/api/apps/shop/config", {
      body: { use: ["randon", "acme-metrics"], scaler: { dry_run: true }, plugins: [{ type: "random" }] },
    });
    expect(r.status).toBe(422);
    const at = (path: string) => r.json.errors.find((e: { path: string }) => e.path === path);
    expect(at("use[0]").message).toContain('plugin "randon" is not installed next to the server');
    expect(at("use[0]").hint).toMatch(/^write use: \[random\] if you meant it/);
    expect(at("use[1]").hint).toMatch(
      /npm install dynosaur-plugin-acme-metrics; on Heroku, name its package in the DYNOSAUR_PLUGINS config var and deploy again$/,
    );
  });
});
