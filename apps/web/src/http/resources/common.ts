import type { Clock } from "@dynosaur/core";
import type { PluginLoader } from "@dynosaur/host";
import type { Context } from "hono";
import { z } from "zod";
import { APP_NAME, type ConfigService } from "../../configs.js";
import type { Drains } from "../../drains.js";
import type { HerokuWebhooks } from "../../heroku-webhooks.js";
import type { Recorder } from "../../recorder.js";
import type { AppDirectory } from "../../store/app-directory.js";
import type { AppRow, AppStore } from "../../store/apps.js";
import type { InstanceStore } from "../../store/instances.js";
import type { ReadingStore } from "../../store/readings.js";
import type { Supervisor } from "../../supervisor.js";
import { fail } from "../answers.js";
import type { AuthDeps } from "../auth.js";
import type { Api } from "../routes.js";

/*
 * What the resource modules share: the server's parts they answer from, the path and query
 * parameters several of them take, and finding the app a path names.
 */

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
  /** Largest body accepted, in bytes. */
  bodyLimit: number;
  version: string;
  /** Behind a proxy that sets X-Forwarded-For (DYNOSAUR_TRUST_PROXY; by default when $DYNO is set): take the client's address from it. */
  trustProxy: boolean;
  /** The built pages (apps/web-ui/dist); none are served when absent or not built. */
  pagesDir?: string;
  /** Apps' log drains (GET /api/apps/{name}/drain); deliveries are served ahead of the API. */
  drains?: Drains;
  /** Apps' Heroku webhooks (/api/apps/{name}/heroku-webhook); deliveries are served ahead of the API. */
  webhooks?: HerokuWebhooks;
}

/** One resource's routes: a module declares them on `api`, answering from `deps`. */
export type Resource = (api: Api, deps: ApiDeps) => void;

export const appParams = z.strictObject({
  name: z.string().regex(APP_NAME, "app names are lower-case letters, digits, '.', '_' and '-', at most 63"),
});

/** `?use=a,b`: the `use:` entries a query names, for the routes that load plugins (at most 1,000 characters). */
export const useQuery = (example: string) =>
  z.string().max(1000).optional().describe(`comma-separated \`use:\` entries, e.g. ${example}`);

/** The entries of a `?use=` query, in order, blanks dropped. */
export const useEntries = (use: string | undefined): string[] =>
  (use ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

export const iso = z.iso.datetime({ offset: true }).describe("an ISO 8601 time, e.g. 2026-01-01T00:00:00Z");

export const iso8601 = (ms: number) => new Date(ms).toISOString();

/** The app `name` names, or the 404 answer saying there is none. */
export async function appOr404(deps: ApiDeps, c: Context, name: string): Promise<AppRow | Response> {
  return (await deps.apps.get(name)) ?? fail(c, 404, "DYNO_APP_NOT_FOUND", `no app named ${name}`);
}

/**
 * Where this server is reached from outside, for URLs it gives out (drains, webhooks):
 * DYNOSAUR_PUBLIC_URL, else the request's own host (and, behind a trusted proxy, its scheme).
 */
export function publicOrigin(c: Context, publicUrl: string | undefined, trustProxy: boolean | undefined): string {
  if (publicUrl) return publicUrl.replace(/\/+$/, "");
  const url = new URL(c.req.url);
  const proto = trustProxy
    ? (c.req.header("x-forwarded-proto")?.split(",")[0]?.trim() ?? "https")
    : url.protocol.slice(0, -1);
  const host = c.req.header("host") ?? url.host;
  return `${proto}://${host}`;
}

/**
 * The address this server has Heroku send an app's logs or events to when it registers a
 * drain or webhook itself, with the app's stored key: DYNOSAUR_PUBLIC_URL and nothing else.
 * A request's Host header must never choose that destination (it would send the app's logs
 * to whoever the caller names); without the setting, the caller is told to set it or to run
 * the `heroku` line, whose URL they can read for themselves.
 */
export function registrationOrigin(
  c: Context,
  publicUrl: string | undefined,
  extra: Record<string, unknown> = {},
): string | Response {
  if (publicUrl) return publicUrl.replace(/\/+$/, "");
  return fail(
    c,
    409,
    "DYNO_PUBLIC_URL_MISSING",
    "this server registers only its own address with Heroku, and does not know it: DYNOSAUR_PUBLIC_URL is not set",
    extra,
  );
}
