import type { Clock, Logger } from "@dynosaur/core";
import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { LoginLimiter } from "../login-limiter.js";
import { hashPassword, randomToken, safeEqual, sha256, verifyPassword } from "../passwords.js";
import type { AuthStore } from "../store/auth.js";
import { fail } from "./answers.js";
import type { Env, Principal } from "./routes.js";

export const SESSION_COOKIE = "dynosaur_session";
const SESSION_MS = 7 * 24 * 3_600_000;
const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export interface AuthDeps {
  store: AuthStore;
  clock: Clock;
  limiter: LoginLimiter;
  /** DYNOSAUR_API_TOKEN: a token for automation that needs no database row. */
  bootstrapToken?: string;
  logger: Logger;
}

/**
 * Who is asking: a Bearer token (an API token, or DYNOSAUR_API_TOKEN) or a session cookie.
 * A state change made with a cookie must carry the session's CSRF token in X-CSRF-Token
 * (synchronizer token): a page of another site can make the browser send the cookie, but
 * cannot read the token. Bearer requests carry no ambient credential, so need none.
 */
export function authenticate(deps: AuthDeps): MiddlewareHandler<Env> {
  const bootstrap = deps.bootstrapToken ? sha256(deps.bootstrapToken) : null;
  return async (c, next) => {
    c.set("principal", null);
    const header = c.req.header("authorization");
    if (header !== undefined) {
      const [, sent] = /^Bearer\s+(\S+)$/i.exec(header) ?? [];
      if (sent === undefined)
        return fail(c, 401, "DYNO_UNAUTHENTICATED", "the Authorization header must be `Bearer <token>`");
      const hash = sha256(sent);
      if (bootstrap && safeEqual(hash, bootstrap)) {
        c.set("principal", { name: "token:DYNOSAUR_API_TOKEN", admin: true, via: "token" });
      } else {
        const token = await deps.store.useToken(hash, deps.clock.now());
        if (!token) return fail(c, 401, "DYNO_UNAUTHENTICATED", "unknown or revoked API token");
        c.set("principal", { name: `token:${token.name}`, admin: true, via: "token" });
      }
      return next();
    }
    const cookie = getCookie(c, SESSION_COOKIE);
    if (cookie) {
      const idHash = sha256(cookie);
      const session = await deps.store.session(idHash, deps.clock.now());
      if (session) {
        const principal: Principal = {
          name: session.userName,
          admin: session.isAdmin,
          via: "session",
          session: idHash,
          csrfToken: session.csrfToken,
        };
        if (UNSAFE.has(c.req.method) && !c.req.path.startsWith("/api/login")) {
          const sent = c.req.header("x-csrf-token");
          if (!sent || !safeEqual(sent, session.csrfToken))
            return fail(c, 403, "DYNO_CSRF", "missing or wrong X-CSRF-Token header (GET /api/session gives it)");
        }
        c.set("principal", principal);
      }
    }
    return next();
  };
}

/**
 * Logs in with a password; rate-limited per user name and client address together: failures
 * from one address never lock the user out of another (per user name alone, anyone could lock
 * the only admin out).
 */
export async function login(
  c: Context<Env>,
  deps: AuthDeps,
  input: { username: string; password: string },
  client: string,
): Promise<Response> {
  const keys = [`${client} ${input.username}`];
  const wait = deps.limiter.retryAfter(keys);
  if (wait > 0) {
    const minutes = Math.ceil(wait / 60_000);
    c.header("Retry-After", String(Math.ceil(wait / 1000)));
    return fail(
      c,
      429,
      "DYNO_RATE_LIMITED",
      `too many failed logins from this address: try again in ${minutes === 1 ? "a minute" : `${minutes} minutes`}`,
    );
  }
  const user = await deps.store.user(input.username);
  // Hash even for an unknown user, so the answer's timing does not tell which names exist.
  let ok = false;
  if (user) ok = await verifyPassword(input.password, user.passwordHash);
  else await hashPassword(input.password);
  if (!user || !ok) {
    deps.limiter.fail(keys);
    deps.logger.warn(`failed login for user ${JSON.stringify(input.username.slice(0, 64))} from ${client}`, {
      event: "login-failed",
    });
    return fail(c, 401, "DYNO_LOGIN_FAILED", "wrong user name or password");
  }
  deps.limiter.succeed(keys);
  const id = randomToken();
  const csrf = randomToken();
  const now = deps.clock.now();
  await deps.store.createSession(sha256(id), user.id, csrf, now, now + SESSION_MS);
  setCookie(c, SESSION_COOKIE, id, {
    httpOnly: true,
    sameSite: "Lax",
    secure: isHttps(c),
    path: "/",
    maxAge: SESSION_MS / 1000,
  });
  return c.json({ user: user.name, admin: user.isAdmin, csrf_token: csrf });
}

export async function logout(c: Context<Env>, deps: AuthDeps, principal: Principal): Promise<Response> {
  if (principal.session) await deps.store.deleteSession(principal.session);
  deleteCookie(c, SESSION_COOKIE, { path: "/", secure: isHttps(c), httpOnly: true, sameSite: "Lax" });
  return c.json({ ok: true });
}

/** Behind Heroku's router the dyno sees plain HTTP; the router says what the browser used. */
export function isHttps(c: Context): boolean {
  return (
    c.req.header("x-forwarded-proto")?.split(",")[0]?.trim() === "https" || new URL(c.req.url).protocol === "https:"
  );
}

/** Sets up the first admin from DYNOSAUR_ADMIN_PASSWORD (and resets it when the variable changes). */
export async function ensureAdmin(
  store: AuthStore,
  password: string | undefined,
  clock: Clock,
  logger: Logger,
): Promise<void> {
  if (!password) {
    if (!(await store.user("admin")))
      logger.warn(
        "no admin yet: set DYNOSAUR_ADMIN_PASSWORD to log in to the pages (the API takes DYNOSAUR_API_TOKEN)",
        { event: "no-admin" },
      );
    return;
  }
  const existing = await store.user("admin");
  if (existing && (await verifyPassword(password, existing.passwordHash))) return;
  await store.upsertUser("admin", await hashPassword(password), true, clock.now());
  logger.info(
    existing ? "admin password reset from DYNOSAUR_ADMIN_PASSWORD" : "admin user created from DYNOSAUR_ADMIN_PASSWORD",
    { event: "admin" },
  );
}

export { randomToken, sha256 };
