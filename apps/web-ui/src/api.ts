/*
 * The JSON API of dynosaur-web, as the pages use it: same origin, the session cookie, and the
 * session's CSRF token on every state change (the server refuses a change without it).
 */
import type {
  ApiBudgetSummary,
  ApiToken,
  AppEvent,
  AppRecent,
  AppStatus,
  AppSummary,
  DrainChart,
  MinuteReading,
  PluginType,
  Problem,
  ProcessSummary,
  ReplayResult,
  ReplayScore,
  Session,
  SourceHealth,
  SourceStatus,
  StoredConfig,
  Tick,
} from "@dynosaur/web";

// The answers' types are the server's own (type-only: nothing of the server is bundled).
export type {
  ApiBudgetSummary,
  ApiToken,
  AppEvent,
  AppRecent,
  AppSummary,
  DrainChart,
  MinuteReading,
  PluginType,
  ProcessSummary,
  Session,
  SourceStatus,
  StoredConfig,
  /** A tick as the event stream sends it: the tick report with its time as ISO text. */
  Tick,
};
export type Health = SourceHealth;

/** An answer other than 2xx: the server's message, and its per-path errors when it gave them (422). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors: Problem[] = [],
    /** The answer's JSON, when it had one. */
    readonly body: Record<string, unknown> | null = null,
  ) {
    super(message);
  }
}

let csrf: string | null = null;

async function request<T>(
  method: string,
  path: string,
  body?: unknown,
  extra: Record<string, string> = {},
): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json", ...extra };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (method !== "GET" && csrf) headers["x-csrf-token"] = csrf;
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  const json = (await res.json().catch(() => null)) as Record<string, unknown> | null;
  if (!res.ok) {
    const errors = Array.isArray(json?.errors) ? (json.errors as ApiError["errors"]) : [];
    const message =
      typeof json?.error === "string"
        ? json.error
        : errors.map((e) => `${e.path}: ${e.message}`).join("; ") || `HTTP ${res.status}`;
    throw new ApiError(res.status, message, errors, json);
  }
  return json as T;
}

/**
 * The logged-in session, or null when nobody is (401); then `setupNeeded` says the server has
 * no user yet (it was never started with DYNOSAUR_ADMIN_PASSWORD).
 */
export async function session(): Promise<{ session: Session | null; setupNeeded: boolean }> {
  try {
    const s = await request<Session>("GET", "/api/session");
    csrf = s.csrf_token;
    return { session: s, setupNeeded: false };
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return { session: null, setupNeeded: e.body?.setup_needed === true };
    throw e;
  }
}

export async function login(username: string, password: string): Promise<Session> {
  const r = await request<{ user: string; admin: boolean; csrf_token: string }>("POST", "/api/login", {
    username,
    password,
  });
  csrf = r.csrf_token;
  return r;
}

export async function logout(): Promise<void> {
  await request("POST", "/api/logout");
  csrf = null;
}

/** Ends every session of this user, on every device (e.g. after a lost laptop). */
export async function logoutEverywhere(): Promise<void> {
  await request("POST", "/api/logout/everywhere");
  csrf = null;
}

/** A page of apps as the server orders them (erroring, paused, then scaling; by name within). */
export interface AppPageQuery {
  limit: number;
  cursor?: string | undefined;
  /** Part of the name. */
  q?: string | undefined;
}

const pageQuery = (query: AppPageQuery) => {
  const params = new URLSearchParams({ limit: String(query.limit) });
  if (query.cursor) params.set("cursor", query.cursor);
  if (query.q) params.set("q", query.q);
  return params.toString();
};

/** What the overview shows beside GET /api/apps, for the same page: each app's last 24 h of dynos and its last event. */
export const overview = (query: AppPageQuery) =>
  request<{ from: string; step_seconds: number; apps: Record<string, AppRecent>; api_budgets: ApiBudgetSummary[] }>(
    "GET",
    `/api/overview?${pageQuery(query)}`,
  );

export const listApps = (query: AppPageQuery) =>
  request<{ apps: AppSummary[]; next_cursor: string | null; total: number }>("GET", `/api/apps?${pageQuery(query)}`);

/** Whether an app is paused, and its sources as the engine last saw them (live, or from the last stored ticks). */
/** What Heroku's webhook told of an app, when this server scales it: a hold on changes, boot times measured. */
export interface WebhookView {
  hold: { reason: string; until: number } | null;
  /** The config's `boot_seconds`. */
  bootSeconds: number;
  /** Per process type, the boot time measured from its dynos (`starting` → `up`). */
  measured: Record<string, { last_seconds: number; median_seconds: number; samples: number }>;
}

