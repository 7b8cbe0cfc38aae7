import type { Context, Hono } from "hono";
import { z } from "zod";
import { pathText } from "../secrets.js";
import { fail, invalid, type Problem } from "./answers.js";

/*
 * Each API route is declared once, with zod schemas for its path parameters, query, body
 * and answers. The same declaration validates the request (strictly: unknown fields are
 * refused) and writes the route into the OpenAPI document (zod 4's toJSONSchema), so the
 * documentation cannot drift from what the server accepts. Hand-assembled rather than
 * @hono/zod-openapi: that adds three packages to express what these 100 lines do.
 */

export type Access = "public" | "user" | "admin";

export interface Principal {
  /** Shown as a version's author. */
  name: string;
  admin: boolean;
  via: "session" | "token";
  /** Session id hash, for logout. */
  session?: string;
  csrfToken?: string;
}

export type Env = { Variables: { principal: Principal | null } };

export interface RouteSpec<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> {
  method: "get" | "post" | "put" | "delete";
  /** OpenAPI style: `/api/apps/{name}`. */
  path: string;
  summary: string;
  tag: string;
  access: Access;
  params?: P;
  query?: Q;
  /** The JSON body; `z.unknown()` when the handler validates it itself (configs). */
  body?: B;
  responses: Record<number, { description: string; schema?: z.ZodType; contentType?: string }>;
}

export interface Input<P, Q, B> {
  c: Context<Env>;
  params: P;
  query: Q;
  body: B;
  principal: Principal;
}

export class Api {
  readonly #paths: Record<string, Record<string, unknown>> = {};

  constructor(private readonly app: Hono<Env>) {}

  route<
    P extends z.ZodType = z.ZodObject<Record<never, z.ZodType>>,
    Q extends z.ZodType = z.ZodObject<Record<never, z.ZodType>>,
    B extends z.ZodType = z.ZodUndefined,
  >(
    spec: RouteSpec<P, Q, B>,
    handler: (input: Input<z.output<P>, z.output<Q>, z.output<B>>) => Response | Promise<Response>,
  ): void {
    this.#document(spec);
    const honoPath = spec.path.replace(/\{(\w+)\}/g, ":$1");
    this.app[spec.method](honoPath, async (c) => {
      const principal = c.get("principal");
      if (spec.access !== "public" && !principal)
        return fail(c, 401, "DYNO_UNAUTHENTICATED", "authentication required");
      if (spec.access === "admin" && !principal?.admin)
        return fail(c, 403, "DYNO_FORBIDDEN", "only an admin may do this");
      const errors: Problem[] = [];
      const parse = <S extends z.ZodType>(
        schema: S | undefined,
        value: unknown,
        where: string,
      ): z.output<S> | undefined => {
        if (!schema) return undefined;
        const r = schema.safeParse(value);
        if (r.success) return r.data;
        for (const issue of r.error.issues)
          errors.push({
            path: pathText(
              [where, ...issue.path.map((k) => (typeof k === "number" ? k : String(k)))].filter((k) => k !== ""),
            ),
            message: issue.message,
            code: "DYNO_REQUEST_INVALID",
          });
        return undefined;
      };
      const params = parse(spec.params, c.req.param(), "");
      const query = parse(spec.query, Object.fromEntries(new URL(c.req.url).searchParams), "");
      let body: unknown;
      if (spec.body) {
        const raw = await readJson(c);
        if (raw instanceof Response) return raw;
        body = parse(spec.body, raw, "");
      }
      if (errors.length > 0) return invalid(c, errors);
      return handler({
        c,
        params: params as z.output<P>,
        query: query as z.output<Q>,
        body: body as z.output<B>,
        principal: principal as Principal,
      });
    });
  }

  openapi(info: { title: string; version: string }): unknown {
    return {
      openapi: "3.1.0",
      info,
      paths: this.#paths,
      components: {
        securitySchemes: {
          bearer: {
            type: "http",
            scheme: "bearer",
            description: "An API token (POST /api/tokens) or DYNOSAUR_API_TOKEN",
          },
          session: {
            type: "apiKey",
            in: "cookie",
            name: "dynosaur_session",
            description: "From POST /api/login; state changes also need the X-CSRF-Token header",
          },
        },
      },
      security: [{ bearer: [] }, { session: [] }],
    };
  }

  #document(spec: RouteSpec<z.ZodType, z.ZodType, z.ZodType>): void {
    const schema = (s: z.ZodType, io: "input" | "output") => z.toJSONSchema(s, { io, unrepresentable: "any" });
    const parameters = [
      ...objectFields(spec.params).map(([name, s]) => ({
        name,
        in: "path",
        required: true,
        schema: schema(s, "input"),
        description: s.description,
      })),
      ...objectFields(spec.query).map(([name, s]) => ({
        name,
        in: "query",
        required: !s.safeParse(undefined).success,
        schema: schema(s, "input"),
        description: s.description,
      })),
    ];
    const operation: Record<string, unknown> = {
      summary: spec.summary,
      tags: [spec.tag],
      ...(spec.access === "public" ? { security: [] } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(spec.body
        ? { requestBody: { required: true, content: { "application/json": { schema: schema(spec.body, "input") } } } }
        : {}),
      responses: Object.fromEntries(
        Object.entries(spec.responses).map(([status, r]) => [
          status,
          {
            description: r.description,
            ...(r.schema
              ? { content: { [r.contentType ?? "application/json"]: { schema: schema(r.schema, "output") } } }
              : {}),
          },
        ]),
      ),
    };
    const methods = this.#paths[spec.path] ?? {};
    methods[spec.method] = operation;
    this.#paths[spec.path] = methods;
  }
}

function objectFields(schema: z.ZodType | undefined): [string, z.ZodType][] {
  if (!schema || !(schema instanceof z.ZodObject)) return [];
  return Object.entries(schema.shape as Record<string, z.ZodType>);
}

/** The request's JSON body; a Response when it is not JSON (415) or does not parse (400). */
async function readJson(c: Context<Env>): Promise<unknown | Response> {
  const type = c.req.header("content-type") ?? "";
  // Only JSON: a cross-site HTML form cannot send it without a CORS preflight this server never grants.
  if (!/^application\/json\s*(;|$)/i.test(type))
    return fail(c, 415, "DYNO_REQUEST_INVALID", "send the body as JSON (Content-Type: application/json)");
  const text = await c.req.text();
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    return fail(c, 400, "DYNO_REQUEST_INVALID", `the body is not valid JSON: ${(e as Error).message}`);
  }
}
