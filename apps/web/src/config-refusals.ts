import type { ConfigProblem } from "./config-check.js";
import { type ConfigTree, getAt, pathText, type Segment } from "./secrets.js";

/*
 * What dynosaur-web refuses in a config that the CLI would take: references to the server's own
 * variables, the file stats reporter, fallbacks in secret fields. Each is a problem at its path.
 */

/**
 * The server's own secrets (DATABASE_URL, DYNOSAUR_SECRET_KEY, DYNOSAUR_ADMIN_PASSWORD,
 * DYNOSAUR_API_TOKEN...): a config may not reference them, nor does core read them as defaults. `${VAR}` is resolved from the
 * server's environment wherever it is written, so `heroku_api_url: https://host/?k=${DATABASE_URL}`
 * would send the database's password to any host a user chooses.
 */
const SERVER_VARIABLE = /^(DYNOSAUR_\w*(KEY|TOKEN|PASSWORD|SECRET)|DATABASE_URL)$/;

/** The environment configs are resolved from: the server's own variables left out. */
export function configEnv(env: Record<string, string | undefined>): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !SERVER_VARIABLE.test(name)));
}

/**
 * `stats: [{type: file}]` appends to a path of the config's choosing: on a server, any file the
 * server's user may write. Refused here (ticks are stored, and `console`/`otlp` report them).
 */
export function fileReporters(raw: unknown): ConfigProblem[] {
  const stats = raw && typeof raw === "object" ? (raw as ConfigTree).stats : undefined;
  if (!Array.isArray(stats)) return [];
  return stats.flatMap((entry, i) =>
    entry && typeof entry === "object" && (entry as ConfigTree).type === "file"
      ? [
          {
            path: `stats[${i}].type`,
            message: "the file reporter writes to the server's disk, which dynosaur-web does not allow",
            hint: "remove this entry: every tick is stored by the server already (GET /api/apps/{name}/ticks); use console or otlp to send them on",
            code: "DYNO_CONFIG_INVALID" as const,
          },
        ]
      : [],
  );
}

/** References to the server's own variables, each refused at its path. */
export function serverSecretReferences(raw: unknown): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const walk = (value: unknown, path: Segment[]) => {
    if (typeof value === "string") {
      for (const [, name] of value.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g))
        if (name !== undefined && SERVER_VARIABLE.test(name))
          problems.push({
            path: pathText(path),
            message: `\${${name}} is one of dynosaur-web's own variables, which configs may not read`,
            hint: "set the value this config needs in a variable of its own (e.g. heroku config:set MY_VALUE=...) and reference that",
            code: "DYNO_CONFIG_INVALID",
          });
    } else if (Array.isArray(value)) for (const [i, v] of value.entries()) walk(v, [...path, i]);
    else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
  };
  walk(raw, []);
  return problems;
}

/** `${VAR:-fallback}` with a fallback: what a secret field may not hold. */
const FALLBACK = /\$\{([A-Za-z_][A-Za-z0-9_]*):-[^}]+\}/;

/**
 * A `${VAR}` reference is stored as written, so a fallback in a secret field would be a secret
 * stored (and shown) in clear text: refused at its path, never quoting the fallback.
 */
export function secretFallbacks(config: ConfigTree, paths: readonly Segment[][]): ConfigProblem[] {
  return paths.flatMap((path) => {
    const value = getAt(config, path);
    const name = typeof value === "string" ? FALLBACK.exec(value)?.[1] : undefined;
    if (name === undefined) return [];
    return [
      {
        path: pathText(path),
        message: `a fallback in a secret (\${${name}:-...}) would be stored in clear text`,
        hint: `set the variable ${name}, or type the secret itself, which is encrypted`,
        code: "DYNO_CONFIG_INVALID" as const,
      },
    ];
  });
}

/**
 * Core's hint for an unset variable offers `${VAR:-default}`: at a secret field that default
 * would be a secret in clear text, so the hint there says what to do instead.
 */
export function forSecrets(
  errors: ConfigProblem[],
  paths: readonly Segment[][],
  config: ConfigTree,
  env: Record<string, string | undefined>,
): ConfigProblem[] {
  const secret = new Map(paths.map((p) => [pathText(p), p]));
  return errors.map((e) => {
    const path = secret.get(e.path);
    if (e.code !== "DYNO_ENV_MISSING" || path === undefined) return e;
    // The variable is read from the field as written, not from the message.
    const value = getAt(config, path);
    const name = typeof value === "string" ? unsetVariables(value, env)[0] : undefined;
    if (name === undefined) return e;
    return {
      ...e,
      hint: `set ${name} where this server runs (\`heroku config:set ${name}=...\` on Heroku), or type the secret itself, which is encrypted`,
    };
  });
}

/** The `${VAR}`s in `text` (those without a fallback) that `env` does not set. */
function unsetVariables(text: string, env: Record<string, string | undefined>): string[] {
  return [...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].flatMap(([, name]) =>
    name !== undefined && env[name] === undefined ? [name] : [],
  );
}
