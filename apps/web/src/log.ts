import { createLogger, type Logger, type LogLevel, type LogRecord } from "@dynosaur/core";

export type LogFormat = "text" | "json";

export interface LogOptions {
  format: LogFormat;
  level: LogLevel;
  write: (line: string) => void;
}

/**
 * Logs go to stdout, one line per record, as on Heroku: text like the CLI's (with the app's
 * name in front), or one JSON object per line. `scrub` blanks secrets out of the finished
 * line, so a value that slipped into a message or a field is still never printed.
 */
export function createServerLogger(
  options: LogOptions,
  scrub: (text: string) => string = (t) => t,
  fields: Record<string, unknown> = {},
): Logger {
  return createLogger(
    (record) => options.write(scrub(options.format === "json" ? jsonLine(record) : textLine(record))),
    { level: options.level, fields },
  );
}

function textLine(r: LogRecord): string {
  const time = new Date(r.time).toISOString();
  // `web_app` names the stored app; a tick's own `app` is its Heroku app ("(dry run)" in a dry run).
  const name = r.fields.web_app ?? r.fields.app;
  const app = typeof name === "string" ? `[${name}] ` : "";
  const code = typeof r.fields.code === "string" ? ` [${r.fields.code}]` : "";
  return `${time} ${r.level.toUpperCase().padEnd(5)} ${app}${r.message}${code}`;
}

function jsonLine(r: LogRecord): string {
  // A tick's own `time` is the tick's; the line's time is when it was written.
  const { time: _tickTime, ...fields } = r.fields;
  return JSON.stringify({ ...fields, time: new Date(r.time).toISOString(), level: r.level, message: r.message });
}
