/**
 * The longest wait taken for a queue time. A larger one is a clock far off or a header
 * from something other than the router; counting it would scale on noise.
 */
export const MAX_QUEUE_MS = 60_000;

/** The header Heroku's router sets: when it received the request, in ms since the epoch. */
export const REQUEST_START_HEADER = "x-request-start";

/**
 * The epoch time in ms that an `X-Request-Start` value names, or null when it names none.
 * Heroku writes milliseconds; nginx and other proxies write seconds with a fraction,
 * microseconds or nanoseconds, optionally as `t=<value>`. The unit is told from the size
 * of the number, as HireFire does: today is about 1.7e9 s = 1.7e12 ms = 1.7e15 µs = 1.7e18 ns.
 */
export function requestStartMs(value: string | null | undefined): number | null {
  if (typeof value !== "string") return null;
  const text = value.trim().replace(/^t=/, "");
  if (!/^\d+(\.\d+)?$/.test(text)) return null;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) return null;
  if (n < 1e11) return n * 1000;
  if (n < 1e14) return n;
  if (n < 1e17) return n / 1000;
  return n / 1e6;
}

/**
 * How long a request waited between Heroku's router and the app: `now - X-Request-Start`,
 * in ms. Null when the header is missing or unreadable, negative (clocks apart) or over
 * {@link MAX_QUEUE_MS}.
 */
export function queueTimeFromHeader(value: string | null | undefined, nowMs: number): number | null {
  const start = requestStartMs(value);
  if (start === null) return null;
  const ms = nowMs - start;
  return ms >= 0 && ms <= MAX_QUEUE_MS ? ms : null;
}

/** What the helpers accept as a request: Node's `IncomingMessage`, Fastify's and Koa's requests, or a `Request`. */
export type RequestLike =
  | { headers: Record<string, string | string[] | undefined> }
  | { headers: { get(name: string): string | null } };

/** The `X-Request-Start` header of a request, whatever its framework. */
export function requestStartHeader(req: RequestLike): string | null {
  const headers = req.headers as unknown;
  if (headers && typeof (headers as { get?: unknown }).get === "function") {
    return (headers as { get(name: string): string | null }).get(REQUEST_START_HEADER);
  }
  const raw = (headers as Record<string, string | string[] | undefined>)?.[REQUEST_START_HEADER];
  return Array.isArray(raw) ? (raw[0] ?? null) : (raw ?? null);
}

/**
 * The plain helper: a request's queue time in ms, or null (no usable `X-Request-Start`).
 * `nowMs` defaults to the system clock; call it as soon as the request arrives.
 */
export function queueTimeOf(req: RequestLike, nowMs: number = Date.now()): number | null {
  return queueTimeFromHeader(requestStartHeader(req), nowMs);
}
