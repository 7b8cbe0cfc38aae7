import { type Clock, describeError } from "@dynosaur/core";
import type { Dispatcher } from "undici";
import { HttpFailure, httpCall, safeOrigin } from "../stats/http.js";
import type { ProblemLog } from "../stats/problems.js";

export interface HeartbeatOptions {
  url: string;
  /** Least milliseconds between two pings. */
  intervalMs: number;
  timeoutMs: number;
  http: Dispatcher;
  clock: Clock;
  problems: ProblemLog;
}

export interface Heartbeat {
  /** Pings when the last ping is at least `intervalMs` old and none is in flight. Never waits. */
  beat(): void;
  /** Resolves when no ping is in flight. */
  settled(): Promise<void>;
}

/**
 * Pings a dead man's switch (GET) after healthy ticks, at most every `intervalMs` of the
 * clock's time. The service raises the alarm when the pings stop: when Dynosaur is down,
 * stuck, or every tick is unhealthy. Its URL usually holds a token, so only its origin is logged.
 */
export function createHeartbeat(options: HeartbeatOptions): Heartbeat {
  const subject = `heartbeat to ${safeOrigin(options.url)}`;
  // The token of a ping URL sits in its path or query: an error message must show neither.
  const secrets = [options.url, ...tokenParts(options.url)];
  let lastPing: number | null = null;
  let inFlight: Promise<void> | null = null;

  const ping = async () => {
    try {
      const reply = await httpCall(
        {
          method: "GET",
          url: options.url,
          headers: { "user-agent": "dynosaur" },
          dispatcher: options.http,
          timeoutMs: options.timeoutMs,
          secrets,
        },
        "heartbeat",
      );
      if (reply.status >= 200 && reply.status < 300) options.problems.succeeded(subject);
      else options.problems.failed(subject, `HTTP ${reply.status}`);
    } catch (e) {
      options.problems.failed(subject, e instanceof HttpFailure ? e.reason : describeError(e));
    }
  };

  return {
    beat() {
      const now = options.clock.now();
      if (inFlight || (lastPing !== null && now - lastPing < options.intervalMs)) return;
      // Counted from the start of the attempt, so a slow or failing endpoint is not hammered.
      lastPing = now;
      inFlight = ping().finally(() => {
        inFlight = null;
      });
    },
    settled: async () => {
      await inFlight;
    },
  };
}

function tokenParts(url: string): string[] {
  try {
    const u = new URL(url);
    return [u.pathname + u.search, u.pathname, u.search].filter((p) => p.length > 1);
  } catch {
    return [];
  }
}
