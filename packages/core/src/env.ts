import { inputError } from "./errors.js";

/** A value that is one `${VAR}` or `${VAR:-fallback}` reference and nothing else. */
export const WHOLE_REFERENCE = /^\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$/;

/** Environment variables whose names look like they hold a secret. */
const SECRET_VAR = /KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL|PRIVATE/i;

export interface SubstituteEnvOptions {
  /**
   * Config paths (e.g. `scaler.heroku_api_key`) whose key is left out, instead of being an
   * error, when a variable it names is unset: a dry run's Heroku settings.
   */
  mayBeUnset?: (path: string) => boolean;
  /**
   * Collects the paths whose whole value was one `${VAR}` reference: there a number or
   * `true`/`false` the variable holds may stand for a number or a boolean (`max_dynos: ${MAX}`),
   * as if written in place; see `typeFromEnv`.
   */
  wholeReferences?: Set<string>;
}

/**
 * Replaces `${VAR}` (and `${VAR:-fallback}`) in every string of a parsed config with the
 * environment's value; `$${` writes a literal `${`. Works on the parsed tree, not the
 * text, so an error names the config path, and a value can never break the YAML.
 * Values of secret-looking variables are added to `secrets` for redaction. Every unset
 * variable is reported in one error, each with its path, so one run shows them all.
 */
export function substituteEnv(
  value: unknown,
  env: Record<string, string | undefined>,
  secrets: Set<string>,
  options: SubstituteEnvOptions = {},
): unknown {
  const missing: { path: string; name: string; empty: boolean }[] = [];
  const out = substitute(value, "", {
    env,
    secrets,
    missing,
    mayBeUnset: options.mayBeUnset ?? (() => false),
    whole: options.wholeReferences,
  });
  const [first] = missing;
  if (first) {
    const names = [...new Set(missing.map((m) => m.name))];
    throw inputError(
      "DYNO_ENV_MISSING",
      missing
        .map(
          (m) =>
            `${m.path}: environment variable ${m.name} ${m.empty ? "is set but empty (a command that gave nothing, e.g. $(heroku ...) without the Heroku CLI?)" : "is not set"}`,
        )
        .join("\n"),
      {
        path: first.path,
        problems: missing.map((m) => ({
          path: m.path,
          message: `environment variable ${m.name} ${m.empty ? "is set but empty" : "is not set"}`,
        })),
        hint: `set ${names.length === 1 ? "it" : "them"} to a value (${names.map((n) => `export ${n}=...`).join("; ")}, or \`heroku config:set ${first.name}=...\` on Heroku), or write \${${first.name}:-default} for a fallback`,
      },
    );
  }
  return out;
}

interface Walk {
  env: Record<string, string | undefined>;
  secrets: Set<string>;
  missing: { path: string; name: string; empty: boolean }[];
  mayBeUnset: (path: string) => boolean;
  whole: Set<string> | undefined;
}

/** The substituted value; `undefined` for a string that may be unset and is (its key is then dropped). */
function substitute(value: unknown, path: string, walk: Walk): unknown {
  if (typeof value === "string") return substituteString(value, path, walk);
  if (Array.isArray(value)) return value.map((v, i) => substitute(v, `${path}[${i}]`, walk));
  if (value && typeof value === "object") {
    const entries = Object.entries(value).map(([k, v]) => [k, substitute(v, path ? `${path}.${k}` : k, walk)] as const);
    return Object.fromEntries(entries.filter(([, v]) => v !== undefined));
  }
  return value;
}

function substituteString(text: string, path: string, walk: Walk): string | undefined {
  if (WHOLE_REFERENCE.test(text)) walk.whole?.add(path);
  let unset = false;
  const out = text.replace(
    /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
    (_match, name: string | undefined, fallback: string | undefined) => {
      // Only the escape `$${` leaves `name` undefined.
      if (name === undefined) return "${";
      const found = walk.env[name];
      // An empty value counts as unset: `export KEY=$(cmd)` with a failing command gives one,
      // and the user learns more from "set but empty" than from the option's own check.
      if (found === undefined || found === "") {
        if (fallback !== undefined) return fallback;
        unset = true;
        if (!walk.mayBeUnset(path)) walk.missing.push({ path, name, empty: found === "" });
        return "";
      }
      if (SECRET_VAR.test(name) && found.length >= 4) walk.secrets.add(found);
      return found;
    },
  );
  return unset && walk.mayBeUnset(path) ? undefined : out;
}

/**
 * `value` written so that substituting it again leaves it as it is (`${` → `$${`): for a config
 * made from a parsed one and parsed once more, whose values were substituted already.
 */
export function escapeEnv(value: unknown): unknown {
  if (typeof value === "string") return value.replaceAll("${", "$${");
  if (Array.isArray(value)) return value.map(escapeEnv);
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeEnv(v)]));
  return value;
}
