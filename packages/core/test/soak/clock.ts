import { ManualClock } from "../../src/clock.js";

/**
 * The soak's virtual clock. The driver moves it from tick to tick; anything that sleeps on
 * it in between (the Heroku client spacing requests when its budget runs low) is woken by
 * jumping time to the sleeper's deadline, since in a simulation nothing else would move it.
 */
export class SoakClock extends ManualClock {
  #wakeScheduled = false;
  /** Virtual ms jumped over to wake sleepers (time spent waiting inside ticks). */
  slept = 0;

  override sleep(ms: number, signal?: AbortSignal): Promise<void> {
    const slept = super.sleep(Math.max(0, ms), signal);
    this.#scheduleWake();
    return slept;
  }

  /** Moves time to `time` (never backwards), waking every sleeper whose time has come. */
  override set(time: number): void {
    super.set(Math.max(time, this.now()));
  }

  #scheduleWake(): void {
    if (this.#wakeScheduled) return;
    this.#wakeScheduled = true;
    setImmediate(() => {
      this.#wakeScheduled = false;
      const next = this.nextWake();
      if (next === null) return;
      this.slept += Math.max(0, next - this.now());
      this.set(next);
    });
  }
}
