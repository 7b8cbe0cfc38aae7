import { createRequire } from "node:module";
import type { FormationState } from "@dynosaur/core";
import { type Clock, DynosaurError, describeError, type ErrorCode, redact, systemClock } from "@dynosaur/core";
import type { Dispatcher } from "undici";
import { createDispatcher } from "./http.js";

/** One process type's formation, as Heroku answers it. */
export interface Formation extends FormationState {
  /** Dyno size name, e.g. `Standard-1X`. */
  size: string;
  updatedAt: number;
}

export interface HerokuClientOptions {
  /** App name or id. */
  app: string;
  /** Process type to read and scale. @default "web" */
  processType?: string;
  /** Heroku API key (`heroku authorizations:create`). Never logged nor put in an error. */
  apiKey: string;
  /** Platform API endpoint; tests point it at a loopback fake. @default "https://api.heroku.com" */
  baseUrl?: string;
  /** undici dispatcher every request goes through. @default a keep-alive Agent honouring HTTPS_PROXY */
  dispatcher?: Dispatcher;
  /** Milliseconds one request (connect, headers and body) may take before it counts as failed. @default 10_000 */
  timeoutMs?: number;
  /** Clock for rate-limit back-off and request spacing. @default systemClock */
  clock?: Clock;
  /** `User-Agent` header; Heroku asks clients to name themselves. @default "dynosaur/<core version>" */
  userAgent?: string;
}

/** A failed call to the Heroku Platform API. */
export class HerokuError extends DynosaurError {
  override name = "HerokuError";
  /** HTTP status Heroku answered, if it answered at all. */
  readonly status: number | undefined;
  /** Heroku's error `id` (`unauthorized`, `not_found`, `invalid_params`, `rate_limit`...), if it sent one. */
  readonly herokuId: string | undefined;
  /** For `HEROKU_RATE_LIMITED`: the time (ms) before which the client will not call Heroku. */
  readonly retryAt: number | undefined;
  /** For a refused scale: the most dynos the plan allows, when Heroku said it. */
  readonly limit: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: {
      hint?: string;
      cause?: unknown;
      status?: number;
      herokuId?: string;
      retryAt?: number;
      limit?: number;
    } = {},
  ) {
    super(code, message, { hint: options.hint, cause: options.cause });
    this.status = options.status;
    this.herokuId = options.herokuId;
    this.retryAt = options.retryAt;
    this.limit = options.limit;
  }
}

/*
 * Rate-limit policy. Heroku gives each account a bucket of 4500 request tokens that refills
 * gradually (about 75 a minute) and reports what is left in `RateLimit-Remaining`. The bucket is
 * shared with everything else using the account (the CLI, dashboards, CI), so we must be polite:
 *
 * - After a 429, or a response saying 0 tokens remain, we stop calling Heroku until a back-off
 *   time: `Retry-After` when Heroku sends one, else 60 s (about 75 tokens' worth of refill),
 *   doubling for each consecutive limit, capped at 15 min. A response with tokens left ends the
 *   streak. During back-off calls fail at once with HEROKU_RATE_LIMITED and send nothing, so a
 *   5 s engine loop never hammers an exhausted account.
 * - When fewer than LOW_WATER tokens remain, requests are spaced out: the gap grows as the bucket
 *   empties (one refill interval at LOW_WATER, ten at a tenth of it, at most MAX_SPACING_MS), so we
 *   spend no faster than the bucket refills and leave the rest to the account's other users.
 */
const FIRST_BACKOFF_MS = 60_000;
const MAX_BACKOFF_MS = 15 * 60_000;
const MAX_RETRY_AFTER_MS = 60 * 60_000;
const LOW_WATER = 100;
const REFILL_INTERVAL_MS = 3_600_000 / 4500;
const MAX_SPACING_MS = 60_000;

const ACCEPT = "application/vnd.heroku+json; version=3";

