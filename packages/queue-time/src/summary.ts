/** The prefix of the summary line; Dynosaur's log drain reads lines that carry it. */
export const SUMMARY_PREFIX = "dynosaur:queue_time";

/**
 * Keeps at most this many queue times per interval (a uniform sample of them), so a busy
 * dyno's memory stays flat; `n` still counts every request.
 */
export const MAX_SAMPLES = 10_000;

/**
 * The summary line: `dynosaur:queue_time n=<count> p50=<ms> p95=<ms> max=<ms>`, ms rounded
 * to whole numbers. An interval without requests gives `n=0 p50=0 p95=0 max=0`: the drain
 * then knows the dyno is up and idle, not gone.
 */
export function summaryLine(samples: readonly number[], count: number = samples.length): string {
  if (samples.length === 0) return `${SUMMARY_PREFIX} n=${count} p50=0 p95=0 max=0`;
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => Math.round(sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0);
  return `${SUMMARY_PREFIX} n=${count} p50=${at(50)} p95=${at(95)} max=${Math.round(sorted[sorted.length - 1] ?? 0)}`;
}

/** Collects queue times and hands out one summary line per interval. */
export class QueueTimeSummary {
  #samples: number[] = [];
  #count = 0;
  readonly #random: () => number;

  constructor(random: () => number = Math.random) {
    this.#random = random;
  }

  add(ms: number): void {
    this.#count++;
    if (this.#samples.length < MAX_SAMPLES) {
      this.#samples.push(ms);
      return;
    }
    // Reservoir sampling: every request of the interval has the same chance to be kept.
    const slot = Math.floor(this.#random() * this.#count);
    if (slot < MAX_SAMPLES) this.#samples[slot] = ms;
  }

  /** The interval's line; starts the next interval. */
  take(): string {
    const line = summaryLine(this.#samples, this.#count);
    this.#samples = [];
    this.#count = 0;
    return line;
  }
}
