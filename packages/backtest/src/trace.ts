import { readFile } from "node:fs/promises";
import { inputError, must } from "@dynosaur/core";

/** One value column of a trace: what one source would have read, row by row. */
export interface TraceColumn {
  /** The header's name for it: `value`, or the name of the source it feeds. */
  name: string;
  values: Float64Array;
}

/**
 * A recorded load at a fixed step. Row `i` covers the period
 * `[start + i * step, start + (i + 1) * step)`; its value is what a source reading at the
 * end of that period would have returned.
 */
export interface Trace {
  /** Where it came from, for messages (a path, or a label for in-memory traces). */
  file: string;
  /** Milliseconds between two rows. */
  stepMs: number;
  /**
   * Time of the first row (ms since the epoch) for a `time,...` trace; null for a
   * `minute,...` trace, whose rows are only numbered.
   */
  start: number | null;
  /** Number of rows. */
  length: number;
  /** The value columns, in header order (never empty). */
  columns: TraceColumn[];
}

const HINT =
  "a trace is CSV with a header `minute,value` (minute 0, 1, 2, ...) or `time,value` (ISO times at a fixed step), one row per step";

/** Reads and parses a trace file (see `parseTrace`); `name` is how messages call it. */
export async function readTrace(path: string, name = path): Promise<Trace> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw inputError(
      "DYNO_TRACE_NOT_FOUND",
      code === "ENOENT" ? `trace file ${name} does not exist` : `cannot read trace file ${name} (${code ?? String(e)})`,
      {
        hint: "pass a CSV with --trace, e.g. --trace examples/traces/aws-elb-requests.csv",
      },
    );
  }
  return parseTrace(text, name);
}

/**
 * Parses trace CSV. The header's first column is `minute` (consecutive whole numbers) or
 * `time` (ISO 8601 times, UTC unless they carry an offset, at a fixed step); every other
 * column holds numbers >= 0. Blank lines are skipped and `\r\n` line ends accepted. Any
 * problem is a `DYNO_TRACE_INVALID` input error naming `<file>:<line>`.
 */
