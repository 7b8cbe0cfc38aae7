import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import type { SqliteDatabase, SqliteStatement } from "kysely";

/*
 * Kysely's own SqliteDialect, fed Node's built-in node:sqlite through this adapter. The
 * dialect packages that wrap node:sqlite pin an older Kysely and add a mutex dependency;
 * the interface Kysely needs (prepare → all/run/iterate, plus `reader`) is four methods,
 * which node:sqlite's StatementSync has under other names. Nothing to compile, nothing to
 * install: the embedded default really is embedded.
 */

const PREPARED_CAP = 500;

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
  // Kysely prepares every query it runs; the server runs the same few hundred texts (each tick's
  // writes, each page of the overview), so each is compiled once. Oldest dropped past the cap.
  const prepared = new Map<string, { statement: StatementSync; reader: boolean }>();
  const database: SqliteDatabase = {
    close: () => {
      prepared.clear();
      raw.close();
    },
    prepare(text: string): SqliteStatement {
      let entry = prepared.get(text);
      if (!entry) {
        const statement = raw.prepare(text);
        entry = { statement, reader: statement.columns().length > 0 };
        if (prepared.size >= PREPARED_CAP) prepared.delete(prepared.keys().next().value as string);
        prepared.set(text, entry);
      }
      const { statement, reader } = entry;
      return {
        reader,
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
