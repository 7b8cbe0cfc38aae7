import { createLogger, type Logger, type LogLevel, type LogRecord, type Redactor } from "@dynosaur/core";

export type LogFormat = "text" | "json";

/**
 * The CLI's logger: text is one human line per record (ticks as the seed printed them),
 * json one object per line with the record's fields at the top level. Every line passes
 * through the redactor, so a secret that slipped into a message is never printed.
 */
export function createCliLogger(options: {
  format: LogFormat;
  level: LogLevel;
  redactor: Redactor;
  write: (line: string) => void;
}): Logger {
  const { format, redactor, write } = options;
  return createLogger((record) => write(redactor.scrub(format === "json" ? jsonLine(record) : textLine(record))), {
    level: options.level,
  });
}

function textLine(r: LogRecord): string {
  const time = new Date(r.time).toISOString();
  // The stable error code lets people search for the problem and grep logs for it.
  const code = typeof r.fields.code === "string" ? ` [${r.fields.code}]` : "";
  return `${time} ${r.level.toUpperCase().padEnd(5)} ${r.message}${code}`;
}

function jsonLine(r: LogRecord): string {
  const { time: _tickTime, ...fields } = r.fields;
  return JSON.stringify({ ...fields, time: new Date(r.time).toISOString(), level: r.level, message: r.message });
}
