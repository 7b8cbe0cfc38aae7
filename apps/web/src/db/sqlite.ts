import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import type { SqliteDatabase, SqliteStatement } from "kysely";

/*
 * Kysely's own SqliteDialect, fed Node's built-in node:sqlite through this adapter. The
 * dialect packages that wrap node:sqlite pin an older Kysely and add a mutex dependency;
 * the interface Kysely needs (prepare → all/run/iterate, plus `reader`) is four methods,
 * which node:sqlite's StatementSync has under other names. Nothing to compile, nothing to
 * install: the embedded default really is embedded.
 */

export interface OpenSqliteOptions {
  /** Milliseconds a writer waits for another connection's lock (import/export while serving). */
  busyTimeoutMs?: number;
}

export function openSqlite(
  file: string,
  options: OpenSqliteOptions = {},
): { database: SqliteDatabase; raw: DatabaseSync } {
  const raw = new DatabaseSync(file, { timeout: options.busyTimeoutMs ?? 5000, enableForeignKeyConstraints: true });
  // WAL: readers never wait for the writer, and a crash loses at most the last commit.
  raw.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
  const database: SqliteDatabase = {
    close: () => raw.close(),
    prepare(text: string): SqliteStatement {
      const statement = raw.prepare(text);
      return {
        reader: statement.columns().length > 0,
        all: (parameters) => statement.all(...toInputs(parameters)),
        run: (parameters) => statement.run(...toInputs(parameters)),
        iterate: (parameters) => statement.iterate(...toInputs(parameters)),
      };
    },
  };
  return { database, raw };
}

/** node:sqlite binds numbers, bigints, strings, null and bytes; Kysely may hand a boolean. */
function toInputs(parameters: ReadonlyArray<unknown>): SQLInputValue[] {
  return parameters.map((p) => (typeof p === "boolean" ? (p ? 1 : 0) : (p as SQLInputValue)));
}
