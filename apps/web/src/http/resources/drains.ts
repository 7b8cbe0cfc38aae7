import { DynosaurError } from "@dynosaur/core";
import type { Context } from "hono";
import { z } from "zod";
import { type DrainHeroku, type Drains, NoSecretKey } from "../../drains.js";
import type { AppRow } from "../../store/apps.js";
import { errorsSchema, fail, invalid, messageSchema } from "../answers.js";
import { DRAIN_PATH } from "../drain-ingest.js";
import type { Api } from "../routes.js";
import { type ApiDeps, appOr404, appParams, iso, publicOrigin, type Resource, registrationOrigin } from "./common.js";

type DrainDeps = ApiDeps & { drains: Drains };

const drainAnswer = z.object({
  url: z.string().describe("the app's drain URL: keep it secret, anyone holding it can feed the app's readings"),
  command: z.string().describe("the line that adds the drain to the Heroku app"),
  heroku_app_name: z.string(),
  last_delivery_at: z.string().nullable().describe("when this server process last got a line from the drain"),
  deliveries: z.number().describe("deliveries this process took (a retried one counted once)"),
  duplicates: z.number().describe("retried deliveries (same Logplex-Frame-Id) not counted again"),
  malformed: z.number().describe("frames that could not be read, skipped"),
  last_minute: z
    .object({
      requests: z.number(),
      service_p95_ms: z.number().nullable(),
      queue_p95_ms: z.number().nullable(),
      errors: z.record(z.string(), z.number()),
    })
    .describe(
      "web requests of the last 60 s: this process's deliveries and the other server processes' latest stored minute",
    ),
});

const registered = z.object({
  result: z
    .enum(["registered", "already_registered"])
    .describe("`registered`: this server added the drain now; `already_registered`: Heroku listed it already"),
  url: z.string().describe("the app's drain URL: keep it secret"),
  command: z.string().describe("the `heroku drains:add` line (nothing left to run)"),
  heroku_app_name: z.string(),
});

const refusedByHeroku = messageSchema.extend({
  command: z.string().describe("the `heroku drains:add` line to run instead"),
});

/**
 * `GET /api/apps/{name}/drain`, `POST /api/apps/{name}/drain/register` and
 * `GET /api/apps/{name}/drain/minutes`, when the server has drains.
 */
export const drainRoutes: Resource = (api, deps) => {
  const { drains } = deps;
  if (!drains) return;
  const withDrains: DrainDeps = { ...deps, drains };
  drainUrl(api, withDrains);
  const { heroku } = drains;
  if (heroku) drainRegister(api, withDrains, heroku);
  drainMinutes(api, withDrains);
};

/** The app's drain URL (made on first use) and the `heroku drains:add` line, or the 409 answer saying why not. */
async function drainOf(
  deps: DrainDeps,
  c: Context,
  app: AppRow,
): Promise<{ url: string; command: string; herokuApp: string } | Response> {
  let token: string;
  try {
    token = await deps.drains.token(app);
  } catch (e) {
    if (e instanceof NoSecretKey) return fail(c, 409, "DYNO_SECRET_KEY_INVALID", e.message);
    throw e;
  }
  const config = (await deps.apps.version(app.id, app.version))?.config as
    | { heroku_app_name?: unknown; scaler?: { heroku_app_name?: unknown } }
    | undefined;
  const herokuApp = String(config?.scaler?.heroku_app_name ?? config?.heroku_app_name ?? app.name);
  const url = `${publicOrigin(c, deps.drains.publicUrl, deps.trustProxy)}${DRAIN_PATH}${token}`;
  return { url, command: drainsAddCommand(url, herokuApp), herokuApp };
}

const drainsAddCommand = (url: string, herokuApp: string) => `heroku drains:add ${url} -a ${herokuApp}`;

