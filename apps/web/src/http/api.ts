import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { secureHeaders } from "hono/secure-headers";
import { fail } from "./answers.js";
import { authenticate } from "./auth.js";
import { registerPages } from "./pages.js";
import { type ApiDeps, RESOURCES } from "./resources/index.js";
import { Api, type Env } from "./routes.js";

export type { ApiDeps } from "./resources/index.js";

/** The JSON API: everything the pages do goes through here. Each resource's routes are in resources/. */
export function createApi(deps: ApiDeps): Hono<Env> {
  const app = new Hono<Env>();
  const api = new Api(app);

  if (deps.pagesDir) registerPages(app, deps.pagesDir);
  app.use(
    secureHeaders({
      // Answers are JSON: nothing in them may run or be framed, whatever a browser guesses.
      contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
      strictTransportSecurity: "max-age=31536000",
    }),
  );
  app.use(async (c, next) => {
    await next();
    if (!c.res.headers.has("cache-control")) c.header("Cache-Control", "no-store");
  });
  app.use(
    bodyLimit({
      maxSize: deps.bodyLimit,
      onError: (c) => fail(c, 413, "DYNO_REQUEST_INVALID", `the body is larger than ${deps.bodyLimit} bytes`),
    }),
  );
  app.use(authenticate(deps.auth));
  app.notFound((c) =>
    c.get("principal")
      ? fail(c, 404, "DYNO_NOT_FOUND", "no such route")
      : fail(c, 401, "DYNO_UNAUTHENTICATED", "authentication required"),
  );
  app.onError((e, c) => {
    deps.auth.logger.error(`request ${c.req.method} ${c.req.path} failed: ${e.message}`, { event: "http-error" });
    return fail(c, 500, "DYNO_INTERNAL", "internal error");
  });

  for (const resource of RESOURCES) resource(api, deps);

  // Last: the document describes every route declared above.
  const document = api.openapi({ title: "Dynosaur web API", version: deps.version });
  api.route(
    {
      method: "get",
      path: "/api/openapi.json",
      summary: "This document",
      tag: "server",
      access: "user",
      responses: { 200: { description: "OpenAPI 3.1" } },
    },
    ({ c }) => c.json(document),
  );

  return app;
}
