import { createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { inputError } from "@dynosaur/core";

/** The credentials the JWT flow signs with. */
export interface ServiceAccount {
  clientEmail: string;
  /** A canonical PKCS#1/PKCS#8 PEM string. Never log it or put it in a message. */
  privateKey: string;
}

export interface ServiceAccountOptions {
  client_email?: string | undefined;
  key?: string | undefined;
  key_file?: string | undefined;
}

const KEY_HINT =
  "Use the private_key of the service account's JSON key file, from -----BEGIN PRIVATE KEY----- to -----END PRIVATE KEY-----. " +
  "In an environment variable, newlines may be written as \\n or |.";

/**
 * Reads and checks the service account from `client_email` + `key` or from `key_file`, so a
 * bad key fails at start-up, before any network call. Errors never quote the key or the file.
 */
export function loadServiceAccount(options: ServiceAccountOptions, cwd: string = process.cwd()): ServiceAccount {
  if (options.key !== undefined && options.key_file !== undefined) {
    throw inputError("DYNO_CONFIG_INVALID", "set either key (with client_email) or key_file, not both", {
      path: "key_file",
      hint: "key_file holds both the email and the key; drop key and client_email, or drop key_file.",
    });
  }
  if (options.key_file !== undefined) return fromKeyFile(options.key_file, options.client_email, cwd);
  if (options.key === undefined) {
    throw inputError("DYNO_CONFIG_INVALID", "no service-account credentials: set client_email and key, or key_file", {
      path: "key",
      hint: "Create a JSON key for the service account in Google Cloud (IAM & Admin > Service accounts > Keys); set key_file to its path, or client_email and key to its client_email and private_key (e.g. key: ${GA_PRIVATE_KEY}).",
    });
  }
  if (options.client_email === undefined) {
    throw inputError("DYNO_CONFIG_INVALID", "client_email is required with key", {
      path: "client_email",
      hint: "Set it to the client_email of the service account's JSON key file (name@project.iam.gserviceaccount.com).",
    });
  }
  return { clientEmail: options.client_email, privateKey: checkedPrivateKey(options.key, "key") };
}

function fromKeyFile(keyFile: string, clientEmail: string | undefined, cwd: string): ServiceAccount {
  const path = resolve(cwd, keyFile);
  const bad = (message: string, hint: string) => inputError("DYNO_CONFIG_INVALID", message, { path: "key_file", hint });
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw bad(
      code === "ENOENT" ? `key_file ${path} does not exist` : `cannot read key_file ${path} (${code ?? "error"})`,
      `A relative key_file is resolved from the current directory (${cwd}).`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the text around the error, which may be the private key.
    throw bad(
      `key_file ${path} is not valid JSON`,
      "Download the service account's key again as JSON (IAM & Admin > Service accounts > Keys > Add key).",
    );
  }
  const file = (typeof json === "object" && json !== null ? json : {}) as Record<string, unknown>;
  if (file.type !== "service_account") {
    throw bad(
      `key_file ${path} is ${typeof file.type === "string" ? `a "${file.type}" credential` : "not a credential file"}, not a service-account key`,
      'Use a JSON key of a service account: its "type" is "service_account".',
    );
  }
  if (typeof file.client_email !== "string" || typeof file.private_key !== "string") {
    throw bad(
      `key_file ${path} has no client_email or private_key`,
      "Download the service account's key again as JSON.",
    );
  }
  if (clientEmail !== undefined && clientEmail !== file.client_email) {
    throw inputError(
      "DYNO_CONFIG_INVALID",
      `client_email ${clientEmail} differs from the client_email in key_file (${file.client_email})`,
      {
        path: "client_email",
        hint: "Remove client_email: key_file already names the account.",
      },
    );
  }
  return { clientEmail: file.client_email, privateKey: checkedPrivateKey(file.private_key, "key_file") };
}

/**
 * Rebuilds a PEM whose newlines were flattened on the way (to `\n`, `|`, spaces or CRLF, as
 * environment variables and web forms do) and checks that it is an RSA private key, which
 * RS256 needs.
 */
export function checkedPrivateKey(raw: string, path: "key" | "key_file"): string {
  const fail = (message: string, hint = KEY_HINT) => inputError("DYNO_CONFIG_INVALID", message, { path, hint });
  if (raw.trim().startsWith("{")) {
    throw fail(
      `${path} is not a PEM private key (it looks like a whole JSON key file)`,
      "Set key_file to the JSON file's path, or key to its private_key only.",
    );
  }
  const pem = normalizePem(raw);
  if (!pem) throw fail(`${path} is not a PEM private key`);
  if (!/PRIVATE KEY-----$/.test(pem.split("\n")[0] ?? "")) {
    throw fail(`${path} is a PEM ${pem.slice(11, pem.indexOf("-----", 11)).toLowerCase()}, not a private key`);
  }
  let type: string | undefined;
  try {
    type = createPrivateKey({ key: pem, format: "pem" }).asymmetricKeyType;
  } catch {
    throw fail(
      pem.startsWith("-----BEGIN ENCRYPTED")
        ? `${path} is an encrypted private key`
        : `${path} is not a valid PEM private key (it does not parse)`,
      pem.startsWith("-----BEGIN ENCRYPTED")
        ? "Google's service-account keys are not encrypted: use the private_key from the JSON key file as is."
        : KEY_HINT,
    );
  }
  if (type !== "rsa") throw fail(`${path} is an ${type ?? "unknown"} key; Google service-account keys are RSA (RS256)`);
  return pem;
}

/** A canonical PEM (64-character lines), or undefined when `raw` holds no PEM block. */
export function normalizePem(raw: string): string | undefined {
  const text = raw.trim().replace(/^["']|["']$/g, "");
  const block = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/.exec(text);
  const [, label, rawBody] = block ?? [];
  if (label === undefined || rawBody === undefined) return undefined;
  const body = rawBody.replace(/\\r|\\n|\||\s/g, "");
  if (body.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(body)) return undefined;
  const lines = body.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
