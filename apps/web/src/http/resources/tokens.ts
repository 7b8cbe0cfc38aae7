import { z } from "zod";
import { fail, messageSchema } from "../answers.js";
import { randomToken, sha256 } from "../auth.js";
import { iso8601, type Resource } from "./common.js";

const tokenSchema = z.object({
  id: z.number(),
  name: z.string(),
  created_at: z.string(),
  last_used_at: z.string().nullable(),
});

/** One API token as GET /api/tokens lists it (never its value). */
export type ApiToken = z.infer<typeof tokenSchema>;

/** API tokens, for scripts: listed without their values, created (the value shown once), revoked. */
export const tokenRoutes: Resource = (api, deps) => {
  api.route(
    {
      method: "get",
      path: "/api/tokens",
      summary: "API tokens (never their values)",
      tag: "auth",
      access: "admin",
      responses: { 200: { description: "tokens", schema: z.object({ tokens: z.array(tokenSchema) }) } },
    },
    async ({ c }) => {
      const rows = await deps.auth.store.tokens();
      return c.json({
        tokens: rows.map((t) => ({
          id: t.id,
          name: t.name,
          created_at: iso8601(t.createdAt),
          last_used_at: t.lastUsedAt === null ? null : iso8601(t.lastUsedAt),
        })),
      });
    },
  );

  api.route(
    {
      method: "post",
      path: "/api/tokens",
      summary: "Create an API token: its value is shown once, only its hash is kept",
      tag: "auth",
      access: "admin",
      body: z.strictObject({ name: z.string().min(1).max(100) }),
      responses: { 200: { description: "the token", schema: tokenSchema.extend({ token: z.string() }) } },
    },
    async ({ c, body, principal }) => {
      const token = randomToken("dyno_");
      const user = principal.via === "session" ? ((await deps.auth.store.user(principal.name))?.id ?? null) : null;
      const row = await deps.auth.store.createToken(body.name, sha256(token), user, deps.clock.now());
      return c.json({ id: row.id, name: row.name, created_at: iso8601(row.createdAt), last_used_at: null, token });
    },
  );

  api.route(
    {
      method: "delete",
      path: "/api/tokens/{id}",
      summary: "Revoke an API token",
      tag: "auth",
      access: "admin",
      params: z.strictObject({ id: z.coerce.number().int().min(1) }),
      responses: {
        200: { description: "revoked", schema: z.object({ revoked: z.number() }) },
        404: { description: "no such token", schema: messageSchema },
      },
    },
    async ({ c, params }) =>
      (await deps.auth.store.deleteToken(params.id))
        ? c.json({ revoked: params.id })
        : fail(c, 404, "DYNO_NOT_FOUND", `no token ${params.id}`),
  );
};
