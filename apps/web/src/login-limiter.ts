import type { Clock } from "@dynosaur/core";

/**
 * Failed logins per key (a user name at a client address) in a sliding window: after
 * `max` failures, further attempts are refused until the oldest failure leaves the window.
 * Kept in memory: several server processes each count their own share.
 */
export class LoginLimiter {
  readonly #failures = new Map<string, number[]>();

  constructor(
    private readonly clock: Clock,
    private readonly max = 5,
    private readonly windowMs = 15 * 60_000,
  ) {}

  /** Milliseconds until `keys` may try again; 0 when they may now. */
  retryAfter(keys: readonly string[]): number {
    const now = this.clock.now();
    let wait = 0;
    for (const key of keys) {
      const recent = this.#recent(key, now);
      const oldest = recent[0];
      if (recent.length >= this.max && oldest !== undefined) wait = Math.max(wait, oldest + this.windowMs - now);
    }
    return wait;
  }

  fail(keys: readonly string[]): void {
    const now = this.clock.now();
    for (const key of keys) this.#failures.set(key, [...this.#recent(key, now), now]);
  }

  succeed(keys: readonly string[]): void {
    for (const key of keys) this.#failures.delete(key);
  }

  #recent(key: string, now: number): number[] {
    const recent = (this.#failures.get(key) ?? []).filter((t) => now - t < this.windowMs);
    if (recent.length === 0) this.#failures.delete(key);
    else this.#failures.set(key, recent);
    return recent;
  }
}
