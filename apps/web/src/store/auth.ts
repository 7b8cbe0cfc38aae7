import type { Kysely } from "kysely";
import type { Database } from "../db/schema.js";

export interface UserRow {
  id: number;
  name: string;
  passwordHash: string;
  isAdmin: boolean;
}

export interface SessionRow {
  userId: number;
  userName: string;
  isAdmin: boolean;
  csrfToken: string;
  expiresAt: number;
}

export interface TokenRow {
  id: number;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
  expiresAt: number | null;
}

const toToken = (r: {
  id: number;
  name: string;
  created_at: number;
  last_used_at: number | null;
  expires_at: number | null;
}): TokenRow => ({
  id: r.id,
  name: r.name,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  expiresAt: r.expires_at,
});

/** Users, sessions and API tokens. Sessions and tokens are found by the SHA-256 of their value only. */
export class AuthStore {
  constructor(private readonly db: Kysely<Database>) {}

  async user(name: string): Promise<UserRow | null> {
    const r = await this.db
      .selectFrom("users")
      .select(["id", "name", "password_hash", "is_admin"])
      .where("name", "=", name)
      .executeTakeFirst();
    return r ? { id: r.id, name: r.name, passwordHash: r.password_hash, isAdmin: r.is_admin === 1 } : null;
  }

  /** Whether any user exists (none before the first start with DYNOSAUR_ADMIN_PASSWORD). */
  async hasUsers(): Promise<boolean> {
    return (await this.db.selectFrom("users").select("id").limit(1).executeTakeFirst()) !== undefined;
  }

  /**
   * Creates the user, or sets its password; a password change ends every session of the
   * user (in the same transaction), so a cookie taken before the change opens nothing after.
   */
  async upsertUser(name: string, passwordHash: string, isAdmin: boolean, now: number): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      const row = await tx
        .insertInto("users")
        .values({ name, password_hash: passwordHash, is_admin: isAdmin ? 1 : 0, created_at: now })
        .onConflict((oc) => oc.column("name").doUpdateSet({ password_hash: passwordHash }))
        .returning("id")
        .executeTakeFirstOrThrow();
      await tx.deleteFrom("sessions").where("user_id", "=", row.id).execute();
    });
  }

  /** Ends every session of a user ("log out everywhere"); how many there were. */
  async deleteSessionsOf(userId: number): Promise<number> {
    const r = await this.db.deleteFrom("sessions").where("user_id", "=", userId).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async createSession(
    idHash: string,
    userId: number,
    csrfToken: string,
    now: number,
    expiresAt: number,
  ): Promise<void> {
    await this.db
      .insertInto("sessions")
      .values({ id_hash: idHash, user_id: userId, csrf_token: csrfToken, created_at: now, expires_at: expiresAt })
      .execute();
  }

  async session(idHash: string, now: number): Promise<SessionRow | null> {
    const r = await this.db
      .selectFrom("sessions")
      .innerJoin("users", "users.id", "sessions.user_id")
      .select(["sessions.user_id", "users.name", "users.is_admin", "sessions.csrf_token", "sessions.expires_at"])
      .where("sessions.id_hash", "=", idHash)
      .where("sessions.expires_at", ">", now)
      .executeTakeFirst();
    return r
      ? {
          userId: r.user_id,
          userName: r.name,
          isAdmin: r.is_admin === 1,
          csrfToken: r.csrf_token,
          expiresAt: r.expires_at,
        }
      : null;
  }

  async deleteSession(idHash: string): Promise<void> {
    await this.db.deleteFrom("sessions").where("id_hash", "=", idHash).execute();
  }

  async createToken(
    name: string,
    tokenHash: string,
    createdBy: number | null,
    now: number,
    expiresAt: number | null = null,
  ): Promise<TokenRow> {
    const r = await this.db
      .insertInto("api_tokens")
      .values({ name, token_hash: tokenHash, created_by: createdBy, created_at: now, expires_at: expiresAt })
      .returning(["id", "name", "created_at", "expires_at"])
      .executeTakeFirstOrThrow();
    return { id: r.id, name: r.name, createdAt: r.created_at, lastUsedAt: null, expiresAt: r.expires_at };
  }

  async tokens(): Promise<TokenRow[]> {
    const rows = await this.db
      .selectFrom("api_tokens")
      .select(["id", "name", "created_at", "last_used_at", "expires_at"])
      .orderBy("id")
      .execute();
    return rows.map(toToken);
  }

  /** The token with this hash, marking it used; null when unknown or expired. */
  async useToken(tokenHash: string, now: number): Promise<TokenRow | null> {
    const r = await this.db
      .updateTable("api_tokens")
      .set({ last_used_at: now })
      .where("token_hash", "=", tokenHash)
      .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", now)]))
      .returning(["id", "name", "created_at", "last_used_at", "expires_at"])
      .executeTakeFirst();
    return r ? toToken(r) : null;
  }

  async deleteToken(id: number): Promise<boolean> {
    const r = await this.db.deleteFrom("api_tokens").where("id", "=", id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async pruneSessions(now: number): Promise<number> {
    const r = await this.db.deleteFrom("sessions").where("expires_at", "<=", now).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
