import { configJsonSchema } from "@dynosaur/cli";
import { type Clock, DynosaurError, Redactor, type SourceHealth, type TickReport } from "@dynosaur/core";
import { getConnInfo } from "@hono/node-server/conninfo";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { secureHeaders } from "hono/secure-headers";
import { streamSSE } from "hono/streaming";
import { z } from "zod";
import { problemsOf } from "../config-check.js";
import { APP_NAME, type ConfigService } from "../configs.js";
import type { PluginLoader } from "../plugins.js";
import type { Recorder } from "../recorder.js";
import { NothingToReplay, replayReadings } from "../replay.js";
import { isSecretKey } from "../secrets.js";
import type { AppDirectory } from "../store/app-directory.js";
import type { AppRow, AppStore } from "../store/apps.js";
import type { InstanceStore } from "../store/instances.js";
import type { ReadingStore } from "../store/readings.js";
import type { Supervisor } from "../supervisor.js";
import { appPage, appPageQuery, pageFields } from "./app-page.js";
import { type AuthDeps, authenticate, login, logout, randomToken, sha256 } from "./auth.js";
import { registerPages } from "./pages.js";
import { Api, type Env, errorsSchema, messageSchema } from "./routes.js";

export interface ApiDeps {
  apps: AppStore;
  /** The apps in overview order, for paging. */
  directory: AppDirectory;
  configs: ConfigService;
  readings: ReadingStore;
  recorder: Recorder;
  supervisor: Supervisor;
  instances: InstanceStore;
  loader: PluginLoader;
  auth: AuthDeps;
  clock: Clock;
  /** Instances not seen for this long are not live. */
  instanceTtlMs: number;
  /** Largest body accepted, in bytes. */
  bodyLimit: number;
  version: string;
  /** Behind Heroku's router ($DYNO is set): take the client's address from X-Forwarded-For. */
  trustProxy: boolean;
  /** The built pages (apps/web-ui/dist); none are served when absent or not built. */
  pagesDir?: string;
}

const appParams = z.strictObject({
  name: z.string().regex(APP_NAME, "app names are lower-case letters, digits, '.', '_' and '-', at most 63"),
});
const iso = z.iso.datetime({ offset: true }).describe("an ISO 8601 time, e.g. 2026-01-01T00:00:00Z");
const sinceQuery = z.strictObject({
  since: iso.optional().describe("only rows after this time (default: the last hour)"),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000).describe("at most this many rows"),
});
const processSchema = z.object({
  type: z.string(),
  current: z.number().nullable(),
  estimate: z.number().nullable(),
  health: z.enum(["ok", "stale", "outage"]).nullable(),
  winner: z.string().nullable(),
  sources: z
    .array(z.object({ name: z.string(), health: z.enum(["ok", "stale", "outage"]) }))
    .describe("each source of this process type and its health"),
});
const appSummary = z.object({
  name: z.string(),
  version: z.number(),
  paused: z.boolean(),
  dry_run: z.boolean().nullable(),
  scaled_here: z.boolean(),
  last_tick: z.string().nullable(),
  reason: z.string().nullable(),
  problem: z.string().nullable(),
  processes: z.array(processSchema),
});
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

/** One process type's line in GET /api/apps: its figures, and each of its sources' health. */
function summary(
  type: string,
  current: number | null,
  estimate: number | null,
  winner: string | null,
  sources: readonly { name: string; health: SourceHealth }[],
): z.infer<typeof processSchema> {
  return {
    type,
    current,
    estimate,
    health: worst(sources.map((s) => s.health)),
    winner,
    sources: sources.map((s) => ({ name: s.name, health: s.health })),
  };
}

const worst = (healths: SourceHealth[]): SourceHealth | null =>
  healths.length === 0 ? null : healths.includes("outage") ? "outage" : healths.includes("stale") ? "stale" : "ok";