function drainUrl(api: Api, deps: DrainDeps): void {
  api.route(
    {
      method: "get",
      path: "/api/apps/{name}/drain",
      summary: "The app's Heroku log drain URL (made on first use) and the `heroku drains:add` line that adds it",
      tag: "apps",
      access: "admin",
      params: appParams,
      responses: {
        200: { description: "the drain", schema: drainAnswer },
        404: { description: "no such app", schema: messageSchema },
        409: { description: "the server has no secret key to keep the drain URL with", schema: messageSchema },
      },
    },
    async ({ c, params }) => {
      const app = await appOr404(deps, c, params.name);
      if (app instanceof Response) return app;
      const drain = await drainOf(deps, c, app);
      if (drain instanceof Response) return drain;
      const { url, command, herokuApp } = drain;
      const feed = deps.drains.feed(app.name);
      const last = feed.lastMessageAt;
      const stats = deps.drains.lastMinute(app.name);
      return c.json({
        url,
        command,
        heroku_app_name: herokuApp,
        last_delivery_at: last === null ? null : new Date(last).toISOString(),
        deliveries: feed.deliveries,
        duplicates: feed.duplicates,
        malformed: feed.malformed,
        last_minute: {
          requests: stats.requests,
          service_p95_ms: stats.service?.p95 ?? null,
          queue_p95_ms: stats.queue?.p95 ?? null,
          errors: stats.errors,
        },
      });
    },
  );
}

/**
 * `POST /api/apps/{name}/drain/register`: this server adds the app's drain to the Heroku app
 * itself, with the app's own key (counted against its API budget), as the `heroku drains:add`
 * line would. Asks Heroku's list first, so a second call answers `already_registered` without
 * another POST.
 */
function drainRegister(api: Api, deps: DrainDeps, heroku: DrainHeroku): void {
  api.route(
    {
      method: "post",
      path: "/api/apps/{name}/drain/register",
      summary:
        "Adds the app's drain URL to its Heroku app (POST /apps/{app}/log-drains with the app's key), unless Heroku lists it already",
      tag: "apps",
      access: "admin",
      params: appParams,
      responses: {
        200: { description: "Heroku lists the drain already: nothing was added", schema: registered },
        201: { description: "the drain was added to the Heroku app", schema: registered },
        404: { description: "no such app", schema: messageSchema },
        409: {
          description: "the server has no secret key to keep the drain URL with, or no DYNOSAUR_PUBLIC_URL",
          schema: messageSchema,
        },
        422: {
          description: "the app has no Heroku key to call with (a dry run): run `heroku drains:add` instead",
          schema: errorsSchema,
        },
        502: {
          description:
            "Heroku refused or could not be reached: its message, and the `heroku drains:add` line to run instead",
          schema: refusedByHeroku,
        },
      },
    },
    async ({ c, params }) => {
      const app = await appOr404(deps, c, params.name);
      if (app instanceof Response) return app;
      const drain = await drainOf(deps, c, app);
      if (drain instanceof Response) return drain;
      // Heroku sends the app's whole log there, with the app's own key: never to a host the request
      // names (with DYNOSAUR_PUBLIC_URL set, the drain's URL starts with it).
      const origin = registrationOrigin(c, deps.drains.publicUrl, { command: drain.command });
      if (origin instanceof Response) return origin;
      let outcome: { added: boolean; herokuApp: string };
      try {
        outcome = await heroku.addDrain(app, drain.url);
      } catch (e) {
        if (!(e instanceof DynosaurError)) throw e;
        if (!e.code.startsWith("HEROKU_")) {
          if (e.exitCode !== 2) throw e;
          // The app's config gives no Heroku access to call with (a dry run, no key): said at its path.
          return invalid(
            c,
            e.problems.map((p) => ({
              path: p.path || "scaler",
              message: p.message,
              hint: `run \`${drain.command}\` instead`,
              code: e.code,
            })),
          );
        }
        // The message is Heroku's (or why it was not reached), the key redacted from it.
        return fail(c, 502, e.code, e.message, { command: drain.command });
      }
      return c.json(
        {
          result: outcome.added ? "registered" : "already_registered",
          url: drain.url,
          command: drainsAddCommand(drain.url, outcome.herokuApp),
          heroku_app_name: outcome.herokuApp,
        },
        outcome.added ? 201 : 200,
        { "cache-control": "no-store" },
      );
    },
  );
}

