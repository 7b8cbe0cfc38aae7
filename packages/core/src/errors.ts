/**
 * The error catalogue: every error a user can cause has a stable `code`, a message
 * saying what happened (and where, for config errors) and a `hint` saying what to do.
 * The CLI maps `exitCode` to its process exit status.
 */
export type ErrorCode =
  | "DYNO_CONFIG_INVALID"
  | "DYNO_CONFIG_SYNTAX"
  | "DYNO_CONFIG_EMPTY"
  | "DYNO_CONFIG_NOT_FOUND"
  | "DYNO_ENV_MISSING"
  | "DYNO_PLUGIN_NOT_FOUND"
  | "DYNO_PLUGIN_INVALID"
  | "DYNO_PLUGIN_INCOMPATIBLE"
  | "DYNO_PLUGIN_UNKNOWN_TYPE"
  | "DYNO_PLUGIN_FAILED"
  | "DYNO_PLUGIN_TIMEOUT"
  | "DYNO_REPORTER_NOT_FOUND"
  | "DYNO_REPORTER_INVALID"
  | "DYNO_BAD_READING"
  | "DYNO_USAGE"
  | "HEROKU_UNAUTHORIZED"
  | "HEROKU_FORBIDDEN"
  | "HEROKU_NOT_FOUND"
  | "HEROKU_UNPROCESSABLE"
  | "HEROKU_RATE_LIMITED"
  | "HEROKU_UNAVAILABLE"
  | "HEROKU_BAD_RESPONSE"
  | (string & {});

export interface DynosaurErrorOptions {
  /** What the user can do about it. */
  hint?: string;
  /** Config path the error is about, e.g. `plugins[1].users_per_dyno`. */
  path?: string;
  /** 2 = bad input, 1 = failure. @default 1 */
  exitCode?: 1 | 2;
  cause?: unknown;
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

  constructor(code: ErrorCode, message: string, options: DynosaurErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.path = options.path;
    this.exitCode = options.exitCode ?? 1;
    Object.defineProperty(this, DYNOSAUR_ERROR, { value: true });
  }

  /** One or two lines for a terminal: `CODE: message` then `  hint: ...`. */
  format(): string {
    return `${this.code}: ${this.message}${this.hint ? `\n  hint: ${this.hint}` : ""}`;
  }
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

/** A short, secret-free description of anything thrown. */
export function describeError(e: unknown): string {
  if (e instanceof DynosaurError) return e.hint ? `${e.message} (${e.hint})` : e.message;
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return typeof code === "string" && !e.message.includes(code) ? `${e.message} (${code})` : e.message;
  }
  return String(e);
}
