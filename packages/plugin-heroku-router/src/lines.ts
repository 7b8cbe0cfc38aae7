import type { SyslogMessage } from "./logplex.js";

/** One request as Heroku's router logged it (router 1.0 and 2.0). */
export interface RouterRequest {
  kind: "request";
  /** `web.1`; null when the router gave up before picking a dyno (`dyno=` empty or `none`). */
  dyno: string | null;
  /** ms the router took to connect to the dyno. */
  connect: number | null;
  /** ms the dyno took to answer. */
  service: number | null;
  status: number | null;
  /** An `at=error` line's code, e.g. `H12`. */
  code: string | null;
}

/** A `dynosaur:queue_time` summary of one dyno's last interval. */
export interface QueueSummary {
  kind: "queue-summary";
  dyno: string;
  n: number;
  p50: number;
  p95: number;
  max: number;
}

/** HireFire's per-request line `[hirefire:router] queue=<N>ms`. */
export interface QueueSample {
  kind: "queue-sample";
  dyno: string;
  ms: number;
}

export type DrainLine = RouterRequest | QueueSummary | QueueSample;

// key=value or key="quoted value"; router 2.0's extra keys (tls=, tls_version=) and any
// unknown key are read and ignored.
const PAIR = /([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)/g;
const SUMMARY = /dynosaur:queue_time n=(\d+) p50=(\d+(?:\.\d+)?) p95=(\d+(?:\.\d+)?) max=(\d+(?:\.\d+)?)/;
const HIREFIRE = /\[hirefire:router\] queue=(\d+(?:\.\d+)?)ms/;

/** Reads what a drain message says about load; null for any other line. */
export function readDrainLine(message: SyslogMessage): DrainLine | null {
  if (message.appName === "heroku") return message.procId === "router" ? readRouterLine(message.text) : null;
  if (message.appName !== "app") return null;
  const summary = SUMMARY.exec(message.text);
  if (summary) {
    return {
      kind: "queue-summary",
      dyno: message.procId,
      n: Number(summary[1]),
      p50: Number(summary[2]),
      p95: Number(summary[3]),
      max: Number(summary[4]),
    };
  }
  const hirefire = HIREFIRE.exec(message.text);
  if (hirefire) return { kind: "queue-sample", dyno: message.procId, ms: Number(hirefire[1]) };
  return null;
}

/**
 * A router line's request; null when the line is not one (no `method=`, or not `at=info|error`).
 * The first of a repeated key counts. Reads the few keys it needs into locals, no map of every
 * pair: a drain brings thousands of these lines a second.
 */
export function readRouterLine(text: string): RouterRequest | null {
  let at: string | undefined;
  let method = false;
  let dyno: string | undefined;
  let connect: string | undefined;
  let service: string | undefined;
  let status: string | undefined;
  let code: string | undefined;
  PAIR.lastIndex = 0;
  for (let m = PAIR.exec(text); m !== null; m = PAIR.exec(text)) {
    switch (m[1]) {
      case "at":
        at ??= unquote(m[2] as string);
        break;
      case "method":
        method = true;
        break;
      case "dyno":
        dyno ??= unquote(m[2] as string);
        break;
      case "connect":
        connect ??= unquote(m[2] as string);
        break;
      case "service":
        service ??= unquote(m[2] as string);
        break;
      case "status":
        status ??= unquote(m[2] as string);
        break;
      case "code":
        code ??= unquote(m[2] as string);
        break;
    }
  }
  if ((at !== "info" && at !== "error") || !method) return null;
  return {
    kind: "request",
    dyno: dyno && dyno !== "none" ? dyno : null,
    connect: milliseconds(connect),
    service: milliseconds(service),
    status: integer(status),
    code: at === "error" && code && /^[A-Z]\d{2}$/.test(code) ? code : null,
  };
}

const unquote = (raw: string) => (raw.startsWith('"') ? raw.slice(1, -1) : raw);

function milliseconds(value: string | undefined): number | null {
  const m = value === undefined ? null : /^(\d+(?:\.\d+)?)ms$/.exec(value);
  return m ? Number(m[1]) : null;
}

function integer(value: string | undefined): number | null {
  return value !== undefined && /^\d{3}$/.test(value) ? Number(value) : null;
}

/** `web` for `web.1`; the process type of a dyno name. */
export function processOf(dyno: string): string {
  const dot = dyno.indexOf(".");
  return dot === -1 ? dyno : dyno.slice(0, dot);
}
