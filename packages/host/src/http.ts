import { createRequire } from "node:module";
import type { Dispatcher } from "undici";

const require = createRequire(import.meta.url);

/**
 * The dispatcher every HTTP call goes through: keep-alive, and HTTPS_PROXY / HTTP_PROXY /
 * NO_PROXY honoured when set, as a corporate network may require. undici is loaded here,
 * synchronously and only when a dispatcher is first needed: it is most of core's start-up
 * cost, and a dry run with a plugin that calls no API never needs it.
 */
export function createDispatcher(env: Record<string, string | undefined>): Dispatcher {
  const { Agent, EnvHttpProxyAgent } = require("undici") as typeof import("undici");
  const proxied = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"].some((k) => env[k]);
  return proxied ? new EnvHttpProxyAgent() : new Agent({ keepAliveTimeout: 30_000 });
}