export async function appStatus(
  name: string,
): Promise<{ paused: boolean; sources: SourceStatus[]; webhook: WebhookView | null }> {
  const s = await request<AppStatus>("GET", `/api/apps/${encodeURIComponent(name)}/status`);
  return {
    paused: s.paused,
    sources: s.scaled_here ? s.sources : s.last_ticks.flatMap((t) => t.sources),
    webhook: s.scaled_here ? { hold: s.hold, bootSeconds: s.bootSeconds, measured: s.measured_boot } : null,
  };
}

const app = (name: string) => `/api/apps/${encodeURIComponent(name)}`;

export const readings = (name: string, since: Date) =>
  request<{ readings: MinuteReading[] }>(
    "GET",
    `${app(name)}/readings?since=${encodeURIComponent(since.toISOString())}`,
  ).then((r) => r.readings);

export const events = (name: string, since: Date) =>
  request<{ events: AppEvent[] }>("GET", `${app(name)}/events?since=${encodeURIComponent(since.toISOString())}`).then(
    (r) => r.events,
  );

export const setPaused = (name: string, paused: boolean) =>
  request("POST", `${app(name)}/${paused ? "pause" : "resume"}`);

/** Live ticks over Server-Sent Events; returns the function that stops listening. */
export function streamTicks(name: string, onTick: (t: Tick) => void): () => void {
  const source = new EventSource(`${app(name)}/stream`);
  source.addEventListener("tick", (e) => onTick(JSON.parse((e as MessageEvent<string>).data) as Tick));
  return () => source.close();
}

export const getConfig = (name: string) => request<StoredConfig>("GET", `${app(name)}/config`);

/** The JSON Schema of a config using these plugins; secret fields are `writeOnly`. */
export const configSchema = (use: string[]) =>
  request<Record<string, unknown>>("GET", `/api/schema?use=${encodeURIComponent(use.join(","))}`);

/** Every plugin type a config can use on the server (first-party ones installed, and those of `use`). */
export const pluginTypes = (use: string[]) =>
  request<{ plugins: PluginType[] }>("GET", `/api/plugins?use=${encodeURIComponent(use.join(","))}`).then(
    (r) => r.plugins,
  );

/** Saves the next version; refused (409) when `version` is no longer the current one. */
export const saveConfig = (name: string, config: unknown, version: number, comment: string) =>
  request<{ version: number }>(
    "PUT",
    `${app(name)}/config${comment ? `?comment=${encodeURIComponent(comment)}` : ""}`,
    config,
    { "if-match": `"${version}"` },
  );

/** POST /api/apps/{name}/replay's answer, as the server types it. */
export type Replay = ReplayResult;
export type { ReplayScore };

/** Replays the stored readings of the last `days` with the draft and the running config; nothing is saved. */
export const replay = (name: string, config: unknown, days: number) =>
  request<Replay>("POST", `${app(name)}/replay`, { config, days });

export type Version = Omit<StoredConfig, "name">;

export const versions = (name: string) =>
  request<{ current: number; versions: Version[] }>("GET", `${app(name)}/config/versions`);

/** Makes an older version current again, saved as a new version. */
export const rollback = (name: string, version: number) =>
  request<{ version: number }>("POST", `${app(name)}/config/rollback`, { version });

/**
 * Creates an app: refused (409) when the name is taken, so adding never replaces another app's
 * config (If-Match 0: only while the app has no version).
 */
export const createApp = (name: string, config: unknown) =>
  request<{ name: string; version: number; created: boolean }>("PUT", `${app(name)}/config`, config, {
    "if-match": '"0"',
  });

export const tokens = () => request<{ tokens: ApiToken[] }>("GET", "/api/tokens").then((r) => r.tokens);
/** The token's value is in this answer only: the server keeps its hash. */
/** A token works until revoked, or for `expiresInDays` days. */
export const createToken = (name: string, expiresInDays?: number) =>
  request<ApiToken & { token: string }>("POST", "/api/tokens", {
    name,
    ...(expiresInDays === undefined ? {} : { expires_in_days: expiresInDays }),
  });
export const revokeToken = (id: number) => request("DELETE", `/api/tokens/${id}`);

/** The app page's drain panel: the drain's minutes, its H12/H13/H14 bursts, and whether it went silent. */
export const drainChart = (name: string, since: Date) =>
  request<DrainChart>("GET", `${app(name)}/drain/chart?since=${encodeURIComponent(since.toISOString())}`);

/** The app's drain URL (made on first ask) and the `heroku drains:add` line that adds it (admins). */
export const drainInfo = (name: string) =>
  request<{ url: string; command: string; heroku_app_name: string }>("GET", `${app(name)}/drain`);

/** This server adds the drain to the Heroku app itself, with the app's key (admins). */
export const registerDrain = (name: string) =>
  request<{ result: "registered" | "already_registered"; command: string }>("POST", `${app(name)}/drain/register`);
