import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { serveStatic } from "@hono/node-server/serve-static";
import type { Context, Hono } from "hono";
import type { Env } from "./routes.js";

/*
 * The pages (apps/web-ui, built by Vite): index.html at `/` and the hashed assets under
 * `/assets/`. Public, since the login page is one of them; everything they show comes from
 * the API, which asks for the session. Registered before the API's middleware so these
 * answers carry their own headers: a CSP that lets the page run its own scripts (the API's
 * forbids everything) and caching fit for content-hashed file names.
 */

/** apps/web-ui/dist beside this package in the repository (from src/http and dist/http alike). */
export function defaultPagesDir(): string {
  return fileURLToPath(new URL("../../../web-ui/dist/", import.meta.url));
}

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join("; ");

function pageHeaders(c: Context<Env>, cache: string): void {
  c.header("Content-Security-Policy", CSP);
  c.header("X-Content-Type-Options", "nosniff");
  // frame-ancestors 'none' says it to current browsers; this to those that predate it.
  c.header("X-Frame-Options", "DENY");
  c.header("Referrer-Policy", "no-referrer");
  c.header("Strict-Transport-Security", "max-age=31536000");
  c.header("Cache-Control", cache);
}

/** Serves the built pages from `dir`; false (nothing registered) when they are not built. */
export function registerPages(app: Hono<Env>, dir: string): boolean {
  if (!existsSync(`${dir}/index.html`)) return false;
  // Asset names carry a hash of their content: a new build gets new names, so keep them a year.
  app.get(
    "/assets/*",
    serveStatic({
      root: dir,
      precompressed: true,
      onFound: (_, c) => pageHeaders(c, "public, max-age=31536000, immutable"),
    }),
  );
  // The page itself names the current assets: revalidate it every time.
  app.get("/", serveStatic({ root: dir, path: "index.html", onFound: (_, c) => pageHeaders(c, "no-cache") }));
  return true;
}
