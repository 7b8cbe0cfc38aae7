import { inputError } from "./errors.js";

/** Environment variables whose names look like they hold a secret. */
const SECRET_VAR = /KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL|PRIVATE/i;

/**
 * Replaces `${VAR}` (and `${VAR:-fallback}`) in every string of a parsed config with the
 * environment's value; `$${` writes a literal `${`. Works on the parsed tree, not the
 * text, so an error names the config path, and a value can never break the YAML.
 * Values of secret-looking variables are added to `secrets` for redaction.
 */
export function substituteEnv(value: unknown, env: Record<string, string | undefined>, secrets: Set<string>, path = ""): unknown {
  if (typeof value === "string") return substituteString(value, env, secrets, path);
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, env, secrets, `${path}[${i}]`));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteEnv(v, env, secrets, path ? `${path}.${k}` : k)]));
  }
  return value;
}

function substituteString(text: string, env: Record<string, string | undefined>, secrets: Set<string>, path: string): string {
  return text.replace(/\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (match, name: string | undefined, fallback: string | undefined) => {
    if (match === "$${") return "${";
    const found = env[name!];
    if (found === undefined || (found === "" && fallback !== undefined)) {
      if (fallback !== undefined) return fallback;
      throw inputError("DYNO_ENV_MISSING", `${path}: environment variable ${name} is not set`, {
        path,
        hint: `set it (export ${name}=..., or \`heroku config:set ${name}=...\` on Heroku), or write \${${name}:-default} for a fallback`,
      });
    }
    if (SECRET_VAR.test(name!) && found.length >= 4) secrets.add(found);
    return found;
  });
}
