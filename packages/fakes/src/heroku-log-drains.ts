/**
 * The Heroku fake's app log drains: `GET/POST /apps/{app}/log-drains` (list, create), in the
 * shape of Heroku's `log-drain` schema (id, url, token, addon, app, created_at, updated_at).
 * A create is refused as Heroku refuses it: no url, a url that is not syslog(+tls) or
 * http(s), or one the app already drains to, each a 422 `invalid_params`.
 */
import { randomUUID } from "node:crypto";

export interface HerokuFakeLogDrain {
  addon: { id: string; name: string; app: { id: string; name: string } } | null;
  app: { id: string; name: string } | null;
  created_at: string;
  id: string;
  token: string;
  updated_at: string;
  url: string;
}

interface Answer {
  status: number;
  body: unknown;
}

const DRAIN_SCHEMES = new Set(["https:", "http:", "syslog:", "syslog+tls:"]);

export class FakeLogDrains {
  readonly #drains = new Map<string, HerokuFakeLogDrain[]>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** `POST /apps/{app}/log-drains`. */
  create(app: { id: string; name: string }, body: unknown): Answer {
    if (typeof body !== "object" || body === null || Array.isArray(body))
      return invalid("Missing required params: url.");
    const url = (body as { url?: unknown }).url;
    if (url === undefined || url === null) return invalid("Missing required params: url.");
    if (typeof url !== "string" || !isDrainUrl(url)) return invalid("Url is invalid.");
    const list = this.#drains.get(app.name) ?? [];
    if (list.some((d) => d.url === url)) return invalid("Url has already been taken.");
    const at = isoSeconds(this.#now());
    const drain: HerokuFakeLogDrain = {
      addon: null,
      app: { id: app.id, name: app.name },
      created_at: at,
      id: randomUUID(),
      token: `d.${randomUUID()}`,
      updated_at: at,
      url,
    };
    this.#drains.set(app.name, [...list, drain]);
    return { status: 201, body: drain };
  }

  /** `GET /apps/{app}/log-drains`. */
  list(app: string): HerokuFakeLogDrain[] {
    return (this.#drains.get(app) ?? []).map((d) => structuredClone(d));
  }
}

function invalid(message: string): Answer {
  return { status: 422, body: { id: "invalid_params", message } };
}

function isDrainUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return DRAIN_SCHEMES.has(u.protocol) && u.hostname !== "";
  } catch {
    return false;
  }
}

/** Heroku's timestamps have whole seconds. */
function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}