/** Reads and scales one process type's formation through the Heroku Platform API. */
export class HerokuClient {
  readonly #app: string;
  readonly #type: string;
  readonly #apiKey: string;
  readonly #base: string;
  readonly #dispatcher: Dispatcher;
  readonly #timeoutMs: number;
  readonly #clock: Clock;
  readonly #userAgent: string;

  #remaining: number | null = null;
  #backoffUntil: number | null = null;
  #limitStreak = 0;
  /** Earliest time the next request may go out while the budget is low. */
  #nextSlot = 0;

  constructor(options: HerokuClientOptions) {
    if (!options.apiKey) {
      throw new HerokuError("HEROKU_UNAUTHORIZED", "No Heroku API key is configured.", {
        hint: "Create one with `heroku authorizations:create` and set `heroku_api_key`.",
      });
    }
    this.#app = options.app;
    this.#type = options.processType ?? "web";
    this.#apiKey = options.apiKey;
    const base = (options.baseUrl ?? "https://api.heroku.com").replace(/\/+$/, "");
    this.#base = `${base}/apps/${encodeURIComponent(this.#app)}/formation`;
    this.#dispatcher = options.dispatcher ?? createDispatcher(process.env);
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#clock = options.clock ?? systemClock;
    this.#userAgent = options.userAgent ?? defaultUserAgent();
  }

  /** Time (ms) before which the client will not call Heroku (rate-limit back-off), or null. */
  get backoffUntil(): number | null {
    return this.#backoffUntil !== null && this.#clock.now() < this.#backoffUntil ? this.#backoffUntil : null;
  }

  /** Last `RateLimit-Remaining` seen, or null. */
  get rateLimitRemaining(): number | null {
    return this.#remaining;
  }