/** The JSON API: everything the pages do goes through here. */
export function createApi(deps: ApiDeps): Hono<Env> {
  const app = new Hono<Env>();
  const api = new Api(app);
  const iso8601 = (ms: number) => new Date(ms).toISOString();

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
      onError: (c) => c.json({ error: `the body is larger than ${deps.bodyLimit} bytes` }, 413),
    }),
  );
  app.use(authenticate(deps.auth));
  app.notFound((c) =>
    c.get("principal") ? c.json({ error: "no such route" }, 404) : c.json({ error: "authentication required" }, 401),
  );
  app.onError((e, c) => {
    deps.auth.logger.error(`request ${c.req.method} ${c.req.path} failed: ${e.message}`, { event: "http-error" });
    return c.json({ error: "internal error" }, 500);
  });

  const findApp = async (name: string): Promise<AppRow | null> => deps.apps.get(name);
  const noApp = (c: { json: (b: unknown, s: 404) => Response }, name: string) =>
    c.json({ error: `no app named ${name}` }, 404);
  const sinceOf = (since: string | undefined) => (since ? Date.parse(since) : deps.clock.now() - 3_600_000);

  api.route(
    {
      method: "get",
      path: "/healthz",
      summary: "Liveness: no details",
      tag: "server",
      access: "public",
      responses: { 200: { description: "alive", schema: z.object({ ok: z.literal(true) }) } },
    },
    ({ c }) => c.json({ ok: true }),
  );

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
        200: {
          description: "the session",
          schema: z.object({ user: z.string(), admin: z.boolean(), csrf_token: z.string().nullable() }),
        },
        401: {
          description:
            "nobody is logged in; `setup_needed`: no user exists yet (the server was never started with DYNOSAUR_ADMIN_PASSWORD)",
          schema: z.object({ error: z.string(), setup_needed: z.boolean() }),
        },
      },
    },
    async ({ c }) => {
      const principal = c.get("principal");
      if (!principal)
        // What the login page needs to explain a first run; it tells nothing about who the users are.
        return c.json({ error: "authentication required", setup_needed: !(await deps.auth.store.hasUsers()) }, 401);
      return c.json({ user: principal.name, admin: principal.admin, csrf_token: principal.csrfToken ?? null });
    },
  );

  api.route(
    {
      method: "get",
      path: "/api/apps",
      summary:
        "A page of the apps, erroring ones first, with their processes (dynos now, estimate, health), paused and dry run",
      tag: "apps",
      access: "user",
      query: appPageQuery,
      responses: {
        200: { description: "the apps", schema: z.object({ apps: z.array(appSummary), ...pageFields }) },
        422: { description: "a bad query", schema: errorsSchema },
      },
    },
    async ({ c, query }) => {
      const page = await appPage(deps.directory, deps.apps, query);
      if ("errors" in page) return c.json(page, 422);
      const ids = page.apps.map((a) => a.id);
      const [apps, latest, dryRuns] = await Promise.all([page.apps, deps.readings.latest(ids), deps.apps.dryRuns(ids)]);
      return c.json({
        next_cursor: page.next_cursor,
        total: page.total,
        apps: apps.map((a) => {
          const local = deps.supervisor.status(a.name);
          const reports = (latest.get(a.id) ?? []) as TickReport[];
          const time = local?.time ?? reports[0]?.time ?? null;
          return {
            name: a.name,
            version: a.version,
            paused: a.paused,
            dry_run: local?.dryRun ?? dryRuns.get(a.id) ?? null,
            scaled_here: local !== null,
            last_tick: reports[0] ? iso8601(reports[0].time) : time === null ? null : iso8601(time),
            reason: local?.reason ?? reports[0]?.reason ?? null,
            problem: deps.supervisor.problem(a.name),
            // Scaled here: what the runtime sees now. Elsewhere: the newest stored tick.
            processes: local
              ? local.processes.map((p) =>
                  summary(
                    p.processType,
                    p.current,
                    p.estimate,
                    p.winner,
                    local.sources.filter((s) => s.process === p.processType),
                  ),
                )
              : reports.map((r) => summary(r.processType, r.after, r.estimate, r.winner, r.sources)),
          };
        }),
      });
    },
  );

  const SPARK_STEP_MS = 30 * 60_000;
  const SPARK_BUCKETS = 48;
  api.route(
    {
      method: "get",
      path: "/api/overview",
      summary:
        "What the overview adds to GET /api/apps for a page of apps (same query): its dynos over the last 24 h, its last event",
      tag: "apps",
      access: "user",
      query: appPageQuery,
      responses: {
        422: { description: "a bad query", schema: errorsSchema },
        200: {
          description: "per app name",
          schema: z.object({
            ...pageFields,
            from: z.string().describe("start of the first bucket"),
            step_seconds: z.number(),
            apps: z.record(
              z.string(),
              z.object({
                dynos: z
                  .array(z.number().nullable())
                  .describe("the most dynos (process types added up) in each bucket, oldest first; null: no data"),
                last_event: z.object({ at: z.string(), kind: z.string(), message: z.string() }).nullable(),
              }),
            ),
          }),
        },
      },
    },
    async ({ c, query }) => {
      await deps.recorder.flush();
      // The buckets end with the current minute, so the newest stored minute is in the last one.
      const from = Math.floor(deps.clock.now() / 60_000) * 60_000 + 60_000 - SPARK_STEP_MS * SPARK_BUCKETS;
      const page = await appPage(deps.directory, deps.apps, query);
      if ("errors" in page) return c.json(page, 422);
      const ids = page.apps.map((a) => a.id);
      const [apps, series, last] = await Promise.all([
        page.apps,
        deps.readings.dynosSeries(ids, from, SPARK_STEP_MS, SPARK_BUCKETS),
        deps.readings.lastEvents(ids),
      ]);
      return c.json({
        next_cursor: page.next_cursor,
        total: page.total,
        from: iso8601(from),
        step_seconds: SPARK_STEP_MS / 1000,
        apps: Object.fromEntries(
          apps.map((a) => {
            const e = last.get(a.id);
            return [
              a.name,
              {
                dynos: series.get(a.id) ?? Array.from({ length: SPARK_BUCKETS }, () => null),
                last_event: e ? { at: iso8601(e.time), kind: e.kind, message: e.message } : null,
              },
            ];
          }),
        ),
      });
    },
  );

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
        200: {
          description: "saved and applied",
          schema: z.object({ name: z.string(), version: z.number(), created: z.boolean() }),
        },
        409: {
          description:
            'If-Match named another version than the current one; with If-Match "0" (create only, as the add page sends), the app exists',
          schema: z.object({ error: z.string(), version: z.number().nullable() }),
        },
        422: { description: "invalid: nothing saved; every problem at its path", schema: errorsSchema },
      },
    },
    async ({ c, params, query, body, principal }) => {
      const ifMatch = parseIfMatch(c.req.header("if-match"));
      if (ifMatch === "invalid")
        return c.json({ errors: [{ path: "If-Match", message: 'If-Match must be a version number, e.g. "3"' }] }, 422);
      const result = await deps.configs.save(params.name, body, {
        author: principal.name,
        comment: query.comment ?? null,
        ifMatch,
      });
      if (!result.ok) {
        if ("conflict" in result) {
          // If-Match 0 is a create: the caller meant a new app, so say that the name is taken.
          const error =
            ifMatch === 0
              ? `an app named ${params.name} exists: open its config to change it`
              : result.conflict.message;
          return c.json({ error, version: result.conflict.current }, 409);
        }
        return c.json({ errors: result.errors }, 422);
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
      const a = await findApp(params.name);
      if (!a) return noApp(c, params.name);
      const shown = await deps.configs.show(a, query.version);
      if (!shown) return c.json({ error: `${a.name} has no version ${query.version}` }, 404);
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
      const a = await findApp(params.name);
      if (!a) return noApp(c, params.name);
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
        200: {
          description: "rolled back",
          schema: z.object({ name: z.string(), version: z.number(), created: z.boolean() }),
        },
        404: { description: "no such version", schema: messageSchema },
        422: { description: "that version no longer validates (e.g. a plugin was removed)", schema: errorsSchema },
      },
    },
    async ({ c, params, body, principal }) => {
      const a = await findApp(params.name);
      if (!a) return noApp(c, params.name);
      const old = await deps.apps.version(a.id, body.version);
      if (!old) return c.json({ error: `${a.name} has no version ${body.version}` }, 404);
      const result = await deps.configs.save(a.name, old.config, {
        author: principal.name,
        comment: `rollback to version ${body.version}`,
        ifMatch: a.version,
        kind: "rollback",
      });
      if (!result.ok)
        return "conflict" in result
          ? c.json({ error: result.conflict.message, version: result.conflict.current }, 409)
          : c.json({ errors: result.errors }, 422);
      await deps.supervisor.sync();
      return c.json({ name: a.name, version: result.app.version, created: false });
    },
  );

  const replayScore = z.object({
    cost_dyno_hours: z.number().describe("dyno-hours paid for, booting dynos included"),
    shortfall_percent: z.number().describe("dyno-minutes needed but not serving, as a % of those needed"),
    scale_events: z.number().int(),
    shortfall_dyno_minutes: z.number(),
    needed_dyno_minutes: z
      .number()
      .describe("each minute's estimate of this config's sources, summed; not bounded by its min_dynos and max_dynos"),
  });
  const replaySeries = z.object({ dynos: z.array(z.number()), needed: z.array(z.number()) });
  api.route(
    {
      method: "post",
      path: "/api/apps/{name}/replay",
      summary:
        "Try a draft config first: replays the stored readings of the last days through the engine (no Heroku call, nothing saved) with the draft and with the running config",
      tag: "config",
      access: "user",
      params: appParams,
      body: z.strictObject({
        config: z
          .unknown()
          .describe("the draft, as a PUT of the config takes it: secrets left out are the stored ones"),
        days: z.number().int().min(1).max(14).default(1).describe("replay the last this many days (as far as kept)"),
      }),
      responses: {
        200: {
          description: "each config's cost, shortfall and scale events, in total and per process type, with series",
          schema: z.object({
            span: z.object({ from: z.string(), to: z.string(), minutes: z.number() }),
            running: replayScore,
            draft: replayScore,
            processes: z.array(
              z.object({
                type: z.string(),
                sources: z.object({ running: z.array(z.string()), draft: z.array(z.string()) }),
                filled_minutes: z.number().describe("minutes without a stored value: the previous one stood in"),
                running: replayScore,
                draft: replayScore,
                series: z.object({
                  minutes: z.array(z.number()).describe("seconds since the epoch"),
                  running: replaySeries,
                  draft: replaySeries,
                }),
              }),
            ),
            skipped: z.array(z.object({ type: z.string(), reason: z.string() })),
          }),
        },
        409: { description: "no readings stored yet to replay", schema: messageSchema },
        422: {
          description: "the draft is invalid (paths within the config), or cannot be replayed",
          schema: errorsSchema,
        },
      },
    },
    async ({ c, params, body }) => {
      const a = await findApp(params.name);
      if (!a) return noApp(c, params.name);
      const draft = await deps.configs.checkDraft(a, body.config);
      if (!draft.ok) return c.json({ errors: draft.errors }, 422);
      const redactor = new Redactor();
      const running = await deps.configs.runnable(a, redactor);
      await deps.recorder.flush();
      // Whole minutes: the current one (its newest tick so far) and the ones before it.
      const until = Math.floor(deps.clock.now() / 60_000) * 60_000 + 60_000;
      const types = [...new Set([...Object.keys(running.config.processes), ...Object.keys(draft.config.processes)])];
      const rows = await deps.readings.minutes(
        a.id,
        until - body.days * 86_400_000,
        until,
        body.days * 1440 * types.length,
        types,
      );
      if (rows.length === 0)
        return c.json(
          {
            error: `no readings stored yet for this app in the last ${body.days === 1 ? "day" : `${body.days} days`}: the engine stores one row a minute while it scales the app`,
          },
          409,
        );
      try {
        const result = await replayReadings(rows, running, {
          config: draft.config,
          plugins: draft.plugins.map((p) => p.plugin),
        });
        return c.json(result);
      } catch (e) {
        if (e instanceof NothingToReplay) return c.json({ error: e.message }, 409);
        if (!(e instanceof DynosaurError)) throw e;
        const scrub = (text: string) => draft.redactor.scrub(redactor.scrub(text));
        return c.json(
          {
            errors: problemsOf(e).map((p) => ({
              path: p.path,
              message: scrub(p.message),
              ...(p.hint ? { hint: scrub(p.hint) } : {}),
            })),
          },
          422,
        );
      }
    },
  );

  api.route(
    {
      method: "get",
      path: "/api/apps/{name}/status",
      summary:
        "What the engine sees now: formation, estimate, winner, each source's value, unit, health, last reading and error",
      tag: "apps",
      access: "user",
      params: appParams,
      responses: {
        200: {
          description: "status (from the last stored tick when another process scales the app)",
          schema: z.record(z.string(), z.unknown()),
        },
      },
    },
    async ({ c, params }) => {
      const a = await findApp(params.name);
      if (!a) return noApp(c, params.name);
      const local = deps.supervisor.status(a.name);
      if (local) return c.json({ name: a.name, scaled_here: true, problem: null, ...local });
      const reports = ((await deps.readings.latest([a.id])).get(a.id) ?? []) as TickReport[];
      return c.json({
        name: a.name,
        scaled_here: false,
        version: a.version,
        paused: a.paused,
        problem: deps.supervisor.problem(a.name),
        last_ticks: reports,
      });
    },
  );

  api.route(
    {
      method: "get",
      path: "/api/apps/{name}/ticks",
      summary: "Tick reports at full resolution: every one for the last hour, those where something happened for 48 h",
      tag: "history",
      access: "user",
      params: appParams,
      query: sinceQuery,
      responses: {
        200: {
          description: "ticks, oldest first",
          schema: z.object({ ticks: z.array(z.record(z.string(), z.unknown())) }),
        },
      },
    },
    async ({ c, params, query }) => {
      const a = await findApp(params.name);
      if (!a) return noApp(c, params.name);
      await deps.recorder.flush();
      const rows = await deps.readings.ticks(a.id, sinceOf(query.since), query.limit);
      return c.json({ ticks: rows.map((r) => ({ at: iso8601(r.time), ...(r.report as object) })) });
    },
  );

  api.route(
    {
      method: "get",
      path: "/api/apps/{name}/readings",
      summary:
        "One row per minute (each source's value and estimate, the estimate, the dynos), kept retention_days: what charts and replays read",
      tag: "history",
      access: "user",
      params: appParams,
      query: z.strictObject({
        since: iso.optional().describe("from this time (default: 24 h ago)"),
        until: iso.optional().describe("up to this time (default: now)"),
        limit: z.coerce.number().int().min(1).max(50_000).default(20_160),
      }),
      responses: {
        200: {
          description: "minutes, oldest first",
          schema: z.object({ readings: z.array(z.record(z.string(), z.unknown())) }),
        },
      },
    },
    async ({ c, params, query }) => {
      const a = await findApp(params.name);
      if (!a) return noApp(c, params.name);
      await deps.recorder.flush();
      const now = deps.clock.now();
      const rows = await deps.readings.minutes(
        a.id,
        query.since ? Date.parse(query.since) : now - 86_400_000,
        query.until ? Date.parse(query.until) : now + 60_000,
        query.limit,
      );
      return c.json({
        readings: rows.map((r) => ({
          minute: iso8601(r.minute),
          process_type: r.processType,
          dynos: r.dynos,
          estimate: r.estimate,
          sources: r.sources,
        })),
      });
    },
  );

  api.route(
    {
      method: "get",
      path: "/api/apps/{name}/events",
      summary:
        "Scale ups and downs (reason, winner), manual changes, refusals, outages and recoveries, config changes (kept 90 days)",
      tag: "history",
      access: "user",
      params: appParams,
      query: sinceQuery,
      responses: {
        200: {
          description: "events, oldest first",
          schema: z.object({
            events: z.array(
              z.object({
                at: z.string(),
                kind: z.string(),
                message: z.string(),
                data: z.record(z.string(), z.unknown()),
              }),
            ),
          }),
        },
      },
    },
    async ({ c, params, query }) => {
      const a = await findApp(params.name);
      if (!a) return noApp(c, params.name);
      await deps.recorder.flush();
      const rows = await deps.readings.events(a.id, query.since ? Date.parse(query.since) : 0, query.limit);
      return c.json({
        events: rows.map((e) => ({ at: iso8601(e.time), kind: e.kind, message: e.message, data: e.data })),
      });
    },
  );

  api.route(
    {
      method: "get",
      path: "/api/apps/{name}/stream",
      summary: "Live ticks as Server-Sent Events (`event: tick`, data: the tick report)",
      tag: "history",
      access: "user",
      params: appParams,
      responses: { 200: { description: "an event stream", contentType: "text/event-stream", schema: z.string() } },
    },
    async ({ c, params }) => {
      const a = await findApp(params.name);
      if (!a) return noApp(c, params.name);
      return streamSSE(c, async (stream) => {
        let last = deps.clock.now();
        let wake: () => void = () => {};
        const queue: TickReport[] = [];
        const off = deps.supervisor.onTick((name, report) => {
          if (name !== a.name) return;
          queue.push(report);
          wake();
        });
        stream.onAbort(() => {
          off();
          wake();
        });
        while (!stream.aborted) {
          // Scaled here: ticks arrive as they happen. Elsewhere: read what the scaling process stored.
          if (deps.supervisor.status(a.name) === null) {
            for (const r of await deps.readings.ticks(a.id, last, 100)) queue.push(r.report as TickReport);
          }
          for (const report of queue.splice(0)) {
            last = Math.max(last, report.time);
            await stream.writeSSE({ event: "tick", data: JSON.stringify({ at: iso8601(report.time), ...report }) });
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, 1000).unref();
          });
        }
      });
    },
  );

  for (const [action, paused] of [
    ["pause", true],
    ["resume", false],
  ] as const) {
    api.route(
      {
        method: "post",
        path: `/api/apps/{name}/${action}`,
        summary: paused
          ? "Pause scaling (the engine keeps reading and reporting, never changes the formation)"
          : "Resume scaling",
        tag: "apps",
        access: "user",
        params: appParams,
        responses: { 200: { description: "done", schema: z.object({ name: z.string(), paused: z.boolean() }) } },
      },
      async ({ c, params, principal }) => {
        const a = await findApp(params.name);
        if (!a) return noApp(c, params.name);
        const now = deps.clock.now();
        await deps.apps.setPaused(a.id, paused, now);
        await deps.readings.write({
          ticks: [],
          minutes: [],
          events: [
            {
              appId: a.id,
              time: now,
              kind: paused ? "paused" : "resumed",
              message: `${paused ? "paused" : "resumed"} by ${principal.name}`,
              data: { author: principal.name },
            },
          ],
        });
        await deps.supervisor.sync();
        return c.json({ name: a.name, paused });
      },
    );
  }

  api.route(
    {
      method: "delete",
      path: "/api/apps/{name}",
      summary: "Stop scaling the app and delete it with its versions and history",
      tag: "apps",
      access: "user",
      params: appParams,
      responses: {
        200: { description: "deleted", schema: z.object({ deleted: z.string() }) },
        404: { description: "no such app", schema: messageSchema },
      },
    },
    async ({ c, params }) => {
      const a = await findApp(params.name);
      if (!a) return noApp(c, params.name);
      await deps.apps.delete(a.id);
      await deps.supervisor.sync();
      deps.recorder.forget(a.id);
      return c.json({ deleted: a.name });
    },
  );

  api.route(
    {
      method: "get",
      path: "/api/schema",
      summary:
        "The JSON Schema of a config using these plugins (the config form is generated from it); secret fields are writeOnly",
      tag: "config",
      access: "user",
      query: z.strictObject({
        use: z
          .string()
          .max(1000)
          .optional()
          .describe("comma-separated `use:` entries, e.g. random,dynosaur-plugin-example"),
      }),
      responses: {
        200: { description: "JSON Schema", schema: z.record(z.string(), z.unknown()) },
        422: { description: "a plugin could not be loaded", schema: errorsSchema },
      },
    },
    async ({ c, query }) => {
      const specs = (query.use ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      try {
        const loaded = await deps.loader.load(
          specs,
          specs.map((_, i) => `use[${i}]`),
        );
        return c.json(
          markSecrets(
            configJsonSchema(loaded.map((p) => p.plugin)),
            loaded.map((p) => p.plugin.secrets ?? []),
          ),
        );
      } catch (e) {
        return c.json({ errors: [{ path: "use", message: (e as Error).message }] }, 422);
      }
    },
  );

  api.route(
    {
      method: "get",
      path: "/api/instances",
      summary: "Live server processes and the apps each one scales",
      tag: "server",
      access: "user",
      responses: {
        200: {
          description: "instances",
          schema: z.object({
            instances: z.array(
              z.object({
                id: z.string(),
                host: z.string(),
                pid: z.number(),
                started_at: z.string(),
                seen_at: z.string(),
                apps: z.array(z.string()),
              }),
            ),
          }),
        },
      },
    },
    async ({ c }) => {
      const rows = await deps.instances.live(deps.clock.now() - deps.instanceTtlMs);
      return c.json({
        instances: rows.map((r) => ({
          id: r.id,
          host: r.host,
          pid: r.pid,
          started_at: iso8601(r.startedAt),
          seen_at: iso8601(r.seenAt),
          apps: r.apps,
        })),
      });
    },
  );

  const tokenSchema = z.object({
    id: z.number(),
    name: z.string(),
    created_at: z.string(),
    last_used_at: z.string().nullable(),
  });
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
        : c.json({ error: `no token ${params.id}` }, 404),
  );

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

