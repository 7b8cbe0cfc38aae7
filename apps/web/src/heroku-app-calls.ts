/*
 * The Heroku Platform API calls the server makes besides the engine's formation calls:
 * subscribing this server to an app's webhook (`POST /apps/{app}/webhooks`, when asked),
 * reading whether the app has preboot on (`GET /apps/{app}/features/preboot`, once per release
 * a webhook tells) and adding the app's log drain (`GET`, then `POST /apps/{app}/log-drains`,
 * when asked). All use the app's own key and API URL from its config, count against the key's
 * API budget, and never put the key in what they throw.
 */
import type { DynosaurConfig } from "@dynosaur/core";
import { DynosaurError, inputError, Redactor, redact } from "@dynosaur/core";
import type { ApiBudgets } from "@dynosaur/host";
import { type Dispatcher, request } from "undici";
import type { ConfigService } from "./configs.js";
import type { DrainHeroku } from "./drains.js";
import type { WebhookHeroku } from "./heroku-webhooks.js";
import type { AppStore } from "./store/apps.js";

/** What a call needs from an app's config. */
export interface HerokuAccess {
  app: string;
  apiKey: string;
  baseUrl: string;
  timeoutMs: number;
  /** Told of each request and Heroku's `RateLimit-Remaining` (the key's API budget counts it). */
  spent?: (remaining: number | null) => void;
}

/** The app's Heroku access, or null for a dry run (nothing to call). */
export function herokuAccess(config: DynosaurConfig): HerokuAccess | null {
  const s = config.scaler;
  if (s.dry_run || !s.heroku_app_name || !s.heroku_api_key) return null;
  return {
    app: s.heroku_app_name,
    apiKey: s.heroku_api_key,
    baseUrl: (s.heroku_api_url ?? "https://api.heroku.com").replace(/\/+$/, ""),
    timeoutMs: s.heroku_timeout * 1000,
  };
}

async function call(
  access: HerokuAccess,
  http: Dispatcher,
  userAgent: string,
  method: "GET" | "POST",
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const res = await request(`${access.baseUrl}/apps/${encodeURIComponent(access.app)}${path}`, {
    method,
    dispatcher: http,
    headers: {
      accept: "application/vnd.heroku+json; version=3",
      authorization: `Bearer ${access.apiKey}`,
      "user-agent": userAgent,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(access.timeoutMs),
  }).catch((e: unknown) => {
    // Not reached (refused, timed out): said without the request, whose headers hold the key.
    throw new DynosaurError(
      "HEROKU_UNAVAILABLE",
      `Heroku could not be reached for app ${access.app}: ${redact((e as Error).message, [access.apiKey])}`,
    );
  });
  const remaining = Number(res.headers["ratelimit-remaining"]);
  access.spent?.(Number.isFinite(remaining) ? remaining : null);
  const text = await res.body.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // Not JSON: described by its status.
  }
  return { status: res.statusCode, json };
}

function refused(access: HerokuAccess, doing: string, status: number, json: unknown): DynosaurError {
  const message = redact(String((json as { message?: unknown } | null)?.message ?? `HTTP ${status}`), [access.apiKey]);
  const code =
    status === 401
      ? "HEROKU_UNAUTHORIZED"
      : status === 403
        ? "HEROKU_FORBIDDEN"
        : status === 404
          ? "HEROKU_NOT_FOUND"
          : status === 422
            ? "HEROKU_UNPROCESSABLE"
            : status === 429
              ? "HEROKU_RATE_LIMITED"
              : "HEROKU_UNAVAILABLE";
  return new DynosaurError(code, `Heroku refused ${doing} of app ${access.app}: ${message}`);
}

/** Whether the app has Heroku's preboot feature on. */
export async function prebootEnabled(access: HerokuAccess, http: Dispatcher, userAgent: string): Promise<boolean> {
  const { status, json } = await call(access, http, userAgent, "GET", "/features/preboot");
  if (status !== 200) throw refused(access, "reading the preboot feature", status, json);
  return (json as { enabled?: unknown }).enabled === true;
}

