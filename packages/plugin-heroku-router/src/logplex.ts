/**
 * Logplex's HTTPS drain delivery: a POST whose body is octet-counted RFC 5424 syslog frames
 * (RFC 6587 framing), `<length> <message>` one after the other, where `<length>` counts the
 * message's bytes. A Logplex message has no structured data: after MSGID comes the text.
 *
 *   83 <40>1 2012-11-30T06:45:29+00:00 host app web.3 - State changed from starting to up
 */

/** The content type Logplex sends. */
export const LOGPLEX_CONTENT_TYPE = "application/logplex-1";

/** One syslog message of a drain delivery. */
export interface SyslogMessage {
  /** When the line was logged, as written (ISO 8601). */
  timestamp: string;
  /** `heroku` for the platform's lines (router, dyno states), `app` for the app's own output. */
  appName: string;
  /** `router`, or the dyno that logged the line, e.g. `web.1`. */
  procId: string;
  /** The line itself, without a trailing newline. */
  text: string;
}

/** What a drain body held. */
export interface ParsedBody {
  messages: SyslogMessage[];
  /** Frames that could not be read (bad length, bad header, cut short): skipped, never thrown. */
  malformed: number;
}

const SPACE = 0x20;
const HEADER = /^<(\d{1,3})>(\d{1,2}) (\S+) (\S+) (\S+) (\S+) (\S+)(?: ([\s\S]*))?$/;
const decoder = new TextDecoder();

/**
 * Splits a drain body into its messages. A frame whose header is not RFC 5424 is skipped and
 * counted; a length that is not a number, or runs past the body, ends the body there (the
 * next frame's start is unknown) and counts one malformed frame.
 */
export function parseLogplexBody(body: Uint8Array | string): ParsedBody {
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  const messages: SyslogMessage[] = [];
  let malformed = 0;
  let pos = 0;
  while (pos < bytes.length) {
    // Whitespace between frames is tolerated (a trailing newline, a proxy's line ending).
    const c = bytes[pos] as number;
    if (c === SPACE || c === 0x0a || c === 0x0d) {
      pos++;
      continue;
    }
    let length = 0;
    let digits = 0;
    while (pos < bytes.length && (bytes[pos] as number) >= 0x30 && (bytes[pos] as number) <= 0x39 && digits < 7) {
      length = length * 10 + ((bytes[pos] as number) - 0x30);
      pos++;
      digits++;
    }
    if (digits === 0 || bytes[pos] !== SPACE || length === 0 || pos + 1 + length > bytes.length) {
      malformed++;
      break;
    }
    pos++;
    const frame = decoder.decode(bytes.subarray(pos, pos + length));
    pos += length;
    const message = parseSyslog(frame);
    if (message) messages.push(message);
    else malformed++;
  }
  return { messages, malformed };
}

/** One RFC 5424 message as Logplex writes it, or null. */
export function parseSyslog(frame: string): SyslogMessage | null {
  const m = HEADER.exec(frame);
  if (!m) return null;
  const [, , , timestamp, , appName, procId, , rest] = m;
  return {
    timestamp: timestamp as string,
    appName: appName as string,
    procId: procId as string,
    text: (rest ?? "").replace(/\r?\n$/, ""),
  };
}

/** Frames one message as Logplex would: for tests, benchmarks and local tools. */
export function logplexFrame(message: {
  timestamp?: string;
  appName: string;
  procId: string;
  text: string;
  priority?: number;
}): string {
  const line = `<${message.priority ?? 158}>1 ${message.timestamp ?? new Date(0).toISOString()} host ${message.appName} ${message.procId} - ${message.text}`;
  return `${new TextEncoder().encode(line).length} ${line}`;
}
