/**
 * The scaler never reads wall-clock time directly: it asks a Clock, so tests and
 * simulations drive time themselves and never sleep.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms` milliseconds of this clock's time, or rejects when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    }),
};

/** A clock that only moves when told to; sleepers wake as time passes them. */
export class ManualClock implements Clock {
  #now: number;
  #sleepers: { until: number; resolve: () => void }[] = [];

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        this.#sleepers = this.#sleepers.filter((s) => s !== sleeper);
        reject(signal?.reason);
      };
      const sleeper = {
        until: this.#now + ms,
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      this.#sleepers.push(sleeper);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** When the earliest sleeper wakes, or null when none sleeps. */
  nextWake(): number | null {
    return this.#sleepers.length === 0 ? null : Math.min(...this.#sleepers.map((s) => s.until));
  }

  /** Moves time forward by `ms`, waking every sleeper whose time has come. */
  advance(ms: number): void {
    this.set(this.#now + ms);
  }

  set(time: number): void {
    this.#now = time;
    const due = this.#sleepers.filter((s) => s.until <= time);
    this.#sleepers = this.#sleepers.filter((s) => s.until > time);
    for (const s of due) s.resolve();
  }
}