export function parseTrace(text: string, file = "trace"): Trace {
  const lines = text.replace(/^\uFEFF/, "").split("\n");
  const fail = (line: number, message: string, hint = HINT) =>
    inputError("DYNO_TRACE_INVALID", `${file}:${line}: ${message}`, { hint });

  const headerIndex = lines.findIndex((line) => !isBlank(line));
  const headerText = lines[headerIndex];
  if (headerText === undefined) throw inputError("DYNO_TRACE_INVALID", `${file}: the trace is empty`, { hint: HINT });
  const headerLine = headerIndex + 1;
  const header = splitFields(headerText, headerLine, fail).map((h) => h.trim());
  const kind = header[0]?.toLowerCase();
  if (kind !== "minute" && kind !== "time") {
    const looksLikeData = header[0] !== undefined && header[0] !== "" && !Number.isNaN(Number(header[0]));
    throw fail(
      headerLine,
      looksLikeData
        ? "missing header: the first line holds data"
        : `the first column must be "minute" or "time", not "${header[0] ?? ""}"`,
    );
  }
  if (header.length < 2) throw fail(headerLine, `the header names no value column (expected e.g. \`${kind},value\`)`);
  const names = header.slice(1);
  names.forEach((name, k) => {
    if (name === "") throw fail(headerLine, `column ${k + 2} has no name`);
    if (names.indexOf(name) !== k) throw fail(headerLine, `column "${name}" appears twice`);
  });

  const columns = names.map((name) => ({ name, values: [] as number[] }));
  let length = 0;
  let first: number | null = null;
  let previous: { at: number; line: number } | null = null;
  let stepMs: number | null = null;
  let stepLine = 0;

  for (const [index, raw] of lines.entries()) {
    if (index <= headerIndex || isBlank(raw)) continue;
    const line = index + 1;
    const fields = splitFields(raw, line, fail);
    if (fields.length !== header.length) {
      throw fail(line, `expected ${header.length} fields (${header.join(",")}), found ${fields.length}`);
    }
    const key = must(fields[0], "a row's first field").trim();
    const at = kind === "minute" ? parseMinute(key, line, fail) : parseTime(key, line, fail);
    if (previous === null) {
      first = at;
    } else if (kind === "minute") {
      if (at !== previous.at + 1)
        throw fail(
          line,
          `minute ${at} follows minute ${previous.at}: minutes must go up by 1 with no gaps`,
          "fill each missing minute (e.g. by interpolation) or cut the trace there",
        );
    } else {
      const gap = at - previous.at;
      if (gap <= 0)
        throw fail(
          line,
          `time ${key} is not after the previous row's (line ${previous.line})`,
          "sort the rows by time and remove duplicates",
        );
      if (stepMs === null) {
        stepMs = gap;
        stepLine = line;
      } else if (gap !== stepMs) {
        throw fail(
          line,
          `time ${key} is ${seconds(gap)} after the previous row, but the trace's step is ${seconds(stepMs)} (set by line ${stepLine})`,
          "times must be at a fixed step: fill gaps (e.g. by interpolation) or resample the trace",
        );
      }
    }
    // The row has as many fields as the header: the key, then one per column.
    for (const [c, column] of columns.entries()) {
      const cell = must(fields[c + 1], "a row's field").trim();
      const value = cell === "" ? Number.NaN : Number(cell);
      if (!Number.isFinite(value))
        throw fail(line, `${column.name} ${cell === "" ? "is empty" : `"${cell.slice(0, 40)}" is not a number`}`);
      if (value < 0) throw fail(line, `${column.name} ${cell} is negative: a load is never below 0`);
      column.values.push(value);
    }
    length++;
    previous = { at, line };
  }

  if (length === 0) throw fail(headerLine, "the trace has a header but no rows");
  const step = kind === "minute" ? 60_000 : stepMs;
  if (step === null)
    throw fail(
      headerLine,
      "a `time` trace needs at least two rows to know its step",
      "add rows, or use `minute,value` for a single row",
    );
  return {
    file,
    stepMs: step,
    start: kind === "minute" ? null : first,
    length,
    columns: columns.map(({ name, values }) => ({ name, values: Float64Array.from(values) })),
  };
}

function isBlank(line: string): boolean {
  return line.trim() === "";
}

/** Splits one CSV line: commas, with optional double quotes (`""` inside quotes is a quote). */
function splitFields(line: string, lineNo: number, fail: (line: number, message: string) => Error): string[] {
  const text = line.endsWith("\r") ? line.slice(0, -1) : line;
  if (!text.includes('"')) return text.split(",");
  const fields: string[] = [];
  let field = "";
  let quoted = false;
  for (let k = 0; k < text.length; k++) {
    const ch = text.charAt(k);
    if (quoted) {
      if (ch === '"' && text[k + 1] === '"') {
        field += '"';
        k++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      fields.push(field);
      field = "";
    } else field += ch;
  }
  if (quoted) throw fail(lineNo, "a quoted field is not closed");
  fields.push(field);
  return fields;
}

function parseMinute(text: string, line: number, fail: (line: number, message: string) => Error): number {
  if (!/^\d+$/.test(text)) throw fail(line, `minute "${text.slice(0, 40)}" is not a whole number >= 0`);
  return Number(text);
}

// Date.parse alone accepts far too much (and reads zone-less times as local time).
const ISO = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}:?\d{2})?$/i;

function parseTime(text: string, line: number, fail: (line: number, message: string, hint?: string) => Error): number {
  const m = ISO.exec(text);
  const zone = m?.[3] ? (/^[+-]\d{4}$/.test(m[3]) ? `${m[3].slice(0, 3)}:${m[3].slice(3)}` : m[3].toUpperCase()) : "Z";
  const at = m ? Date.parse(`${m[1]}T${m[2]}${zone}`) : Number.NaN;
  if (Number.isNaN(at)) {
    throw fail(
      line,
      `time "${text.slice(0, 40)}" is not an ISO 8601 date and time`,
      "write times like 2014-04-10T00:05:00Z (UTC is assumed without an offset)",
    );
  }
  return at;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
