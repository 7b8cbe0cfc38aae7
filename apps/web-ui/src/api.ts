/*
 * The JSON API of dynosaur-web, as the pages use it: same origin, the session cookie, and the
 * session's CSRF token on every state change (the server refuses a change without it).
 */

export type Health = "ok" | "stale" | "outage";

export interface ProcessSummary {
  type: string;
  current: number | null;
  estimate: number | null;
  health: Health | null;
  winner: string | null;
}

export interface AppSummary {
  name: string;
  version: number;
  paused: boolean;
  dry_run: boolean | null;
  scaled_here: boolean;
  last_tick: string | null;
  reason: string | null;
  problem: string | null;
  processes: ProcessSummary[];
}

export interface SourceStatus {
  name: string;
  type: string;
  unit: string;
  value: number | null;
  estimate: number | null;
  health: Health;
  lastRetrieval: number | null;
  lastError: string | null;
}

export interface Session {
  user: string;
  admin: boolean;
  csrf_token: string | null;
}

/** An answer other than 2xx: the server's message, and its per-path errors when it gave them (422). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors: { path: string; message: string; hint?: string }[] = [],
  ) {
    super(message);
  }
}

let csrf: string | null = null;

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (method !== "GET" && csrf) headers["x-csrf-token"] = csrf;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin" });
  const json = (await res.json().catch(() => null)) as Record<string, unknown> | null;
  if (!res.ok) {
    const errors = Array.isArray(json?.errors) ? (json.errors as ApiError["errors"]) : [];
    const message = typeof json?.error === "string" ? json.error : errors.map((e) => `${e.path}: ${e.message}`).join("; ") || `HTTP ${res.status}`;
    throw new ApiError(res.status, message, errors);
  }
  return json as T;
}

/** The logged-in session, or null when nobody is (401). */
export async function session(): Promise<Session | null> {
  try {
    const s = await request<Session>("GET", "/api/session");
    csrf = s.csrf_token;
    return s;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return null;
    throw e;
  }
}

export async function login(username: string, password: string): Promise<Session> {
  const r = await request<{ user: string; admin: boolean; csrf_token: string }>("POST", "/api/login", { username, password });
  csrf = r.csrf_token;
  return r;
}

export async function logout(): Promise<void> {
  await request("POST", "/api/logout");
  csrf = null;
}

export const listApps = () => request<{ apps: AppSummary[] }>("GET", "/api/apps").then((r) => r.apps);

/** The sources of an app as the engine last saw them (live, or from the last stored tick). */
export async function appSources(name: string): Promise<SourceStatus[]> {
  const s = await request<{ sources?: SourceStatus[]; last_tick?: { sources?: SourceStatus[] } | null }>("GET", `/api/apps/${encodeURIComponent(name)}/status`);
  return s.sources ?? s.last_tick?.sources ?? [];
}
