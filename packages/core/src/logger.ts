/** Structured fields attached to a log line. Never put a secret in one. */
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger whose lines carry `fields` too (e.g. the source's name). */
  child(fields: LogFields): Logger;
  /** Whether a line at `level` would be written: skip building costly lines that would not. */
  enabled(level: LogLevel): boolean;
}

export type LogLevel = "debug" | "info" | "warn" | "error";
export interface LogRecord {
  level: LogLevel;
  message: string;
  fields: LogFields;
  time: number;
}

const levels: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** A logger that hands every record at or above `level` to `write`. */
export function createLogger(
  write: (record: LogRecord) => void,
  options: { level?: LogLevel; now?: () => number; fields?: LogFields } = {},
): Logger {
  const min = levels[options.level ?? "info"];
  const now = options.now ?? Date.now;
  const base = options.fields ?? {};
  const emit = (level: LogLevel) => (message: string, fields?: LogFields) => {
    if (levels[level] >= min) write({ level, message, fields: { ...base, ...fields }, time: now() });
  };
  return {
    debug: emit("debug"),
    info: emit("info"),
    warn: emit("warn"),
    error: emit("error"),
    child: (fields) => createLogger(write, { ...options, fields: { ...base, ...fields } }),
    enabled: (level) => levels[level] >= min,
  };
}

/** Discards everything. */
export const silentLogger: Logger = createLogger(() => {}, { level: "error" });

/** Keeps every record in memory: for tests and embedding programs. */
export function memoryLogger(level: LogLevel = "debug"): Logger & { records: LogRecord[]; text(): string } {
  const records: LogRecord[] = [];
  const logger = createLogger((r) => records.push(r), { level });
  return Object.assign(logger, {
    records,
    text: () => records.map((r) => `${r.level} ${r.message} ${JSON.stringify(r.fields)}`).join("\n"),
  });
}
