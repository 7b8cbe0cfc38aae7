// Its own module: the feed computes these figures and peers.ts merges them, without a circle.

/** The figures of one process type over a window. */
export interface WindowStats {
  windowSeconds: number;
  /** Router lines (requests, errors included) in the window. */
  requests: number;
  requestsPerMinute: number;
  /** Service time percentiles in ms; null without a request that has one. */
  service: { p50: number; p95: number; p99: number; max: number } | null;
  /** Connect time in ms; null without a request that has one. */
  connect: { mean: number; max: number } | null;
  /** Requests by status class: `2xx`, `5xx`... */
  statuses: Record<string, number>;
  /** Router error codes (`H12`...) and their counts. */
  errors: Record<string, number>;
  /** Requests per dyno (`web.1`...). */
  dynos: Record<string, number>;
  /**
   * Queue time from the app's lines: `dynosaur:queue_time` summaries (each weighted by its
   * `n`) and HireFire's per-request lines. Null when no such line came in the window.
   */
  queue: { lines: number; n: number; p50: number; p95: number; max: number } | null;
  /** Every drain message in the window, whatever it said: the drain's pulse. */
  messages: number;
}