  /** Reads one process type's formation (`GET /apps/{app}/formation/{type}`). */
  async getFormation(signal?: AbortSignal): Promise<Formation> {
    return one(
      await this.#call(
        "GET",
        `/${encodeURIComponent(this.#type)}`,
        undefined,
        `reading the "${this.#type}" formation of app "${this.#app}"`,
        signal,
      ),
    );
  }

  /** Sets one process type's dynos (`PATCH /apps/{app}/formation/{type}`) and returns its new formation. */
  async scale(quantity: number, signal?: AbortSignal): Promise<Formation> {
    this.#checkQuantity(this.#type, quantity);
    return one(
      await this.#call(
        "PATCH",
        `/${encodeURIComponent(this.#type)}`,
        { quantity },
        `scaling "${this.#type}" of app "${this.#app}" to ${quantity}`,
        signal,
      ),
    );
  }

  /** Every process type's formation (`GET /apps/{app}/formation`). */
  list(signal?: AbortSignal): Promise<Formation[]> {
    return this.#call("GET", "", undefined, `reading the formation of app "${this.#app}"`, signal);
  }

  /** Sets several process types in one call (`PATCH /apps/{app}/formation`); returns their new formation. */
  async update(updates: ReadonlyArray<{ type: string; quantity: number }>, signal?: AbortSignal): Promise<Formation[]> {
    for (const u of updates) this.#checkQuantity(u.type, u.quantity);
    const what = updates.map((u) => `${u.type}=${u.quantity}`).join(" ");
    return this.#call("PATCH", "", { updates }, `scaling ${what} of app "${this.#app}"`, signal);
  }

  #checkQuantity(type: string, quantity: number): void {
    if (!Number.isSafeInteger(quantity) || quantity < 0) {
      throw new HerokuError(
        "HEROKU_UNPROCESSABLE",
        `Cannot scale "${type}" of app "${this.#app}" to ${quantity}: a dyno count is a whole number >= 0.`,
      );
    }
  }

  async #call(
    method: "GET" | "PATCH",
    path: string,
    body: object | undefined,
    doing: string,
    signal?: AbortSignal,
  ): Promise<Formation[]> {
    signal?.throwIfAborted();
    this.#refuseDuringBackoff(doing);
    await this.#waitForSlot(signal);
    // The budget may have run out while we waited for a slot.
    this.#refuseDuringBackoff(doing);

    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const headers: Record<string, string> = {
      accept: ACCEPT,
      authorization: `Bearer ${this.#apiKey}`,
      "user-agent": this.#userAgent,
    };
    if (body) headers["content-type"] = "application/json";

    let status: number;
    let responseHeaders: Dispatcher.ResponseData["headers"];
    let text: string;
    try {
      const url = new URL(`${this.#base}${path}`);
      const res = await this.#dispatcher.request({
        origin: url.origin,
        path: url.pathname,
        method,
        headers,
        body: body ? JSON.stringify(body) : undefined,
        signal: combined,
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
      });
      status = res.statusCode;
      responseHeaders = res.headers;
      // Read every body, errors included: an unread body keeps the connection from being reused.
      text = await res.body.text();
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      if (timeout.aborted || isUndiciTimeout(e)) {
        throw new HerokuError(
          "HEROKU_UNAVAILABLE",
          `Heroku did not answer within ${this.#timeoutMs} ms while ${doing}.`,
          {
            hint: "Heroku may be slow or unreachable; see https://status.heroku.com. The next tick tries again.",
            cause: this.#safeCause(e),
          },
        );
      }
      throw new HerokuError(
        "HEROKU_UNAVAILABLE",
        `Could not reach Heroku while ${doing}: ${this.#redact(describeError(e))}.`,
        {
          hint: "Check the network and https://status.heroku.com. The next tick tries again.",
          cause: this.#safeCause(e),
        },
      );
    }

    this.#noteRateLimit(status, responseHeaders);

    if (status >= 200 && status < 300) {
      const formation = parseFormations(text, path === "");
      if (typeof formation === "string") {
        throw new HerokuError(
          "HEROKU_BAD_RESPONSE",
          `Heroku answered ${status} but not with a valid formation while ${doing}: ${this.#redact(formation)}.`,
          {
            hint: "Heroku itself never answers this; check that `heroku_api_url` is the Heroku Platform API and no proxy is in the way.",
            status,
          },
        );
      }
      return formation;
    }
    throw this.#httpError(status, text, doing);
  }

  #refuseDuringBackoff(doing: string): void {
    const until = this.backoffUntil;
    if (until === null) return;
    throw new HerokuError(
      "HEROKU_RATE_LIMITED",
      `Not ${doing}: the Heroku API rate limit of this account is exhausted; waiting until ${new Date(until).toISOString()} before calling Heroku again.`,
      {
        hint: "The budget (4500 requests/hour per account) is shared with every tool using the key; the Heroku CLI or another script may be using it up.",
        herokuId: "rate_limit",
        retryAt: until,
      },
    );
  }

  async #waitForSlot(signal?: AbortSignal): Promise<void> {
    const now = this.#clock.now();
    const remaining = this.#remaining;
    if (remaining === null || remaining >= LOW_WATER) {
      this.#nextSlot = now;
      return;
    }
    const gap = Math.min((REFILL_INTERVAL_MS * LOW_WATER) / Math.max(remaining, 1), MAX_SPACING_MS);
    const at = Math.max(now, this.#nextSlot);
    // Reserve the slot before sleeping so concurrent calls queue up behind each other.
    this.#nextSlot = at + gap;
    if (at > now) await this.#clock.sleep(at - now, signal);
  }

  #noteRateLimit(status: number, headers: Dispatcher.ResponseData["headers"]): void {
    const remaining = headerNumber(headers["ratelimit-remaining"]);
    if (remaining !== null) this.#remaining = remaining;
    const limited = status === 429 || remaining === 0;
    if (!limited) {
      this.#limitStreak = 0;
      return;
    }
    const now = this.#clock.now();
    const retryAfter = retryAfterMs(headers["retry-after"], now);
    const delay = retryAfter ?? Math.min(FIRST_BACKOFF_MS * 2 ** this.#limitStreak, MAX_BACKOFF_MS);
    this.#limitStreak++;
    this.#backoffUntil = now + delay;
    if (status === 429) this.#remaining = 0;
  }

  #httpError(status: number, text: string, doing: string): HerokuError {
    const { id, message, limit } = parseHerokuError(text);
    const said = message ? `: ${clip(this.#redact(message))}` : "";
    const tag = `${status}${id ? ` ${id}` : ""}`;
    const base = { status, herokuId: id };
    if (status === 401) {
      return new HerokuError("HEROKU_UNAUTHORIZED", `Heroku refused the API key while ${doing} (${tag}${said}).`, {
        ...base,
        hint: "Create a long-lived key with `heroku authorizations:create` and set `heroku_api_key` to it.",
      });
    }
    if (status === 403 || status === 402) {
      return new HerokuError("HEROKU_FORBIDDEN", `Heroku denied access while ${doing} (${tag}${said}).`, {
        ...base,
        hint: `The key's account must be able to scale app "${this.#app}"; check with \`heroku access -a ${this.#app}\`.`,
      });
    }
    if (status === 404) {
      return new HerokuError(
        "HEROKU_NOT_FOUND",
        `Heroku found no app "${this.#app}" with a process type "${this.#type}": the app or the process type does not exist (${tag}${said}).`,
        {
          ...base,
          hint: `List the app's process types with \`heroku ps -a ${this.#app}\`; the type must be in the released Procfile.`,
        },
      );
    }
    if (status === 429) {
      return new HerokuError(
        "HEROKU_RATE_LIMITED",
        `Heroku's API rate limit is exhausted (${tag}${said}); not calling Heroku until ${new Date(this.#backoffUntil ?? 0).toISOString()}.`,
        {
          ...base,
          retryAt: this.#backoffUntil ?? undefined,
          hint: "The budget (4500 requests/hour per account) is shared with every tool using the key.",
        },
      );
    }
    if (status >= 500) {
      return new HerokuError("HEROKU_UNAVAILABLE", `Heroku failed while ${doing} (${tag}${said}).`, {
        ...base,
        hint: "Heroku may be having trouble; see https://status.heroku.com. The next tick tries again.",
      });
    }
    if (status >= 400) {
      return new HerokuError("HEROKU_UNPROCESSABLE", `Heroku refused ${doing} (${tag}${said}).`, {
        ...base,
        limit,
        hint:
          status === 422
            ? `Check the app's dyno limits and plan (\`heroku ps -a ${this.#app}\`); the configured maximum may be above what the plan allows.`
            : undefined,
      });
    }
    return new HerokuError("HEROKU_BAD_RESPONSE", `Heroku answered an unexpected ${status} while ${doing}.`, {
      ...base,
      hint: "Check that `heroku_api_url` is the Heroku Platform API and no proxy is in the way.",
    });
  }

  #redact(text: string): string {
    return redact(text, [this.#apiKey]);
  }

  /** A cause is kept for debugging only if it cannot leak the key. */
  #safeCause(e: unknown): unknown {
    return describeError(e).includes(this.#apiKey) ? undefined : e;
  }
}