/** Subscribes `url` to the app's formation, release and dyno events, signed with `secret`; returns the webhook's id. */
export async function subscribeWebhook(
  access: HerokuAccess,
  http: Dispatcher,
  userAgent: string,
  hook: { url: string; secret: string; include: readonly string[] },
): Promise<string> {
  const { status, json } = await call(access, http, userAgent, "POST", "/webhooks", {
    include: hook.include,
    level: "notify",
    url: hook.url,
    secret: hook.secret,
  });
  if (status !== 201 && status !== 200) throw refused(access, "subscribing the webhook", status, json);
  return String((json as { id?: unknown }).id ?? "");
}

/** The URLs of the app's log drains (`GET /apps/{app}/log-drains`). */
export async function logDrainUrls(access: HerokuAccess, http: Dispatcher, userAgent: string): Promise<string[]> {
  const { status, json } = await call(access, http, userAgent, "GET", "/log-drains");
  if (status !== 200 || !Array.isArray(json)) throw refused(access, "listing the log drains", status, json);
  return json.map((d) => String((d as { url?: unknown } | null)?.url ?? ""));
}

/** Adds `url` as a log drain of the app (`POST /apps/{app}/log-drains`); returns the drain's id. */
export async function addLogDrain(
  access: HerokuAccess,
  http: Dispatcher,
  userAgent: string,
  url: string,
): Promise<string> {
  const { status, json } = await call(access, http, userAgent, "POST", "/log-drains", { url });
  if (status !== 201 && status !== 200) throw refused(access, "adding the log drain", status, json);
  return String((json as { id?: unknown } | null)?.id ?? "");
}

/** The webhook and drain features' Heroku calls, each with the app's current config (its key resolved). */
export function herokuAppCalls(deps: {
  apps: AppStore;
  configs: ConfigService;
  http: Dispatcher;
  userAgent: string;
  /** The process's API budgets: these calls spend the key's budget as the engines' do. */
  budgets?: ApiBudgets;
}): WebhookHeroku & DrainHeroku {
  const configOf = async (app: { name: string }) => {
    const row = await deps.apps.get(app.name);
    if (!row) throw new DynosaurError("DYNO_APP_NOT_FOUND", `no app named ${app.name}`);
    return (await deps.configs.runnable(row, new Redactor())).config;
  };
  const budgeted = (config: DynosaurConfig): HerokuAccess | null => {
    const access = herokuAccess(config);
    if (!access || !deps.budgets) return access;
    const { budgets } = deps;
    return { ...access, spent: (remaining) => budgets.spentOutside(access.apiKey, remaining) };
  };
  /** The access to call with; a dry run (or no app name or key) is refused at the config path that says so. */
  const accessOf = async (app: { name: string }, instead: string) => {
    const config = await configOf(app);
    const access = budgeted(config);
    if (!access) {
      const s = config.scaler;
      const [path, why] = s.dry_run
        ? ["scaler.dry_run", "is a dry run"]
        : !s.heroku_app_name
          ? ["scaler.heroku_app_name", "has no heroku_app_name"]
          : ["scaler.heroku_api_key", "has no heroku_api_key"];
      throw inputError("DYNO_USAGE", `app ${app.name} ${why}: this server has no Heroku app and key to call with`, {
        path,
        hint: `run ${instead} instead`,
      });
    }
    return access;
  };
  return {
    appName: async (app) => (await configOf(app)).scaler.heroku_app_name ?? null,
    async preboot(app) {
      const access = budgeted(await configOf(app));
      return access ? prebootEnabled(access, deps.http, deps.userAgent) : null;
    },
    async subscribe(app, hook) {
      await subscribeWebhook(await accessOf(app, "the `heroku webhooks:add` line"), deps.http, deps.userAgent, hook);
    },
    async addDrain(app, url) {
      const access = await accessOf(app, "the `heroku drains:add` line");
      // Listed first: a second POST of the same URL is a 422 Heroku counts against the budget all the same.
      const listed = await logDrainUrls(access, deps.http, deps.userAgent);
      if (listed.includes(url)) return { added: false, herokuApp: access.app };
      await addLogDrain(access, deps.http, deps.userAgent, url);
      return { added: true, herokuApp: access.app };
    },
  };
}
