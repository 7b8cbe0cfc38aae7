import { DatabaseSync } from "node:sqlite";
import { inputError } from "@dynosaur/core";

/**
 * SQLite serves one dynosaur-web process: two would both scale every app. The first one
 * holds an exclusive SQLite lock on `<db>.lock` for as long as it lives (the OS drops it
 * when the process dies, even by SIGKILL), so a second one is refused at once. The database
 * itself stays open to `dynosaur-web import` and `export` meanwhile.
 */
export function holdSqliteLock(dbFile: string, holder: () => string | null): { release(): void } {
  const file = `${dbFile}.lock`;
  const lock = new DatabaseSync(file, { timeout: 0 });
  try {
    // The lock file holds no data: its journal may live in memory, leaving no -journal file behind.
    lock.exec("PRAGMA journal_mode = MEMORY; PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE;");
  } catch (e) {
    lock.close();
    if ((e as { errcode?: number }).errcode !== 5) throw e;
    const who = holder();
    throw inputError(
      "DYNO_DB_IN_USE",
      `another dynosaur-web process${who ? ` (${who})` : ""} is serving ${dbFile}: with SQLite only one process may run`,
      {
        hint: "stop the other one, or point this one at another file with --db; to run several processes, use PostgreSQL (DATABASE_URL)",
      },
    );
  }
  return {
    release: () => {
      try {
        lock.exec("ROLLBACK");
      } finally {
        lock.close();
      }
    },
  };
}
