import { type Clock, describeError, type Logger } from "@dynosaur/core";
import type { AuthStore } from "./store/auth.js";
import type { InstanceStore } from "./store/instances.js";
import type { ReadingStore, Retention } from "./store/readings.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * Every tick for the last hour, the notable ones (a change, a refusal, an error, a source not
 * ok) for 48 h, the per-minute series for `retention_days`, events for 90 days.
 */
export function retention(days: number): Retention {
  return { recentTicksMs: HOUR, ticksMs: 48 * HOUR, minutesMs: days * DAY, eventsMs: 90 * DAY };
}

/** Minute rows stay unpacked this long past their hour: a late write of the hour's last minute still lands in a row. */
const PACK_AFTER_MS = 10 * 60_000;
/** Events stay rows for a day past their day: the days the pages show most stay plain rows. */
const PACK_EVENTS_AFTER_MS = DAY;

/** Deletes old rows in the background, on the injected clock (tests move time, never wait). */
export class Pruner {
  #loop: Promise<void> | null = null;
  readonly #stopping = new AbortController();

  constructor(
    private readonly deps: {
      readings: ReadingStore;
      auth: AuthStore;
      instances: InstanceStore;
      clock: Clock;
      logger: Logger;
      retention: Retention;
      everyMs?: number;
    },
  ) {}

  async runOnce(): Promise<{ ticks: number; minutes: number; events: number; sessions: number }> {
    const now = this.deps.clock.now();
    const rows = await this.deps.readings.prune(now, this.deps.retention);
    await this.deps.readings.compact(now - PACK_AFTER_MS);
    await this.deps.readings.packEvents(now - PACK_EVENTS_AFTER_MS);
    const sessions = await this.deps.auth.pruneSessions(now);
    await this.deps.instances.prune(now - DAY);
    if (rows.ticks + rows.minutes + rows.events + sessions > 0)
      this.deps.logger.debug(
        `pruned ${rows.ticks} ticks, ${rows.minutes} minutes, ${rows.events} events, ${sessions} sessions`,
        { event: "prune", ...rows, sessions },
      );
    return { ...rows, sessions };
  }

  start(): void {
    this.#loop ??= (async () => {
      while (!this.#stopping.signal.aborted) {
        await this.runOnce().catch((e) =>
          this.deps.logger.error(`pruning old rows failed: ${describeError(e)}`, { event: "prune-error" }),
        );
        await this.deps.clock.sleep(this.deps.everyMs ?? 10 * 60_000, this.#stopping.signal).catch(() => {});
      }
    })();
  }

  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#loop;
  }
}
