import { createHash, randomBytes, scrypt, timingSafeEqual } from "node:crypto";

/*
 * Passwords: scrypt from node:crypto (memory-hard, built in, nothing to compile), with one
 * of OWASP's equivalent minimums (N = 2^14, r = 8, p = 5: 16 MiB, not the 128 MiB of
 * N = 2^17, which a small dyno cannot spare) and a 16-byte salt. The parameters are stored
 * with the hash, so they can be raised later without breaking old hashes.
 */
const N = 2 ** 14;
const R = 8;
const P = 5;
const KEY_BYTES = 32;

/**
 * At most this many hashes run at once, and at most `QUEUE` wait: each costs 16 MiB and tens
 * of milliseconds of a core, so a flood of logins (unknown names included) must not take the
 * dyno's memory or the libuv pool the engines need. Past the queue, `HashingBusy`.
 */
const CONCURRENT = 2;
const QUEUE = 32;
let running = 0;
let peak = 0;
const waiting: (() => void)[] = [];

/** Too many password hashes are running or waiting: the caller answers 429/503, nothing was checked. */
export class HashingBusy extends Error {
  constructor() {
    super("too many logins are being checked right now");
  }
}

/** The most hashes that ever ran at once in this process (what the cap bounds). */
export function hashingPeak(): number {
  return peak;
}

async function gated<T>(work: () => Promise<T>): Promise<T> {
  if (running >= CONCURRENT) {
    if (waiting.length >= QUEUE) throw new HashingBusy();
    // The finishing hash hands its slot over: `running` stays counted for this one.
    await new Promise<void>((resolve) => waiting.push(resolve));
  } else running++;
  peak = Math.max(peak, running);
  try {
    return await work();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running--;
  }
}

function derive(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return gated(() => deriveNow(password, salt, n, r, p));
}

function deriveNow(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize("NFC"), salt, KEY_BYTES, { N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 }, (e, key) =>
      e ? reject(e) : resolve(key),
    ),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString("base64url")}$${key.toString("base64url")}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = stored.split("$");
  if (scheme !== "scrypt" || !n || !r || !p || !salt || !key) return false;
  const expected = Buffer.from(key, "base64url");
  const actual = await derive(password, Buffer.from(salt, "base64url"), Number(n), Number(r), Number(p));
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Sessions and API tokens are stored as this hash: the database alone opens nothing. */
export function sha256(value: string): string {
  return createHash("sha256").update(value).digest("hex");
}

/** A random, URL-safe secret of 256 bits. */
export function randomToken(prefix = ""): string {
  return prefix + randomBytes(32).toString("base64url");
}

/** Compares two strings in time independent of where they differ. */
export function safeEqual(a: string, b: string): boolean {
  const x = createHash("sha256").update(a).digest();
  const y = createHash("sha256").update(b).digest();
  return timingSafeEqual(x, y) && a.length === b.length;
}
