import { DynosaurError, errorProblems } from "./errors.js";

/** Config keys whose values are secrets, whatever their text. */
export const SECRET_KEY = /(^|_)(key|secret|token|password)$|password|secret|^authorization$|^heartbeat_url$/i;
/** Config keys whose every nested value is a secret (e.g. OTLP `headers` carry API tokens). */
const SECRET_CONTAINER = /^headers$/i;

/** `scheme://user:password@`: the password in a URL's userinfo (group 2). */
const URL_PASSWORD = /\b([a-z][a-z\d+.-]*:\/\/[^\s/?#@:]*:)([^\s/?#@]+)@/gi;
/** `?api_key=…`, `&access_token=…`: a query parameter named like a credential, and its value (group 2). */
const URL_SECRET_PARAM =
  /([?&;](?:[\w.-]*[_.-])?(?:apikey|key|token|secret|password|passwd|pwd|signature|sig)=)([^\s&#"'<>]+)/gi;

/**
 * Blanks the passwords and credential-named query parameters of the URLs in `text`, by their
 * place rather than their value: `https://bob:[redacted]@proxy`, `?api_key=[redacted]`. A
 * value too short to redact wherever it appears is still blanked inside its URL.
 */
export function redactUrls(text: string): string {
  return text.replace(URL_PASSWORD, "$1[redacted]@").replace(URL_SECRET_PARAM, "$1[redacted]");
}

/** The secrets the URLs in `text` carry, as written and decoded (a message may quote either). */
function urlSecrets(text: string): string[] {
  const found = [...text.matchAll(URL_PASSWORD), ...text.matchAll(URL_SECRET_PARAM)].map((m) => m[2] ?? "");
  // A query string may also write a space as `+`.
  return found.flatMap((raw) => [raw, decoded(raw), decoded(raw.replaceAll("+", " "))]);
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Replaces every secret in `text` by `[redacted]`: the one way core blanks secrets out.
 * Short values are skipped: they would mangle ordinary words.
 */
export function redact(text: string, secrets: Iterable<string> = []): string {
  let out = text;
  for (const secret of secrets)
    if (secret.length >= 4 && out.includes(secret)) out = out.split(secret).join("[redacted]");
  return out;
}

/**
 * Remembers secret values and blanks them out of any text (log lines, errors, emails,
 * stats), so a key that slips into a message is still never shown.
 */
export class Redactor {
  readonly #secrets = new Set<string>();

  add(secret: string | undefined | null): void {
    // Very short values would blank out ordinary words; no real key is that short.
    if (secret && secret.length >= 6) {
      this.#secrets.add(secret);
      // Keys delivered with escaped newlines appear both ways.
      if (secret.includes("\n"))
        for (const line of secret.split("\n")) if (line.trim().length >= 16) this.#secrets.add(line.trim());
    }
  }

  get size(): number {
    return this.#secrets.size;
  }

  /** `text` without the secrets added, nor the passwords and keys of any URL in it. */
  scrub(text: string): string {
    return redactUrls(redact(text, this.#secrets));
  }

  /**
   * Runs `fn`, scrubbing the message and hint of a DynosaurError it throws: a config error
   * may quote a value, and the value may be a secret written in the wrong place.
   */
  guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (!(e instanceof DynosaurError) || this.#secrets.size === 0) throw e;
      throw new DynosaurError(e.code, this.scrub(e.message), {
        path: e.path,
        exitCode: e.exitCode,
        hint: e.hint === undefined ? undefined : this.scrub(e.hint),
        problems: errorProblems(e).map((p) => ({ path: p.path, message: this.scrub(p.message) })),
      });
    }
  }

  /**
   * Collects the values of secret-named keys anywhere in a config tree, and the passwords and
   * keys inside URLs (`heroku_api_url: https://bob:pass@proxy`), so they are blanked on their own too.
   */
  collect(value: unknown, keyName = ""): void {
    if (typeof value === "string") {
      if (SECRET_KEY.test(keyName)) this.add(value);
      for (const secret of urlSecrets(value)) this.add(secret);
    } else if (Array.isArray(value)) {
      for (const v of value) this.collect(v, keyName);
    } else if (value && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) this.collect(v, childKey(value, keyName, k));
    }
  }
}

/**
 * The name a value counts under: the children of a secret container count as secrets, and so
 * does a Slack incoming webhook's `url` (`notify: [{type: slack, url}]`), which is its credential.
 */
function childKey(parent: object, keyName: string, key: string): string {
  if (SECRET_CONTAINER.test(keyName)) return "secret";
  return key === "url" && (parent as { type?: unknown }).type === "slack" ? "secret" : key;
}

/** A deep copy of a config with secret-named values replaced by `[redacted]`, for `dynosaur check`. */
export function redactConfig(value: unknown, keyName = ""): unknown {
  if (typeof value === "string") return SECRET_KEY.test(keyName) ? "[redacted]" : value;
  if (Array.isArray(value)) return value.map((v) => redactConfig(v, keyName));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactConfig(v, childKey(value, keyName, k))]));
  }
  return value;
}
