import { getConnInfo } from "@hono/node-server/conninfo";
import { z } from "zod";
import { codeSchema, fail, messageSchema } from "../answers.js";
import { login, logout } from "../auth.js";
import type { Resource } from "./common.js";

const sessionSchema = z.object({ user: z.string(), admin: z.boolean(), csrf_token: z.string().nullable() });

/** GET /api/session's answer: who is logged in, and the CSRF token state changes need. */
export type Session = z.infer<typeof sessionSchema>;

/** Logging in and out with a password, and the session the pages start from. */
export const authRoutes: Resource = (api, deps) => {
  api.route(
    {
      method: "post",
      path: "/api/login",
      summary: "Log in with a password: sets the session cookie and returns the CSRF token",
      tag: "auth",
      access: "public",
      body: z.strictObject({
        username: z.string().min(1).max(128).default("admin"),
        password: z.string().min(1).max(1024),
      }),
      responses: {
        200: {
          description: "logged in",
          schema: z.object({ user: z.string(), admin: z.boolean(), csrf_token: z.string() }),
        },
        401: { description: "wrong user name or password", schema: messageSchema },
        429: {
          description: "too many failures of this user name from this address: wait Retry-After seconds",
          schema: messageSchema,
        },
      },
    },
    ({ c, body }) => login(c, deps.auth, body, clientAddress(c, deps.trustProxy)),
  );

  api.route(
    {
      method: "post",
      path: "/api/logout",
      summary: "Log out (ends the session)",
      tag: "auth",
      access: "user",
      responses: { 200: { description: "logged out" } },
    },
    ({ c, principal }) => logout(c, deps.auth, principal),
  );

  api.route(
    {
      method: "get",
      path: "/api/session",
      summary:
        "Who is logged in, and the CSRF token state changes need; without a session, 401 and whether the server has no user yet",
      tag: "auth",
      access: "public",
      responses: {
        200: { description: "the session", schema: sessionSchema },
        401: {
          description:
            "nobody is logged in; `setup_needed`: no user exists yet (the server was never started with DYNOSAUR_ADMIN_PASSWORD)",
          schema: z.object({ error: z.string(), code: codeSchema, setup_needed: z.boolean() }),
        },
      },
    },
    async ({ c }) => {
      const principal = c.get("principal");
      if (!principal)
        // What the login page needs to explain a first run; it tells nothing about who the users are.
        return fail(c, 401, "DYNO_UNAUTHENTICATED", "authentication required", {
          setup_needed: !(await deps.auth.store.hasUsers()),
        });
      const session: Session = {
        user: principal.name,
        admin: principal.admin,
        csrf_token: principal.csrfToken ?? null,
      };
      return c.json(session);
    },
  );
};

/** The client's address: behind Heroku's router, the last X-Forwarded-For entry (the router adds it; a client cannot). */
function clientAddress(c: Parameters<typeof getConnInfo>[0], trustProxy: boolean): string {
  const forwarded = c.req.header("x-forwarded-for");
  // split() gives at least one entry: the last is the router's.
  if (forwarded && trustProxy) return (forwarded.split(",").at(-1) ?? "").trim();
  return getConnInfo(c).remote.address ?? "unknown";
}