/** The one formation a single-type call answers with. */
function one(list: Formation[]): Formation {
  // #call only answers a single-type call with exactly one formation.
  return list[0] as Formation;
}

/** A formation, or a list of them (the batch endpoints), each checked; or what is wrong. */
function parseFormations(text: string, many: boolean): Formation[] | string {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return text.length === 0 ? "the body is empty" : "the body is not valid JSON (truncated?)";
  }
  // The per-type endpoints answer one object, the app's endpoints a list.
  if (many !== Array.isArray(data))
    return many ? "the body is not a JSON array of formations" : "the body is not a JSON object";
  const list: Formation[] = [];
  for (const item of many ? (data as unknown[]) : [data]) {
    const f = parseFormation(item);
    if (typeof f === "string") return f;
    list.push(f);
  }
  return list;
}

function parseFormation(data: unknown): Formation | string {
  if (typeof data !== "object" || data === null || Array.isArray(data)) return "the body is not a JSON object";
  const f = data as Record<string, unknown>;
  const { quantity, type } = f;
  if (typeof quantity !== "number" || !Number.isSafeInteger(quantity) || quantity < 0) {
    return `"quantity" is ${clip(JSON.stringify(quantity) ?? "missing", 40)}, not a whole number >= 0`;
  }
  if (typeof type !== "string" || type === "") return `"type" is missing`;
  // `size` is deprecated in favour of `dyno_size.name`; accept whichever Heroku sends.
  const dynoSize = f.dyno_size as { name?: unknown } | null | undefined;
  const size = typeof f.size === "string" ? f.size : typeof dynoSize?.name === "string" ? dynoSize.name : undefined;
  if (size === undefined) return `"size" is missing`;
  const updatedAt = typeof f.updated_at === "string" ? Date.parse(f.updated_at) : Number.NaN;
  if (Number.isNaN(updatedAt)) return `"updated_at" is not a date`;
  return { quantity, size, type, updatedAt };
}

