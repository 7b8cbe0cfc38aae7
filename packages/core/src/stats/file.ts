import { appendFile, mkdir, stat } from "node:fs/promises";
import { dirname } from "node:path";
import type { StatsReporter, TickReport } from "../report.js";

export interface FileReporterOptions {
  /** Path of the CSV file; rows are appended, a header is written when the file is new or empty. */
  path: string;
}

/**
 * Appends one CSV row per tick, as the seed's dry-run `stats.txt` did, so a run can be
 * analysed later. Columns: time (ISO), app, process type, dry run, before, after, estimate,
 * winner, reason, then `<source>.value`, `<source>.estimate`, `<source>.health` for each source
 * (sources are fixed for a file: a reconfigured set of sources starts a new header).
 */
export function createFileReporter(options: FileReporterOptions): StatsReporter {
  let header: string | null = null;
  // Rows are written one after another, in tick order, even when ticks come faster than the disk.
  let queue: Promise<void> = Promise.resolve();

  const write = async (tick: TickReport) => {
    const columns = csvHeader(tick);
    if (columns !== header) {
      await mkdir(dirname(options.path), { recursive: true });
      const size = await stat(options.path).then((s) => s.size, () => 0);
      if (size === 0 || header !== null) await appendFile(options.path, `${columns}\n`);
      header = columns;
    }
    await appendFile(options.path, `${csvRow(tick)}\n`);
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

export function csvHeader(tick: TickReport): string {
  const base = ["time", "app", "process_type", "dry_run", "before", "after", "estimate", "winner", "reason"];
  const sources = tick.sources.flatMap((s) => [`${s.name}.value`, `${s.name}.estimate`, `${s.name}.health`]);
  return [...base, ...sources].map(csvField).join(",");
}

export function csvRow(tick: TickReport): string {
  const base = [new Date(tick.time).toISOString(), tick.app, tick.processType, tick.dryRun, tick.before, tick.after, tick.estimate, tick.winner, tick.reason];
  const sources = tick.sources.flatMap((s) => [s.value, s.estimate, s.health]);
  return [...base, ...sources].map(csvField).join(",");
}

function csvField(v: unknown): string {
  if (v === null || v === undefined) return "";
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}
