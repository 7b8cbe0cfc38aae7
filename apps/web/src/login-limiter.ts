import type { Clock } from "@dynosaur/core";

/**
 * Failed logins per key in a sliding window: after a key's `max` failures, further attempts
 * are refused until the oldest failure leaves the window. `max` may depend on the key (a user
 * name at an address, a user name, an address). Kept in memory: several server processes each
 * count their own share.
 */
export class LoginLimiter {
  readonly #failures = new Map<string, number[]>();

  constructor(
    private readonly clock: Clock,
    private readonly max: number | ((key: string) => number) = 5,
    private readonly windowMs = 15 * 60_000,
  ) {}

  /** Milliseconds until `keys` may try again; 0 when they may now. */
  retryAfter(keys: readonly string[]): number {
    return this.blocking(keys).wait;
  }

  /** The longest wait among `keys`, and the key that imposes it (null when none does). */
  blocking(keys: readonly string[]): { wait: number; key: string | null } {
    const now = this.clock.now();
    let wait = 0;
    let by: string | null = null;
    for (const key of keys) {
      const recent = this.#recent(key, now);
      const oldest = recent[0];
      const max = typeof this.max === "number" ? this.max : this.max(key);
      if (recent.length >= max && oldest !== undefined && oldest + this.windowMs - now > wait) {
        wait = oldest + this.windowMs - now;
        by = key;
      }
    }
    return { wait, key: by };
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
