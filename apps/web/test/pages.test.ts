import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { startTestServer, tempDir } from "./helpers.js";

/** A stand-in for apps/web-ui/dist: what Vite writes, an index.html and hashed assets. */
function builtPages(): string {
  const dir = tempDir();
  mkdirSync(join(dir, "assets"));
  writeFileSync(
    join(dir, "index.html"),
    '<!doctype html><script type="module" src="/assets/index-abc123.js"></script>',
  );
  writeFileSync(join(dir, "assets", "index-abc123.js"), "console.log(1)");
  return dir;
}

describe("the pages", () => {
  it("serves the page and its assets without a session, with their own CSP and cache headers", async () => {
    const t = await startTestServer({ pagesDir: builtPages() });
    const page = await t.call("GET", "/", { token: null });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.headers.get("cache-control")).toBe("no-cache");
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(page.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    const asset = await t.call("GET", "/assets/index-abc123.js", { token: null });
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(asset.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("sends an asset's precompressed copy (brotli, else gzip) to a browser that accepts it, the plain file to one that does not", async () => {
    const dir = builtPages();
    const big = `console.log(${JSON.stringify("x".repeat(5000))});`;
    writeFileSync(join(dir, "assets", "config-def456.js"), big);
    writeFileSync(join(dir, "assets", "config-def456.js.br"), brotliCompressSync(big));
    writeFileSync(join(dir, "assets", "config-def456.js.gz"), gzipSync(big));
    const t = await startTestServer({ pagesDir: dir });
    const get = (encoding: string) =>
      fetch(`${t.server.url}/assets/config-def456.js`, { headers: { "accept-encoding": encoding } });
    for (const [accept, sent] of [
      ["br, gzip", "br"],
      ["gzip", "gzip"],
      ["identity", null],
    ] as const) {
      const r = await get(accept);
      expect(r.status).toBe(200);
      expect(r.headers.get("content-encoding")).toBe(sent);
      expect(r.headers.get("content-type")).toMatch(/^text\/javascript/);
      expect(r.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      // fetch decodes what it was sent: the same script whichever copy went.
      expect(await r.text()).toBe(big);
    }
  });

  it("answers nothing outside the pages: missing assets, other paths and the API stay locked", async () => {
    const t = await startTestServer({ pagesDir: builtPages() });
    expect((await t.call("GET", "/assets/missing.js", { token: null })).status).toBe(401);
    expect((await t.call("GET", "/assets/..%2f..%2fpackage.json", { token: null })).status).toBe(401);
    expect((await t.call("GET", "/index.html", { token: null })).status).toBe(401);
    const api = await t.call("GET", "/api/apps", { token: null });
    expect(api.status).toBe(401);
    // The API keeps its own CSP, which lets nothing run.
    expect(api.headers.get("content-security-policy")).toContain("default-src 'none'");
  });

  it("serves no page when they are not built", async () => {
    const t = await startTestServer({ pagesDir: join(tempDir(), "not-built") });
    expect((await t.call("GET", "/", { token: null })).status).toBe(401);
  });
});
