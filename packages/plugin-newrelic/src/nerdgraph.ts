import { type ErrorCode, type PluginContext, PluginError } from "@dynosaur/core";
import { quote } from "./nrql.js";

/**
 * The one GraphQL operation we send. Account and query travel as variables, never pasted
 * into the document, so no app name or custom query can change the GraphQL itself.
 */
export const NRQL_DOCUMENT =
  "query($accountId: Int!, $nrql: Nrql!) { actor { account(id: $accountId) { nrql(query: $nrql) { results } } } }";

export interface NerdGraphClientOptions {
  /** Every request goes through it (core's `ctx.http`), never a global agent. */
  http: PluginContext["http"];
  endpoint: URL;
  apiKey: string;
  accountId: number;
}

/** One entry of a GraphQL `errors` array as NerdGraph fills it. */
interface NerdGraphError {
  message?: unknown;
  path?: unknown;
  extensions?: { errorClass?: unknown; error_code?: unknown; code?: unknown };
}

export interface NerdGraphClient {
  /** Runs `nrql` in the account and returns NerdGraph's `results` array. Throws `PluginError`. */
  nrql(nrql: string, signal: AbortSignal): Promise<unknown>;
}

export function createNerdGraphClient(options: NerdGraphClientOptions): NerdGraphClient {
  const { http, endpoint, apiKey, accountId } = options;
  // Credentials embedded in a proxy URL must not reach a message either.
  const where = `${endpoint.origin}${endpoint.pathname}`;
  const redact = (text: string) => text.split(apiKey).join("[redacted]");
  const fail = (message: string, extra: { hint?: string; cause?: unknown; code?: ErrorCode } = {}) =>
    new PluginError(redact(message), extra);

  async function post(body: string, signal: AbortSignal): Promise<{ status: number; text: string }> {
    try {
      const response = await http.request({
        origin: endpoint.origin,
        path: `${endpoint.pathname}${endpoint.search}`,
        method: "POST",
        headers: {
          "api-key": apiKey,
          "content-type": "application/json",
          accept: "application/json",
          "user-agent": "dynosaur-plugin-newrelic",
        },
        body,
        signal,
      });
      return { status: response.statusCode, text: await response.body.text() };
    } catch (e) {
      if (signal.aborted) {
        throw fail(`New Relic did not answer at ${where} before the poll was cancelled (timeout or shutdown)`, {
          code: "DYNO_PLUGIN_TIMEOUT",
          hint: "the last good reading stands; if this persists, check New Relic's status or raise the source's `timeout`",
        });
      }
      throw fail(`could not reach New Relic at ${where}: ${describeTransportError(e)}`, {
        hint: "check the network, `region` and `endpoint`; the last good reading stands",
      });
    }
  }

  function graphQLFailure(errors: NerdGraphError[], nrql: string): PluginError {
    const has = (test: (e: NerdGraphError, cls: string, path: string[]) => boolean) =>
      errors.find((e) =>
        test(e, String(e.extensions?.errorClass ?? ""), Array.isArray(e.path) ? e.path.map(String) : []),
      );
    const describe = (e: NerdGraphError) => {
      const cls = e.extensions?.errorClass ?? e.extensions?.error_code ?? e.extensions?.code;
      const message = truncate(String(e.message ?? "no message"));
      return typeof cls === "string" && cls && !message.includes(cls) ? `${message} (${cls})` : message;
    };

    const badKey = has(
      (e, cls) => e.extensions?.error_code === "BAD_API_KEY" || cls === "UNAUTHORIZED" || cls === "UNAUTHENTICATED",
    );
    if (badKey) return badKeyError(describe(badKey));

    const timeout = has((_, cls) => cls === "TIMEOUT");
    if (timeout) {
      return fail(`New Relic's NRQL query timed out: ${describe(timeout)}`, {
        hint: "a transient NRDB slowdown: the next poll retries; a custom `nrql` may need a shorter window",
      });
    }
    const account = has(
      (_, cls, path) =>
        cls === "FORBIDDEN" || cls === "NOT_FOUND" || cls === "ACCESS_DENIED" || path.at(-1) === "account",
    );
    if (account) {
      return fail(
        `New Relic account ${accountId} is unknown or not accessible with this API key: ${describe(account)}`,
        {
          hint: "check account_id (the number in New Relic's account picker / Administration > Access management > Accounts) and that the key's user can see that account",
        },
      );
    }
    const query = has((e, _, path) => path.includes("nrql") || /\bnrql\b/i.test(String(e.message)));
    if (query) {
      return fail(`New Relic rejected the NRQL query ${quote(nrql)}: ${describe(query)}`, {
        hint: "try the query in New Relic's query builder; with app_name, check the name's spelling",
      });
    }
    return fail(`NerdGraph refused the request: ${errors.map(describe).join("; ")}`);
  }

  function badKeyError(detail: string): PluginError {
    return fail(`New Relic rejected the API key: ${detail}`, {
      hint: "api_key must be a New Relic User key (starts with NRAK-), not a license/ingest key or a REST API key; create one under API keys in New Relic",
    });
  }

  return {
    async nrql(nrql, signal) {
      const { status, text } = await post(
        JSON.stringify({ query: NRQL_DOCUMENT, variables: { accountId, nrql } }),
        signal,
      );
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      const body = isRecord(json) ? json : {};
      const errors = Array.isArray(body.errors) ? (body.errors.filter(isRecord) as NerdGraphError[]) : [];

      if (status === 401 || status === 403) {
        throw badKeyError(
          errors.length > 0 ? errors.map((e) => truncate(String(e.message))).join("; ") : `HTTP ${status}`,
        );
      }
      if (status === 429) {
        throw fail(`New Relic rate-limited the NRQL query (HTTP 429)`, {
          hint: "raise the source's `interval`; NRQL queries count against the account's query limits",
        });
      }
      if (status >= 500) {
        throw fail(
          `New Relic answered HTTP ${status} at ${where}: ${errors.length > 0 ? errors.map((e) => truncate(String(e.message))).join("; ") : "server error"}`,
          {
            hint: "a New Relic outage or hiccup: the last good reading stands and the next poll retries",
          },
        );
      }
      if (json === undefined) {
        throw fail(`New Relic answered HTTP ${status} at ${where} with a body that is not JSON: ${truncate(text)}`, {
          hint: "check `endpoint` (it must be a NerdGraph /graphql URL)",
        });
      }
      if (errors.length > 0) throw graphQLFailure(errors, nrql);
      if (status !== 200) throw fail(`New Relic answered HTTP ${status} at ${where}: ${truncate(text)}`);

      const results = dig(body, ["data", "actor", "account", "nrql", "results"]);
      if (results === undefined || results === null) {
        throw fail(`New Relic answered without NRQL results for ${quote(nrql)}`, {
          hint: "check account_id and that the API key's user can query that account",
        });
      }
      return results;
    },
  };
}

function dig(value: unknown, path: string[]): unknown {
  let node = value;
  for (const key of path) {
    if (!isRecord(node)) return undefined;
    node = node[key];
  }
  return node;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function truncate(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max)}...` : text;
}

function describeTransportError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const code = (e as { code?: unknown }).code;
  return typeof code === "string" && !e.message.includes(code) ? `${e.message} (${code})` : e.message;
}
