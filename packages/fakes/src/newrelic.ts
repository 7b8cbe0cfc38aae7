/**
 * A loopback fake of New Relic's NerdGraph (`POST /graphql`) that answers the one GraphQL
 * operation Dynosaur sends: an NRQL query through `actor.account(id).nrql(query).results`.
 *
 * It checks what NerdGraph checks — the `API-Key` header (a wrong or missing key gets
 * NerdGraph's `BAD_API_KEY` answer, with HTTP 200 as the real one sends it), the JSON
 * content type, the GraphQL document and the types of its variables, the account — and
 * answers in NerdGraph's shapes: `data.actor.account.nrql.results` on success, an
 * `errors[]` array (`message`, `path`, `extensions.errorClass` / `extensions.error_code`)
 * otherwise, often next to partial `data`.
 *
 * It evaluates a tiny subset of NRQL: the throughput query (`rate(count(*), 1 minute)` of
 * web transactions of one app by `appName` or `appId`) and the "has this app reported
 * lately" check (`count(*)` over a week). Like NRDB, a `count` over events that do not
 * exist is 0, not empty — so a query for an app the fake does not know returns 0. Any
 * other query must be registered verbatim in `queries`; an unknown one is answered as an
 * NRQL syntax error.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One APM application the fake knows. */
export interface FakeNewRelicApp {
  /** `appName` of its Transaction events. */
  name: string;
  /** `appId` of its Transaction events. */
  id: number;
  /** Web transactions per minute the throughput query returns for this app. */
  rpm: number;
  /**
   * Transactions of any type in the last week (what the "has reported" check counts).
   * @default 10_000 when `rpm` > 0, else 0
   */
  transactionsLastWeek?: number;
}

export interface NerdGraphFakeOptions {
  /** The one User key accepted in the `API-Key` header. */
  apiKey: string;
  /** The one account id the key can query. */
  accountId: number;
  /** APM apps reporting to that account. */
  apps?: FakeNewRelicApp[];
  /** Exact NRQL strings and the `results` array each returns, for custom queries. */
  queries?: Record<string, unknown[]>;
}

/** How the next requests are answered, for failure tests. */
export type NerdGraphFakeMode =
  /** Normal NerdGraph behaviour. */
  | "ok"
  /** HTTP 500 with a GraphQL error body. */
  | "server-error"
  /** HTTP 200 with NerdGraph's NRQL query timeout error. */
  | "nrql-timeout"
  /** Reads the request, then never answers. */
  | "hang";

export interface RecordedNerdGraphRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  /** The parsed JSON body, or the raw text when it was not JSON. */
  body: unknown;
}

export interface NerdGraphFake {
  /** `http://127.0.0.1:<port>/graphql`: pass as the plugin's `endpoint`. */
  endpoint: string;
  /** Every request received, in order. */
  requests: RecordedNerdGraphRequest[];
  /** The apps the fake knows; mutate to change readings between polls. */
  apps: FakeNewRelicApp[];
  /** Switches how the following requests are answered. */
  setMode(mode: NerdGraphFakeMode): void;
  /** Resolves once `count` requests have arrived (e.g. to act while one hangs). */
  waitForRequests(count: number): Promise<void>;
  close(): Promise<void>;
}

/** The document Dynosaur sends; any other (e.g. one with values pasted into it) is refused. */
const EXPECTED_DOCUMENT =
  "query($accountId: Int!, $nrql: Nrql!) { actor { account(id: $accountId) { nrql(query: $nrql) { results } } } }";

const BAD_API_KEY = {
  errors: [{ extensions: { error_code: "BAD_API_KEY" }, message: "Bad API Key or no API Key provided" }],
};