/** `If-Match: "3"` (or 3, or W/"3"); "invalid" when it names no version; undefined when absent. */
function parseIfMatch(header: string | undefined): number | undefined | "invalid" {
  if (header === undefined) return undefined;
  const m = /^\s*(?:W\/)?"?(\d+)"?\s*$/.exec(header);
  return m ? Number(m[1]) : "invalid";
}

/** The client's address: behind Heroku's router, the last X-Forwarded-For entry (the router adds it; a client cannot). */
function clientAddress(c: Parameters<typeof getConnInfo>[0], trustProxy: boolean): string {
  const forwarded = c.req.header("x-forwarded-for");
  // split() gives at least one entry: the last is the router's.
  if (forwarded && trustProxy) return (forwarded.split(",").at(-1) ?? "").trim();
  return getConnInfo(c).remote.address ?? "unknown";
}

/** Marks the secret options of the plugins' entries `writeOnly`, so a form never shows them. */
function markSecrets(schema: unknown, pluginSecrets: readonly (readonly string[])[]): unknown {
  const names = new Set(pluginSecrets.flat());
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (!node || typeof node !== "object") return node;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      if (k === "properties" && v && typeof v === "object") {
        out[k] = Object.fromEntries(
          Object.entries(v).map(([prop, s]) => [
            prop,
            (isSecretKey(prop) || names.has(prop)) && s && typeof s === "object"
              ? { ...(walk(s) as object), writeOnly: true }
              : walk(s),
          ]),
        );
      } else out[k] = walk(v);
    }
    return out;
  };
  return walk(schema);
}
