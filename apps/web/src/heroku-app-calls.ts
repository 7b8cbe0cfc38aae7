/*
 * The two Heroku Platform API calls the webhook feature makes besides the engine's formation
 * calls: subscribing this server to an app's webhook (`POST /apps/{app}/webhooks`, when asked)
 * and reading whether the app has preboot on (`GET /apps/{app}/features/preboot`, once per
 * release a webhook tells). Both use the app's own key and API URL from its config; the key
 * never appears in what they throw.
 */
import type { DynosaurConfig } from "@dynosaur/core";
import { DynosaurError, Redactor, redact } from "@dynosaur/core";
import type { ApiBudgets } from "@dynosaur/host";
import { type Dispatcher, request } from "undici";
import type { ConfigService } from "./configs.js";
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

/** The webhook feature's Heroku calls, each with the app's current config (its key resolved). */
export function herokuAppCalls(deps: {
  apps: AppStore;
  configs: ConfigService;
  http: Dispatcher;
  userAgent: string;
  /** The process's API budgets: these calls spend the key's budget as the engines' do. */
  budgets?: ApiBudgets;
}): WebhookHeroku {
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
  const accessOf = async (app: { name: string }) => {
    const access = budgeted(await configOf(app));
    if (!access)
      throw new DynosaurError("DYNO_USAGE", `app ${app.name} is a dry run: it has no Heroku app and key to call with`, {
        hint: "run the `heroku webhooks:add` line instead",
      });
    return access;
  };
  return {
    appName: async (app) => (await configOf(app)).scaler.heroku_app_name ?? null,
    async preboot(app) {
      const access = budgeted(await configOf(app));
      return access ? prebootEnabled(access, deps.http, deps.userAgent) : null;
    },
    async subscribe(app, hook) {
      await subscribeWebhook(await accessOf(app), deps.http, deps.userAgent, hook);
    },
  };
}
