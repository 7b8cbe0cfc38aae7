import { z } from "zod";
import { codeSchema, errorsSchema, fail, invalid, messageSchema } from "../answers.js";
import { appOr404, appParams, iso8601, type Resource } from "./common.js";

const secretList = z.array(z.object({ path: z.string(), state: z.enum(["set", "reference"]) }));
const configAnswer = z.object({
  name: z.string(),
  version: z.number(),
  author: z.string(),
  comment: z.string().nullable(),
  created_at: z.string(),
  config: z.record(z.string(), z.unknown()),
  secrets: secretList.describe(
    "secret fields: `set` ones are stored encrypted and left out of `config`; leave them out of a PUT to keep them",
  ),
});
const saved = z.object({ name: z.string(), version: z.number(), created: z.boolean() });
const conflict = z.object({ error: z.string(), code: codeSchema, version: z.number().nullable() });

/** GET /api/apps/{name}/config's answer: a version, secrets left out. */
export type StoredConfig = z.infer<typeof configAnswer>;

/** An app's config: saved as its next version (creating the app), shown, listed by version, rolled back. */
export const configRoutes: Resource = (api, deps) => {
  api.route(
    {
      method: "put",
      path: "/api/apps/{name}/config",
      summary: "Save a config (the CLI's config as JSON) as the app's next version; creates the app",
      tag: "config",
      access: "user",
      params: appParams,
      query: z.strictObject({ comment: z.string().max(500).optional().describe("why, kept with the version") }),
      body: z.unknown().describe("the config, exactly as the CLI's YAML/JSON; see GET /api/schema"),
      responses: {
        200: { description: "saved and applied", schema: saved },
        409: {
          description:
            'If-Match named another version than the current one; with If-Match "0" (create only, as the add page sends), the app exists',
          schema: conflict,
        },
        422: { description: "invalid: nothing saved; every problem at its path", schema: errorsSchema },
      },
    },
    async ({ c, params, query, body, principal }) => {
      const ifMatch = parseIfMatch(c.req.header("if-match"));
      if (ifMatch === "invalid")
        return invalid(c, [
          { path: "If-Match", message: 'If-Match must be a version number, e.g. "3"', code: "DYNO_REQUEST_INVALID" },
        ]);
      const result = await deps.configs.save(params.name, body, {
        author: principal.name,
        comment: query.comment ?? null,
        ifMatch,
      });
      if (!result.ok) {
        if ("conflict" in result) {
          const version = { version: result.conflict.current };
          // If-Match 0 is a create: the caller meant a new app, so say that the name is taken.
          return ifMatch === 0
            ? fail(
                c,
                409,
                "DYNO_APP_EXISTS",
                `an app named ${params.name} exists: open its config to change it`,
                version,
              )
            : fail(c, 409, "DYNO_CONFLICT", result.conflict.message, version);
        }
        return invalid(c, result.errors);
      }
      await deps.supervisor.sync();
      c.header("ETag", `"${result.app.version}"`);
      return c.json({ name: result.app.name, version: result.app.version, created: result.created });
    },
  );

  api.route(
    {
      method: "get",
      path: "/api/apps/{name}/config",
      summary: "The config in force, secrets left out (listed in `secrets`)",
      tag: "config",
      access: "user",
      params: appParams,
      query: z.strictObject({
        version: z.coerce.number().int().min(1).optional().describe("an older version instead"),
      }),
      responses: {
        200: { description: "the config", schema: configAnswer },
        404: { description: "no such app or version", schema: messageSchema },
      },
    },
    async ({ c, params, query }) => {
      const a = await appOr404(deps, c, params.name);
      if (a instanceof Response) return a;
      const shown = await deps.configs.show(a, query.version);
      if (!shown) return fail(c, 404, "DYNO_VERSION_NOT_FOUND", `${a.name} has no version ${query.version}`);
      c.header("ETag", `"${shown.version}"`);
      return c.json({
        name: a.name,
        version: shown.version,
        author: shown.author,
        comment: shown.comment,
        created_at: iso8601(shown.createdAt),
        config: shown.config,
        secrets: shown.secrets,
      });
    },
  );

  api.route(
    {
      method: "get",
      path: "/api/apps/{name}/config/versions",
      summary: "Every version, newest first (configs with secrets left out)",
      tag: "config",
      access: "user",
      params: appParams,
      responses: {
        200: {
          description: "versions",
          schema: z.object({ current: z.number(), versions: z.array(configAnswer.omit({ name: true })) }),
        },
      },
    },
    async ({ c, params }) => {
      const a = await appOr404(deps, c, params.name);
      if (a instanceof Response) return a;
      const rows = await deps.apps.versions(a.id);
      const versions = await Promise.all(rows.map((r) => deps.configs.show(a, r.version)));
      return c.json({
        current: a.version,
        versions: versions
          .filter((v) => v !== null)
          .map((v) => ({
            version: v.version,
            author: v.author,
            comment: v.comment,
            created_at: iso8601(v.createdAt),
            config: v.config,
            secrets: v.secrets,
          })),
      });
    },
  );

  api.route(
    {
      method: "post",
      path: "/api/apps/{name}/config/rollback",
      summary: "Make an older version current again (saved as a new version)",
      tag: "config",
      access: "user",
      params: appParams,
      body: z.strictObject({ version: z.number().int().min(1) }),
      responses: {
        200: { description: "rolled back", schema: saved },
        404: { description: "no such version", schema: messageSchema },
        422: { description: "that version no longer validates (e.g. a plugin was removed)", schema: errorsSchema },
      },
    },
    async ({ c, params, body, principal }) => {
      const a = await appOr404(deps, c, params.name);
      if (a instanceof Response) return a;
      const old = await deps.apps.version(a.id, body.version);
      if (!old) return fail(c, 404, "DYNO_VERSION_NOT_FOUND", `${a.name} has no version ${body.version}`);
      const result = await deps.configs.save(a.name, old.config, {
        author: principal.name,
        comment: `rollback to version ${body.version}`,
        ifMatch: a.version,
        kind: "rollback",
      });
      if (!result.ok)
        return "conflict" in result
          ? fail(c, 409, "DYNO_CONFLICT", result.conflict.message, { version: result.conflict.current })
          : invalid(c, result.errors);
      await deps.supervisor.sync();
      return c.json({ name: a.name, version: result.app.version, created: false });
    },
  );
};

/** `If-Match: "3"` (or 3, or W/"3"); "invalid" when it names no version; undefined when absent. */
function parseIfMatch(header: string | undefined): number | undefined | "invalid" {
  if (header === undefined) return undefined;
  const m = /^\s*(?:W\/)?"?(\d+)"?\s*$/.exec(header);
  return m ? Number(m[1]) : "invalid";
}