/** Heroku errors are `{"id", "message"}`; the version check answers `{"id", "error"}` instead. */
function parseHerokuError(text: string): {
  id: string | undefined;
  message: string | undefined;
  limit: number | undefined;
} {
  try {
    const data = JSON.parse(text) as Record<string, unknown> | null;
    if (typeof data === "object" && data !== null) {
      const message =
        typeof data.message === "string" ? data.message : typeof data.error === "string" ? data.error : undefined;
      return {
        id: typeof data.id === "string" ? data.id : undefined,
        message: message?.trim(),
        limit: dynoLimit(data.limit, message),
      };
    }
  } catch {
    // Not JSON (a proxy's HTML page, say): the status alone has to do.
  }
  return { id: undefined, message: undefined, limit: undefined };
}

/**
 * The plan's dyno limit from a refusal: Heroku sends `limit` with `cannot_run_above_limit`,
 * and says "Cannot update to more than N ... dynos per process type" for the per-type cap.
 */
function dynoLimit(field: unknown, message: string | undefined): number | undefined {
  if (typeof field === "number" && Number.isInteger(field) && field >= 0) return field;
  const said = message?.match(/\bmore than (\d+)\b/i)?.[1];
  return said === undefined ? undefined : Number(said);
}

/** Heroku's messages are a sentence; anything longer (a proxy's page, say) is cut to keep log lines readable. */
function clip(text: string, max = 500): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function headerNumber(value: string | string[] | undefined): number | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || !/^\s*\d+\s*$/.test(v)) return null;
  return Number(v);
}

/** `Retry-After` is seconds or an HTTP date; clamped so a bogus value cannot park us forever. */
function retryAfterMs(value: string | string[] | undefined, now: number): number | null {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return null;
  const ms = /^\d+$/.test(v) ? Number(v) * 1000 : Date.parse(v) - now;
  if (Number.isNaN(ms)) return null;
  return Math.min(Math.max(ms, 1000), MAX_RETRY_AFTER_MS);
}

function isUndiciTimeout(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT" || code === "UND_ERR_CONNECT_TIMEOUT";
}

let userAgent: string | undefined;
function defaultUserAgent(): string {
  if (userAgent === undefined) {
    try {
      // src/ and dist/ both sit one level below the package.json.
      const { version } = createRequire(import.meta.url)("../package.json") as { version: string };
      userAgent = `dynosaur/${version}`;
    } catch {
      userAgent = "dynosaur";
    }
  }
  return userAgent;
}