export const minuteRow = z.object({
  minute: z.string(),
  requests: z.number(),
  service_p50_ms: z.number().nullable(),
  service_p95_ms: z.number().nullable(),
  connect_mean_ms: z.number().nullable(),
  queue_n: z.number(),
  queue_p95_ms: z.number().nullable(),
  statuses: z.record(z.string(), z.number()),
  errors: z.record(z.string(), z.number()).describe("router error codes (H12...) and their counts"),
  messages: z.number(),
});

/** `GET /api/apps/{name}/drain/minutes`: the stored per-minute figures of the app's drain. */
function drainMinutes(api: Api, deps: DrainDeps): void {
  api.route(
    {
      method: "get",
      path: "/api/apps/{name}/drain/minutes",
      summary: "The app's drain, minute by minute: web requests, service and queue time, status classes, router errors",
      tag: "apps",
      access: "user",
      params: appParams,
      query: z.strictObject({
        since: iso.optional().describe("only minutes from this time (default: the last hour)"),
        limit: z.coerce.number().int().min(1).max(20_160).default(1440).describe("at most this many minutes"),
      }),
      responses: {
        200: { description: "the minutes, oldest first", schema: z.object({ minutes: z.array(minuteRow) }) },
        404: { description: "no such app", schema: messageSchema },
      },
    },
    async ({ c, params, query }) => {
      const app = await appOr404(deps, c, params.name);
      if (app instanceof Response) return app;
      const since = query.since ? Date.parse(query.since) : deps.drains.now() - 3_600_000;
      const rows = await deps.drains.minutes(app.id, since, query.limit);
      return c.json({ minutes: mergeInstances(rows) });
    },
  );
}

type StoredMinute = Awaited<ReturnType<Drains["minutes"]>>[number];

/** One row per minute: counts summed over the server processes, times weighted by their requests. */
export function mergeInstances(rows: readonly StoredMinute[]): z.infer<typeof minuteRow>[] {
  const byMinute = new Map<number, StoredMinute[]>();
  for (const r of rows) byMinute.set(r.minute, [...(byMinute.get(r.minute) ?? []), r]);
  const sum = (list: Record<string, number>[]) => {
    const out: Record<string, number> = {};
    for (const o of list) for (const [k, v] of Object.entries(o)) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  const weighted = (
    parts: StoredMinute[],
    value: (r: StoredMinute) => number | null,
    weight: (r: StoredMinute) => number,
  ) => {
    let total = 0;
    let w = 0;
    for (const r of parts) {
      const v = value(r);
      if (v === null) continue;
      total += v * weight(r);
      w += weight(r);
    }
    return w === 0 ? null : total / w;
  };
  return [...byMinute.entries()].map(([minute, parts]) => ({
    minute: new Date(minute).toISOString(),
    requests: parts.reduce((n, r) => n + r.requests, 0),
    service_p50_ms: weighted(
      parts,
      (r) => r.service_p50,
      (r) => r.requests,
    ),
    service_p95_ms: weighted(
      parts,
      (r) => r.service_p95,
      (r) => r.requests,
    ),
    connect_mean_ms: weighted(
      parts,
      (r) => r.connect_mean,
      (r) => r.requests,
    ),
    queue_n: parts.reduce((n, r) => n + r.queue_n, 0),
    queue_p95_ms: weighted(
      parts,
      (r) => r.queue_p95,
      (r) => Math.max(1, r.queue_n),
    ),
    statuses: sum(parts.map((r) => JSON.parse(r.statuses) as Record<string, number>)),
    errors: sum(parts.map((r) => JSON.parse(r.errors) as Record<string, number>)),
    messages: parts.reduce((n, r) => n + r.messages, 0),
  }));
}
