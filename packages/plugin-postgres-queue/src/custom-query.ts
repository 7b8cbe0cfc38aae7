import { inputError, PluginError, type Reading } from "@dynosaur/core";

/** AST keys that mean a statement writes or locks, wherever they appear in it. */
const WRITES: Record<string, string> = {
  InsertStmt: "an INSERT",
  UpdateStmt: "an UPDATE",
  DeleteStmt: "a DELETE",
  MergeStmt: "a MERGE",
  intoClause: "SELECT INTO (it creates a table)",
  lockingClause: "FOR UPDATE/SHARE (it locks rows)",
};
// Advisory locks are allowed even in a read-only transaction, and a session-level one would
// outlive the poll on our connection.
const LOCK_FUNCTION = /^pg_(try_)?advisory_/i;

const HINT =
  "write one SELECT (or WITH ... SELECT) returning one row with a number column `value` and optionally `busy`, e.g. SELECT count(*) AS value FROM jobs WHERE done_at IS NULL";

/**
 * Checks with PostgreSQL's own parser (libpg-query) that `query` is one read-only SELECT and
 * returns its text without a trailing semicolon. The query still runs in a READ ONLY
 * transaction: this check is for a clear message at start-up, not the only guard.
 */
export async function checkReadOnlyQuery(query: string): Promise<string> {
  // The parser is a WebAssembly build of PostgreSQL's: loaded only by the `sql` type.
  const { parse } = await import("libpg-query");
  let result: Awaited<ReturnType<typeof parse>>;
  try {
    result = await parse(query);
  } catch (e) {
    const position = (e as { sqlDetails?: { cursorPosition?: number } }).sqlDetails?.cursorPosition;
    throw refuse(
      `${e instanceof Error ? e.message : String(e)}${typeof position === "number" ? ` (at character ${position + 1})` : ""}`,
    );
  }
  const statements = result.stmts ?? [];
  if (statements.length !== 1)
    throw refuse(statements.length === 0 ? "it is empty" : `it has ${statements.length} statements; one is allowed`);
  const [entry] = statements as [{ stmt?: Record<string, unknown>; stmt_location?: number; stmt_len?: number }];
  const kind = Object.keys(entry.stmt ?? {})[0] ?? "nothing";
  if (kind !== "SelectStmt") throw refuse(`it is ${kind.replace(/Stmt$/, "").toUpperCase()}, not a SELECT`);
  const problem = findWrite(entry.stmt);
  if (problem) throw refuse(`it contains ${problem}`);
  const start = entry.stmt_location ?? 0;
  return query.slice(start, entry.stmt_len ? start + entry.stmt_len : undefined);
}

function refuse(why: string) {
  return inputError("DYNO_CONFIG_INVALID", `query: not a single read-only SELECT: ${why}`, {
    path: "query",
    hint: HINT,
  });
}

function findWrite(node: unknown): string | undefined {
  if (Array.isArray(node)) {
    for (const item of node) {
      const found = findWrite(item);
      if (found) return found;
    }
    return undefined;
  }
  if (typeof node !== "object" || node === null) return undefined;
  for (const [key, value] of Object.entries(node)) {
    if (key in WRITES && value !== undefined && value !== null) return WRITES[key];
    if (key === "FuncCall") {
      const name = functionName(value);
      if (name && LOCK_FUNCTION.test(name)) return `${name}() (it takes an advisory lock)`;
    }
    const found = findWrite(value);
    if (found) return found;
  }
  return undefined;
}

function functionName(call: unknown): string | undefined {
  const parts = (call as { funcname?: { String?: { sval?: string } }[] }).funcname;
  return Array.isArray(parts) ? parts.at(-1)?.String?.sval : undefined;
}

/** The reading in the row the query returned: `value`, and `busy` when it has one. */
export function readingFromRows(rows: Record<string, unknown>[]): Reading {
  const [row, ...more] = rows;
  if (!row || more.length > 0) {
    throw new PluginError(`the query returned ${rows.length} rows; expected exactly one`, {
      hint: "aggregate to one row (count(*), max(...)) and leave out GROUP BY",
    });
  }
  if (!("value" in row)) {
    throw new PluginError(
      `the query returned the columns ${Object.keys(row).join(", ") || "(none)"}, but no column named value`,
      {
        hint: "name the number column: SELECT count(*) AS value ...",
      },
    );
  }
  const value = toNumber(row.value, "value");
  return "busy" in row ? { value, busy: toNumber(row.busy, "busy") } : { value };
}

function toNumber(raw: unknown, column: string): number {
  // pg returns bigint and numeric as strings, so that no precision is lost; ours fit a double.
  const value = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : raw;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new PluginError(
      `the query returned ${raw === null ? "NULL" : JSON.stringify(raw)} for ${column}; expected a number >= 0`,
      {
        hint:
          raw === null
            ? `wrap it in COALESCE(..., 0): an empty queue must read 0`
            : `make ${column} a count or a number of seconds`,
      },
    );
  }
  return value;
}
