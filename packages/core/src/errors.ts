/**
 * The error catalogue: every error a user can cause has a stable `code`, a message
 * saying what happened (and where, for config errors) and a `hint` saying what to do.
 * Each code's entry is the hint given when the thrower has no more specific one. The
 * list is closed: a new code is added here, with its hint. The CLI maps `exitCode` to its
 * process exit status, and adds what only it knows (flags, example files).
 */
export const ERROR_CATALOGUE = {
  DYNO_CONFIG_INVALID: "fix the config at the path named",
  DYNO_CONFIG_SYNTAX: "check the indentation and quoting on that line (YAML indents with spaces, not tabs)",
  DYNO_CONFIG_EMPTY: "a config needs a `scaler:` section and a `plugins:` list",
  DYNO_CONFIG_NOT_FOUND: "pass the path of a YAML or JSON config",
  DYNO_ENV_MISSING:
    "set the variable (on Heroku: heroku config:set NAME=value), or give a default with ${NAME:-default}",
  DYNO_PLUGIN_NOT_FOUND: "install the plugin's package next to the config or the dynosaur CLI",
  DYNO_PLUGIN_INVALID: "report this to the plugin's author",
  DYNO_PLUGIN_INCOMPATIBLE: "install versions of the plugin and of @dynosaur/core built for the same plugin contract",
  DYNO_PLUGIN_UNKNOWN_TYPE: "add the package that provides the type to the config's `use:` list and install it",
  DYNO_PLUGIN_FAILED: "check the source's service and the plugin's options; the last good reading stands meanwhile",
  DYNO_PLUGIN_TIMEOUT: "raise the source's `timeout` if the service is slow, or check that it is up",
  DYNO_BAD_READING: "if the load is real, raise the plugin's per-dyno capacity or max_dynos",
  DYNO_REPORTER_NOT_FOUND: "install the reporter's package next to the config or the dynosaur CLI",
  DYNO_REPORTER_INVALID: "report this to the reporter's author",
  DYNO_TRACE_INVALID: "a trace is CSV with a header `minute,value` or `time,value`",
  DYNO_TRACE_NOT_FOUND: "pass the path of a CSV trace",
  DYNO_SIMULATION: "check the config's plugins: a simulation creates them as a live run would",
  DYNO_SIMULATION_OFFLINE:
    "a simulation never calls a service: a plugin that needs the network at start cannot be replayed",
  DYNO_USAGE: "check how the command or function is called",
  DYNO_DB_IN_USE: "stop the other process using this database, or give each its own (--db)",
  DYNO_PORT_IN_USE: "choose another port with --port or PORT",
  DYNO_DATABASE_URL_INVALID: "set DATABASE_URL to a PostgreSQL URL, or unset it to use SQLite",
  DYNO_DATABASE_UNREACHABLE: "check the host, port, user and password in DATABASE_URL and that PostgreSQL is up",
  DYNO_CONFLICT: "reload the config and apply your change again",
  DYNO_APP_NOT_FOUND: "list the apps with GET /api/apps",
  DYNO_SECRET_KEY_INVALID: "DYNOSAUR_SECRET_KEY must be 32 random bytes, base64 or hex (openssl rand -base64 32)",
  DYNO_SECRET_KEY_WRONG: "use the DYNOSAUR_SECRET_KEY the secrets were stored with",
  // What the web app's API answers with, beside the codes above (every answer other than 2xx carries one).
  DYNO_REQUEST_INVALID: "check the request against the API's description (GET /api/openapi.json)",
  DYNO_UNAUTHENTICATED: "log in (POST /api/login) or send an API token (Authorization: Bearer <token>)",
  DYNO_LOGIN_FAILED: "check the user name and password (the first admin's is DYNOSAUR_ADMIN_PASSWORD)",
  DYNO_RATE_LIMITED: "wait as long as the Retry-After header says, then try again",
  DYNO_FORBIDDEN: "ask an admin, or use an API token",
  DYNO_CSRF: "send the session's CSRF token (GET /api/session gives it) in the X-CSRF-Token header",
  DYNO_NOT_FOUND: "check the path and id (GET /api/openapi.json lists the routes)",
  DYNO_VERSION_NOT_FOUND: "list the app's versions with GET /api/apps/{name}/config/versions",
  DYNO_LIMIT_REACHED: "delete apps this server no longer scales, or raise DYNOSAUR_MAX_APPS",
  DYNO_APP_EXISTS: "open the app's config to change it, or choose another name",
  DYNO_NOTHING_TO_REPLAY: "let the engine scale the app a while first: it stores one row a minute",
  DYNO_INTERNAL: "see the server's log (event http-error) and report it",
  DYNO_WEBHOOK_SIGNATURE:
    "sign deliveries with the app's webhook secret: POST /api/apps/{name}/heroku-webhook gives a new one and the `heroku webhooks:add` line that uses it",
  DYNO_PUBLIC_URL_MISSING:
    "set DYNOSAUR_PUBLIC_URL to this server's public URL (e.g. https://my-dynosaur.herokuapp.com), or run the `heroku` line yourself",
  HEROKU_UNAUTHORIZED: "create a long-lived key with `heroku authorizations:create` and set heroku_api_key to it",
  HEROKU_FORBIDDEN: "the key's account must be able to scale the app (heroku access -a <app>)",
  HEROKU_NOT_FOUND: "check the app name and that every process type is in the released Procfile (heroku ps -a <app>)",
  HEROKU_UNPROCESSABLE: "check the app's dyno limits and plan (heroku ps -a <app>)",
  HEROKU_RATE_LIMITED: "the budget (4500 requests/hour per account) is shared with every tool using the key",
  HEROKU_UNAVAILABLE: "Heroku may be slow or unreachable (https://status.heroku.com); the next tick tries again",
  HEROKU_BAD_RESPONSE: "check that heroku_api_url is the Heroku Platform API and no proxy is in the way",
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** One problem an error reports, at its config path ("" for the whole config). */
export interface ErrorProblem {
  path: string;
  /** The problem without its path. */
  message: string;
}

export interface DynosaurErrorOptions {
  /** What the user can do about it. */
  hint?: string;
  /** Config path the error is about, e.g. `plugins[1].users_per_dyno`. */
  path?: string;
  /** 2 = bad input, 1 = failure. @default 1 */
  exitCode?: 1 | 2;
  cause?: unknown;
  /**
   * Each problem on its own, when the message lists several (one `path: problem` line each).
   * Without it, the error is one problem: at `path`, the message less its `path: ` prefix.
   */
  problems?: readonly ErrorProblem[];
}

/**
 * Marks every DynosaurError, whichever copy of @dynosaur/core made it: a plugin installed
 * with its own copy (npm does that for global installs) must still be recognised.
 */
const DYNOSAUR_ERROR = Symbol.for("dynosaur.error");

export class DynosaurError extends Error {
  override name = "DynosaurError";

  static override [Symbol.hasInstance](value: unknown): boolean {
    // Subclasses keep the ordinary prototype check.
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class instanceof was asked about
    if (this !== DynosaurError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === "object" && value !== null && DYNOSAUR_ERROR in value;
  }

  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly path: string | undefined;
  readonly exitCode: 1 | 2;
  /** What a program shows per path (the web app's 422 answers): the message, split. */
  readonly problems: readonly ErrorProblem[];

  constructor(code: ErrorCode, message: string, options: DynosaurErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.path = options.path;
    this.exitCode = options.exitCode ?? 1;
    this.problems = options.problems ?? [oneProblem(message, options.path)];
    Object.defineProperty(this, DYNOSAUR_ERROR, { value: true });
  }

  /** One or two lines for a terminal: `CODE: message` then `  hint: ...`. */
  format(): string {
    // The catalogue's hint when the thrower had no more specific one: every code shown says what to do.
    const hint = this.hint ?? ERROR_CATALOGUE[this.code];
    return `${this.code}: ${this.message}${hint ? `\n  hint: ${hint}` : ""}`;
  }
}

/** A message written `path: problem` (the convention for config errors), as one problem at `path`. */
function oneProblem(message: string, path: string | undefined): ErrorProblem {
  if (path === undefined) return { path: "", message };
  const prefix = `${path || "(top level)"}: `;
  return { path, message: message.startsWith(prefix) ? message.slice(prefix.length) : message };
}

/**
 * `e`'s problems, each at its path: `e.problems`, or for an error made by an older copy of
 * @dynosaur/core (a plugin's own), which has none, the message as one problem.
 */
export function errorProblems(e: DynosaurError): readonly ErrorProblem[] {
  return (e.problems as readonly ErrorProblem[] | undefined) ?? [oneProblem(e.message, e.path)];
}

/** A user-input error (exit code 2). */
export function inputError(code: ErrorCode, message: string, options: Omit<DynosaurErrorOptions, "exitCode"> = {}) {
  return new DynosaurError(code, message, { ...options, exitCode: 2 });
}

/**
 * Thrown by plugins for a failed reading the user can act on. `message` is shown
 * as is, so it must never contain a secret.
 */
export class PluginError extends DynosaurError {
  override name = "PluginError";
  constructor(message: string, options: { hint?: string; cause?: unknown; code?: ErrorCode } = {}) {
    super(options.code ?? "DYNO_PLUGIN_FAILED", message, options);
  }
}

export function isDynosaurError(e: unknown): e is DynosaurError {
  return e instanceof DynosaurError;
}

/** `value`, which the code around it guarantees is there; a clear error, not a crash further on, if it is not. */
export function must<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new Error(`internal error: ${what} is missing`);
  return value;
}

/** A short, secret-free description of anything thrown. */
export function describeError(e: unknown): string {
  if (e instanceof DynosaurError) return e.hint ? `${e.message} (${e.hint})` : e.message;
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return typeof code === "string" && !e.message.includes(code) ? `${e.message} (${code})` : e.message;
  }
  return String(e);
}
