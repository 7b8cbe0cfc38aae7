import { appendFile, mkdir, open } from "node:fs/promises";
import { dirname } from "node:path";
import type { StatsReporter, TickReport } from "@dynosaur/core";

export interface FileReporterOptions {
  /** Path of the CSV file; rows are appended, under a new header when the file's last one is not theirs. */
  path: string;
  /** Names of the sources to give columns from the first row (every process type's, so one header serves all). */
  sources?: readonly string[];
}

/**
 * Appends one CSV row per tick, as the seed's dry-run `stats.txt` did, so a run can be
 * analysed later. Columns: time (ISO), app, process type, dry run, before, after, estimate,
 * winner, reason, then `<source>.value`, `<source>.estimate`, `<source>.health` for each source
 * seen so far. With several process types each row is one type's and fills only the columns
 * of that type's sources, so the rows of web and worker share one header; a source that is new
 * (the second type's first row, a reconfigured config) starts a new, wider header.
 */
export function createFileReporter(options: FileReporterOptions): StatsReporter {
  // The header the next row would fall under: undefined until the file's own is read.
  let header: string | null | undefined;
  let sources: string[] = [...(options.sources ?? [])];
  // Rows are written one after another, in tick order, even when ticks come faster than the disk.
  let queue: Promise<void> = Promise.resolve();

  const write = async (tick: TickReport) => {
    const added = tick.sources.map((s) => s.name).filter((name) => !sources.includes(name));
    if (added.length > 0) sources = [...sources, ...added];
    const columns = csvHeader(tick, sources);
    if (header === undefined) {
      await mkdir(dirname(options.path), { recursive: true });
      // An earlier run may have left rows of other sources: rows go under a header of their own columns.
      header = await lastHeader(options.path);
    }
    if (columns !== header) {
      await appendFile(options.path, `${columns}\n`);
      header = columns;
    }
    await appendFile(options.path, `${csvRow(tick, sources)}\n`);
  };

  return {
    name: "file",
    report(tick) {
      const done = queue.then(() => write(tick));
      queue = done.catch(() => {});
      return done;
    },
    close: () => queue,
  };
}

const CHUNK = 64 * 1024;
/** How a header line starts; a row starts with its ISO time instead. */
const HEADER_START = Buffer.from("\ntime,app,");

/**
 * The last header line of the CSV file at `path`, or null when there is no file or no header.
 * The file is read backwards a chunk at a time, so a long-kept file is not read whole; a
 * header is assumed shorter than one chunk (64 KiB, some 2,000 sources).
 */
async function lastHeader(path: string): Promise<string | null> {
  const file = await open(path, "r").catch(() => null);
  if (!file) return null;
  try {
    let end = (await file.stat()).size;
    // The start of what was read already: where a header line found in the next chunk may end.
    let after = Buffer.alloc(0);
    while (end > 0) {
      const start = Math.max(0, end - CHUNK);
      const { buffer } = await file.read(Buffer.alloc(end - start), 0, end - start, start);
      // The file's first line has no newline before it: give it one.
      const head = start === 0 ? Buffer.from("\n") : Buffer.alloc(0);
      const text = Buffer.concat([head, buffer, after]);
      const at = text.lastIndexOf(HEADER_START, head.length + buffer.length - 1);
      if (at !== -1) {
        const line = text.subarray(at + 1);
        const eol = line.indexOf("\n");
        return line.subarray(0, eol === -1 ? line.length : eol).toString("utf8");
      }
      after = text.subarray(head.length, head.length + CHUNK);
      end = start;
    }
    return null;
  } finally {
    await file.close();
  }
}

/** The header for rows with the columns of `sources` (by name; the tick's own by default). */
export function csvHeader(tick: TickReport, sources: readonly string[] = tick.sources.map((s) => s.name)): string {
  const base = ["time", "app", "process_type", "dry_run", "before", "after", "estimate", "winner", "reason"];
  return [...base, ...sources.flatMap((name) => [`${name}.value`, `${name}.estimate`, `${name}.health`])]
    .map(csvField)
    .join(",");
}

/** The tick's row under `csvHeader(tick, sources)`: columns of sources not in this tick stay empty. */
export function csvRow(tick: TickReport, sources: readonly string[] = tick.sources.map((s) => s.name)): string {
  const base = [
    new Date(tick.time).toISOString(),
    tick.app,
    tick.processType,
    tick.dryRun,
    tick.before,
    tick.after,
    tick.estimate,
    tick.winner,
    tick.reason,
  ];
  const cells = sources.flatMap((name) => {
    const s = tick.sources.find((x) => x.name === name);
    return s ? [s.value, s.estimate, s.health] : [null, null, null];
  });
  return [...base, ...cells].map(csvField).join(",");
}

function csvField(v: unknown): string {
  if (v === null || v === undefined) return "";
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}
