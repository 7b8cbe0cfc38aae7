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
  return escapeControls(`${time} ${r.level.toUpperCase().padEnd(5)} ${app}${r.message}${code}`);
}

/**
 * A text line is one line of plain characters: a name or message holding a newline would forge
 * a second record, an escape sequence would drive the reader's terminal. Control characters
 * (C0, DEL, C1, line and paragraph separators) are written as escapes instead.
 */
export function escapeControls(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (ch) => {
    if (ch === "\n") return "\\n";
    if (ch === "\r") return "\\r";
    if (ch === "\t") return "\\t";
    const code = ch.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

function jsonLine(r: LogRecord): string {
  // A tick's own `time` is the tick's; the line's time is when it was written.
  const { time: _tickTime, ...fields } = r.fields;
  return JSON.stringify({ ...fields, time: new Date(r.time).toISOString(), level: r.level, message: r.message });
}
