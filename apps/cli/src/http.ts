import { Agent, type Dispatcher, EnvHttpProxyAgent } from "undici";

/**
 * The dispatcher every HTTP call of the CLI goes through. It honours HTTPS_PROXY,
 * HTTP_PROXY and NO_PROXY, as a corporate network may require.
 */
export function createHttp(env: Record<string, string | undefined>): Dispatcher {
  const proxied = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"].some((k) => env[k]);
  return proxied ? new EnvHttpProxyAgent() : new Agent({ keepAliveTimeout: 30_000 });
}
