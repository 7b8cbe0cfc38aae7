import { describeError, type Logger, type StatsReporter, type TickReport, withTimeout } from "@dynosaur/core";
import { createProblemLog } from "./problems.js";

export interface StatsDispatcherOptions {
  logger: Logger;
  /**
   * Milliseconds one reporter may take over one tick before it is given up (and logged).
   * Also bounds how long `close()` waits for reports still in flight.
   * @default 10_000
   */
  timeoutMs?: number;
}

export interface StatsDispatcher {
  /** Hands the tick to every reporter and returns at once: the scaler never waits for a reporter. */
  report(tick: TickReport): void;
  /** Resolves when every report handed out so far has finished or timed out. */
  settled(): Promise<void>;
  /** Waits (at most `timeoutMs`) for reports in flight, then closes every reporter. */
  close(): Promise<void>;
}

/** A reporter with this many reports still unsettled is skipped: a dead endpoint must not pile up sockets and memory. */
const MAX_PENDING_PER_REPORTER = 4;

/**
 * Fans each tick out to the reporters, fire-and-forget. Each report runs under a timeout;
 * a failure is logged once per (reporter, problem), and a line is logged when the reporter
 * works again.
 */
export function createStatsDispatcher(
  reporters: readonly StatsReporter[],
  options: StatsDispatcherOptions,
): StatsDispatcher {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const problems = createProblemLog(options.logger);
  const inFlight = new Set<Promise<void>>();
  const unsettled = new Map<StatsReporter, number>();
  let closing = false;

  const subject = (r: StatsReporter) => `stats reporter ${r.name}`;

  const run = (reporter: StatsReporter, tick: TickReport): Promise<void> => {
    const count = unsettled.get(reporter) ?? 0;
    if (count >= MAX_PENDING_PER_REPORTER) {
      problems.failed(
        subject(reporter),
        `${count} earlier reports still unanswered; skipping ticks until one finishes`,
      );
      return Promise.resolve();
    }
    let own: Promise<void>;
    try {
      own = Promise.resolve(reporter.report(tick));
    } catch (e) {
      own = Promise.reject(e);
    }
    unsettled.set(reporter, count + 1);
    void own.catch(() => {}).finally(() => unsettled.set(reporter, (unsettled.get(reporter) ?? 1) - 1));
    return withTimeout(own, timeoutMs, () => {
      throw new Error(`no answer within ${timeoutMs} ms`);
    }).then(
      () => problems.succeeded(subject(reporter)),
      (e: unknown) => problems.failed(subject(reporter), describeError(e)),
    );
  };

  const track = (p: Promise<void>) => {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };

  const settled = async () => {
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  };

  return {
    report(tick) {
      if (closing) {
        options.logger.debug("stats dispatcher is closing; tick not reported", { time: tick.time });
        return;
      }
      for (const reporter of reporters) track(run(reporter, tick));
    },
    settled,
    async close() {
      if (closing) return;
      closing = true;
      const drained = await withTimeout(
        settled().then(() => true),
        timeoutMs,
        () => false,
      ).catch(() => false);
      if (!drained)
        options.logger.warn(`stats: ${inFlight.size} report(s) still unanswered after ${timeoutMs} ms; closing anyway`);
      await Promise.all(
        reporters.map(async (reporter) => {
          if (!reporter.close) return;
          try {
            await withTimeout(reporter.close(), timeoutMs, () => {
              throw new Error(`not closed within ${timeoutMs} ms`);
            });
          } catch (e) {
            options.logger.warn(`${subject(reporter)} failed to close: ${describeError(e)}`);
          }
        }),
      );
    },
  };
}