export async function startNerdGraphFake(options: NerdGraphFakeOptions): Promise<NerdGraphFake> {
  const requests: RecordedNerdGraphRequest[] = [];
  const apps = [...(options.apps ?? [])];
  let mode: NerdGraphFakeMode = "ok";
  let waiters: { count: number; resolve: () => void }[] = [];

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // Recorded as text; rejected below when it matters.
      }
      requests.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body });
      for (const w of waiters.filter((w) => requests.length >= w.count)) w.resolve();
      waiters = waiters.filter((w) => requests.length < w.count);
      if (mode === "hang") return;
      const [status, reply] = answer(req, text);
      send(res, status, reply);
    });
  });

  function answer(req: IncomingMessage, text: string): Reply {
    if (req.url !== "/graphql") return reply(404, { errors: [{ message: "Not Found" }] });
    if (req.method !== "POST") return reply(405, { errors: [{ message: "Method Not Allowed" }] });
    if (req.headers["api-key"] !== options.apiKey) return reply(200, BAD_API_KEY);
    if (mode === "server-error") {
      return reply(500, {
        errors: [{ extensions: { errorClass: "INTERNAL_SERVER_ERROR" }, message: "Internal Server Error" }],
      });
    }
    const contentType = req.headers["content-type"] ?? "";
    if (!/^application\/json\b/i.test(contentType)) {
      return reply(415, {
        errors: [{ message: `Unsupported Media Type: expected application/json, got ${contentType || "none"}` }],
      });
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return reply(400, { errors: [{ message: "Could not parse the request body as JSON" }] });
    }
    if (!isRecord(body) || typeof body.query !== "string") {
      return reply(200, {
        errors: [{ extensions: { errorClass: "INVALID_INPUT" }, message: "No query document supplied" }],
      });
    }
    if (compact(body.query) !== compact(EXPECTED_DOCUMENT)) {
      return reply(200, {
        errors: [
          {
            extensions: { errorClass: "INVALID_INPUT" },
            message: `fake NerdGraph only understands: ${EXPECTED_DOCUMENT}`,
          },
        ],
      });
    }
    const variables = isRecord(body.variables) ? body.variables : {};
    const { accountId, nrql } = variables;
    if (typeof accountId !== "number" || !Number.isInteger(accountId)) {
      return reply(200, { errors: [variableError("accountId", "Int!", accountId)] });
    }
    if (typeof nrql !== "string") return reply(200, { errors: [variableError("nrql", "Nrql!", nrql)] });

    if (accountId !== options.accountId) {
      return reply(200, {
        data: { actor: { account: null } },
        errors: [
          {
            extensions: { errorClass: "FORBIDDEN" },
            message: `Account ${accountId} not found or not accessible.`,
            path: ["actor", "account"],
          },
        ],
      });
    }
    if (mode === "nrql-timeout") {
      return reply(200, {
        data: { actor: { account: { nrql: null } } },
        errors: [
          {
            extensions: { errorClass: "TIMEOUT" },
            message: "NRDB query timed out.",
            path: ["actor", "account", "nrql"],
          },
        ],
      });
    }
    const results = evaluate(nrql);
    if (results === undefined) {
      const token = nrql.trim().split(/\s+/)[0] ?? "";
      return reply(200, {
        data: { actor: { account: { nrql: null } } },
        errors: [
          {
            extensions: { errorClass: "INVALID_INPUT" },
            message: `NRQL Syntax Error: Error at line 1 position 1, unexpected '${token}'`,
            path: ["actor", "account", "nrql"],
          },
        ],
      });
    }
    return reply(200, { data: { actor: { account: { nrql: { results } } } } });
  }

  function evaluate(nrql: string): unknown[] | undefined {
    const custom = options.queries?.[nrql];
    if (custom) return custom;
    const rate = nrql.match(RATE_QUERY);
    if (rate?.groups) {
      const app = findApp(rate.groups);
      return [{ [rate.groups.alias ?? "rate.count"]: app?.rpm ?? 0 }];
    }
    const count = nrql.match(COUNT_QUERY);
    if (count?.groups) {
      const app = findApp(count.groups);
      const seen = app ? (app.transactionsLastWeek ?? (app.rpm > 0 ? 10_000 : 0)) : 0;
      return [{ [count.groups.alias ?? "count"]: seen }];
    }
    return undefined;
  }

  function findApp(groups: Record<string, string | undefined>): FakeNewRelicApp | undefined {
    if (groups.name !== undefined) {
      const name = groups.name.replace(/\\(.)/g, "$1");
      return apps.find((a) => a.name === name);
    }
    return apps.find((a) => a.id === Number(groups.id));
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}/graphql`,
    requests,
    apps,
    setMode: (m) => {
      mode = m;
    },
    waitForRequests: (count) =>
      requests.length >= count ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ count, resolve })),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const APP = String.raw`(?:appName = '(?<name>(?:[^'\\]|\\.)*)'|appId = (?<id>\d+))`;
const ALIAS = "(?: AS '(?<alias>[^']*)')?";
const RATE_QUERY = new RegExp(
  String.raw`^SELECT rate\(count\(\*\), 1 minute\)${ALIAS} FROM Transaction WHERE transactionType = 'Web' AND ${APP} SINCE \d+ minutes? ago$`,
);
const COUNT_QUERY = new RegExp(String.raw`^SELECT count\(\*\)${ALIAS} FROM Transaction WHERE ${APP} SINCE 1 week ago$`);

function variableError(name: string, type: string, value: unknown) {
  return {
    extensions: { errorClass: "INVALID_INPUT" },
    message: `Variable $${name} of type ${type} was provided invalid value ${JSON.stringify(value) ?? "undefined"}`,
  };
}

/** Collapses whitespace GraphQL ignores, so formatting differences do not matter. */
function compact(document: string): string {
  return document
    .replace(/\s+/g, " ")
    .replace(/ ?([{}():,!$]) ?/g, "$1")
    .trim();
}

/** An HTTP status and the JSON body to send with it. */
type Reply = [status: number, body: unknown];

function reply(status: number, body: unknown): Reply {
  return [status, body];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}
