import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { inputError } from "@dynosaur/core";

/** Marks a sealed value inside a stored config. */
const PREFIX = "dynosaur-sealed:v1:";
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Encrypts literal secrets at rest with AES-256-GCM: a fresh 96-bit IV per value, the auth
 * tag checked on every open, so a tampered or wrongly keyed value fails loudly instead of
 * turning into garbage that reaches Heroku.
 */
export interface SecretBox {
  seal(plain: string): string;
  open(sealed: string): string;
}

export function isSealed(value: unknown): value is string {
  return typeof value === "string" && value.startsWith(PREFIX);
}

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new Error("an AES-256 key is 32 bytes");
  return {
    seal(plain) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
      return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url");
    },
    open(sealed) {
      const bytes = Buffer.from(sealed.slice(PREFIX.length), "base64url");
      const decipher = createDecipheriv("aes-256-gcm", key, bytes.subarray(0, IV_BYTES));
      decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      try {
        return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
          "utf8",
        );
      } catch {
        throw inputError(
          "DYNO_SECRET_KEY_WRONG",
          "a stored secret cannot be decrypted: DYNOSAUR_SECRET_KEY is not the key it was saved with",
          {
            hint: "restore the DYNOSAUR_SECRET_KEY (or key file) the secret was saved with, or save the secret again",
          },
        );
      }
    },
  };
}

/**
 * The key: DYNOSAUR_SECRET_KEY (64 hex characters are used as they are, as Heroku's
 * app.json `generator: secret` makes; anything else is hashed to 32 bytes), else, for the
 * local SQLite default, a random key kept in `keyFile` (mode 0600, created on first use).
 * Without either (PostgreSQL and no variable), null: literal secrets are then refused.
 */
export function loadSecretKey(env: Record<string, string | undefined>, keyFile: string | null): Buffer | null {
  const fromEnv = env.DYNOSAUR_SECRET_KEY;
  if (fromEnv)
    return /^[0-9a-f]{64}$/i.test(fromEnv)
      ? Buffer.from(fromEnv, "hex")
      : createHash("sha256").update(fromEnv).digest();
  if (keyFile === null) return null;
  try {
    writeFileSync(keyFile, `${randomBytes(32).toString("hex")}\n`, { mode: 0o600, flag: "wx" });
  } catch (e) {
    if ((e as { code?: string }).code !== "EEXIST") throw e;
  }
  // Someone may have loosened it since: a key readable by others is no key.
  if ((statSync(keyFile).mode & 0o077) !== 0) chmodSync(keyFile, 0o600);
  const text = readFileSync(keyFile, "utf8").trim();
  if (!/^[0-9a-f]{64}$/i.test(text))
    throw inputError("DYNO_SECRET_KEY_INVALID", `${keyFile} does not hold a key (64 hex characters)`, {
      hint: "restore it from a backup, or delete it and save the secrets again",
    });
  return Buffer.from(text, "hex");
}
