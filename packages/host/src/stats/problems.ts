import type { Logger } from "@dynosaur/core";

/**
 * Logs each failure of a channel (a reporter, the alert mailer, the heartbeat) once per
 * distinct problem, then once when the channel works again, so an endpoint that is down for a
 * day writes two lines instead of thousands. Repeats still reach the log at debug level, and
 * the recovery line says how many attempts failed: nothing is lost silently.
 */
export interface ProblemLog {
  /** `subject` failed with `message` (secret-free). */
  failed(subject: string, message: string): void;
  /** `subject` worked; logs a recovery line when it had been failing. */
  succeeded(subject: string): void;
}

export function createProblemLog(logger: Logger): ProblemLog {
  const failing = new Map<string, { message: string; failures: number }>();
  return {
    failed(subject, message) {
      const known = failing.get(subject);
      if (known && known.message === message) {
        known.failures++;
        logger.debug(`${subject} still failing: ${message}`, { channel: subject, failures: known.failures });
        return;
      }
      failing.set(subject, { message, failures: (known?.failures ?? 0) + 1 });
      logger.warn(`${subject} failed: ${message}`, { channel: subject });
    },
    succeeded(subject) {
      const known = failing.get(subject);
      if (!known) return;
      failing.delete(subject);
      logger.info(`${subject} works again after ${known.failures} failed attempt${known.failures === 1 ? "" : "s"}`, {
        channel: subject,
        failures: known.failures,
      });
    },
  };
}
