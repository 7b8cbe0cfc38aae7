import { describeError, type Logger, type TickReport } from "@dynosaur/core";
import type { EngineEvent } from "./engine.js";
import type { EventRow, MinuteRow, ReadingStore, TickRow } from "./store/readings.js";

/**
 * Buffers what the engines report and writes it in batches: every tick at full resolution
 * (marked notable when something happened: only those are kept past the recent window), the
 * last tick of each minute per process type (the series charts and replays read), and events. One transaction a second for all apps keeps a hundred apps cheap on SQLite.
 */
export class Recorder {
  #ticks: TickRow[] = [];
  #minutes = new Map<string, MinuteRow>();
  #events: EventRow[] = [];
  #flushing: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | null = null;
  /** The buffer holds a batch that failed once. */
  #retrying = false;

  constructor(
    private readonly store: ReadingStore,
    private readonly logger: Logger,
  ) {}

  /** Flushes every `ms` of real time (a write schedule, not a retention rule: no clock needed). */
  start(ms = 1000): void {
    this.#timer ??= setInterval(() => void this.flush(), ms);
    this.#timer.unref();
  }

  tick(appId: number, report: TickReport): void {
    this.#ticks.push({ appId, time: report.time, processType: report.processType, report, notable: isNotable(report) });
    const minute = Math.floor(report.time / 60_000) * 60_000;
    this.#minutes.set(`${appId}:${report.processType}:${minute}`, {
      appId,
      processType: report.processType,
      minute,
      dynos: report.after,
      estimate: report.estimate,
      sources: report.sources.map((s) => ({ name: s.name, value: s.value, estimate: s.estimate, health: s.health })),
    });
  }

  event(appId: number, event: EngineEvent): void {
    this.#events.push({ appId, ...event });
  }

  /** Drops what is buffered for a deleted app. */
  forget(appId: number): void {
    this.#ticks = this.#ticks.filter((t) => t.appId !== appId);
    this.#events = this.#events.filter((e) => e.appId !== appId);
    for (const [key, m] of this.#minutes) if (m.appId === appId) this.#minutes.delete(key);
  }

  /** Writes what is buffered; resolves when it (and any flush before it) is stored. */
  flush(): Promise<void> {
    const run = this.#flushing.then(async () => {
      const batch = { ticks: this.#ticks, minutes: [...this.#minutes.values()], events: this.#events };
      this.#ticks = [];
      this.#minutes = new Map();
      this.#events = [];
      try {
        await this.store.write(batch);
        this.#retrying = false;
      } catch (e) {
        // Never let storage stop the engines: log, carry on. The batch is tried once more with
        // the next flush (the database may be back by then); a batch that fails twice is
        // dropped, so one row the database will never take cannot hold every later one back.
        const keep = !this.#retrying;
        this.#retrying = keep;
        if (keep) {
          this.#ticks = [...batch.ticks, ...this.#ticks];
          this.#events = [...batch.events, ...this.#events];
          for (const m of batch.minutes) {
            const key = `${m.appId}:${m.processType}:${m.minute}`;
            if (!this.#minutes.has(key)) this.#minutes.set(key, m);
          }
        }
        this.logger.error(
          `storing ticks and events failed (${keep ? "kept for the next try" : "dropped after a second try"}): ${describeError(e)}`,
          { event: "store-error" },
        );
      }
    });
    this.#flushing = run;
    return run;
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.flush();
  }
}

/** A tick worth keeping at full resolution: the formation changed or could not be read, an event, a source not ok. */
export function isNotable(report: TickReport): boolean {
  return (
    report.before !== report.after ||
    report.before === null ||
    report.events.length > 0 ||
    report.sources.some((s) => s.health !== "ok" || s.lastError !== null)
  );
}
