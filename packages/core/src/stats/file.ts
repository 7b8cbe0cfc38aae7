import { appendFile, mkdir, stat } from "node:fs/promises";
import { dirname } from "node:path";
import type { StatsReporter, TickReport } from "../report.js";

export interface FileReporterOptions {
  /** Path of the CSV file; rows are appended, a header is written when the file is new or empty. */
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
  let header: string | null = null;
  let sources: string[] = [...(options.sources ?? [])];
  // Rows are written one after another, in tick order, even when ticks come faster than the disk.
  let queue: Promise<void> = Promise.resolve();

  const write = async (tick: TickReport) => {
    const added = tick.sources.map((s) => s.name).filter((name) => !sources.includes(name));
    if (added.length > 0) sources = [...sources, ...added];
    const columns = csvHeader(tick, sources);
    if (columns !== header) {
      await mkdir(dirname(options.path), { recursive: true });
      const size = await stat(options.path).then(
        (s) => s.size,
        () => 0,
      );
      if (size === 0 || header !== null) await appendFile(options.path, `${columns}\n`);
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
