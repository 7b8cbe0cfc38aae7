/**
 * The `forecast` scaling policy (the default): a level that rises at once and eases off,
 * with spare set by `headroom`, held within a band (issue 26).
 *
 * Why each rule:
 *
 * - **Up at once, down gently unless the fall is clear.** The level jumps to a reading more
 *   than half a typical swing above it (a rise is served one boot later: waiting only adds
 *   shortfall); a reading above it by less is as likely noise, and moves it half way. Below
 *   it, within a few typical swings, it closes a share of the gap per reading: a dip of a
 *   minute or two is noise and barely moves it. A fall beyond that is no noise: the level
 *   goes to the reading, so a smooth load sheds dynos as soon as it falls. One rule for
 *   step-held, smooth and per-minute noisy traffic.
 * - **Spare in the load's own swings.** The typical swing is an exponentially weighted mean
 *   absolute deviation of the readings from the level: large for noisy or bursty traffic,
 *   near 0 for a smooth one, so the knob means the same on a load of 5 or of 5,000 a minute.
 * - **Hold within a band.** Within half a swing above the plan the next reading is as likely
 *   up as down: moving there is churn (each event boots or stops a dyno). A scale-down happens
 *   only when even the band's top needs fewer dynos, and goes to that top.
 * - **A wider band for bursty loads.** When the load, smoothed over about 3 readings, strays
 *   from its mean of about the last 50 by more than 30 % of that mean on average, its falls are
 *   mostly the end of a burst, and bursts come back: the band widens with that spread, up to
 *   2.2 more swings. The smoothing keeps a low count's minute-to-minute noise from passing for
 *   bursts. A smooth or steadily noisy load keeps the half-swing band (and its cost).
 *   The mean is counted above the day's low (the smoothed load's lowest of the last 24 hours):
 *   a constant base load under the bursts (a floor of traffic that never goes away) makes them
 *   no less bursty, and would otherwise hide them.
 * - **Never remove a dyno within `boot_seconds` of adding one**: it has barely started
 *   serving, and the rise that asked for it is rarely over.
 * - **One knob.** `headroom` 0.2 (the default) plans for the level. Above it, each 0.1 adds a
 *   fifth of a swing and makes the level ease off more slowly after a peak (bursts that come
 *   back find their dynos); below it, the bursty band narrows back to half a swing and dynos
 *   may run up to 2 % over nominal capacity at 0, as Kubernetes' HPA tolerates 10 %. Measured
 *   on four traces at 60 s boot (per-minute web, bursty 5-minute web, social volumes, taxi),
 *   the default costs no more, falls short no more and scales less often than the seed's rule
 *   on each (bench/policy-eval.md in @dynosaur/backtest).
 *
 * `blackout`, `scale_down_step` and every safety rule of `decide` still apply on top.
 */

/** The default `headroom`: sized for the level (the band and the boot hold give the calm). */
export const DEFAULT_HEADROOM = 0.2;
/** The default `boot_seconds`: a typical Heroku dyno boot. */
export const DEFAULT_BOOT_SECONDS = 60;

/** Share of the gap the level closes per reading below it, at the default headroom. */
const EASE = 0.3;
/** Weight of each new deviation in the typical swing: about the last 20 readings. */
const SWING_WEIGHT = 0.05;
/** A reading up to this many swings above the level is noise: the level goes only part way... */
const NOISE_RISE = 0.5;
/** ...this share of the way. */
const NOISE_RISE_SHARE = 0.5;
/** A level this close to the reading, in swings, is the reading. */
const SNAP = 0.05;
/** A reading this many swings below the level is a clear fall: the level goes to it. */
const FALL = 4;
/** Width of the hold band, in swings above the plan. */
const BAND = 0.5;
/** Swings of spare per unit of headroom above the default. */
const SWINGS_PER_HEADROOM = 2;
/** How much each swing of spare slows the easing: 1 swing → a third of the default pace. */
const EASE_SLOWDOWN = 2;
/** How far over nominal capacity dynos may run at headroom 0. */
const TRIM_AT_ZERO = 0.02;
/** Weight of each reading in the smoothed load: about the last 3 readings. */
const SMOOTH_WEIGHT = 0.35;
/** Weight of each reading in the load's mean and spread: about the last 50 readings. */
const MEAN_WEIGHT = 0.02;
/** Spread, as a share of the mean above the day's low, above which the load counts as bursty. */
const BURSTY = 0.3;
/** Swings the band widens by per unit of spread share above `BURSTY`... */
const BURST_BAND = 8;
/** ...up to this many (reached at a spread of 57.5 % of the mean). */
const MAX_BURST_BAND = 2.2;
/** The day's low is the smoothed load's lowest in each of this many hours... */
const LOW_HOURS = 24;
const HOUR_MS = 3_600_000;

/** Swings of spare kept at a headroom (0 up to the default). */
export function spareSwings(headroom: number): number {
  return Math.max(0, headroom - DEFAULT_HEADROOM) * SWINGS_PER_HEADROOM;
}

/** The factor on the plan: below 1 only between headroom 0 and the default. */
export function trimFactor(headroom: number): number {
  return 1 - TRIM_AT_ZERO * Math.max(0, 1 - Math.max(0, headroom) / DEFAULT_HEADROOM);
}

/**
 * Swings the hold band widens by for a load whose spread is `share` of its mean: 0 up to
 * `BURSTY`, then growing to `MAX_BURST_BAND`; scaled down to 0 between the default headroom and 0.
 */
export function burstSwings(share: number, headroom: number): number {
  const scale = Math.min(1, Math.max(0, headroom) / DEFAULT_HEADROOM);
  return scale * Math.min(MAX_BURST_BAND, BURST_BAND * Math.max(0, share - BURSTY));
}

/** Level and typical swing of one source's readings, at one headroom. Times are ms, passed in. */
export class LevelBand {
  readonly headroom: number;
  readonly #ease: number;
  readonly #spare: number;
  readonly #trim: number;
  #level: number | null = null;
  #swing = 0;
  /** The load smoothed over a few readings, its slower mean, and the smoothed load's spread around that mean. */
  #smooth = 0;
  #mean = 0;
  #spread = 0;
  /** The smoothed load's lowest in each hour of the last `LOW_HOURS` (oldest first). */
  readonly #lows: { hour: number; low: number }[] = [];
  #last = Number.NEGATIVE_INFINITY;

  constructor(headroom: number = DEFAULT_HEADROOM) {
    this.headroom = headroom;
    this.#spare = spareSwings(headroom);
    this.#trim = trimFactor(headroom);
    this.#ease = EASE / (1 + EASE_SLOWDOWN * this.#spare);
  }

  /** Learns from a good reading; readings not newer than the last, not finite or negative are ignored. */
  observe(time: number, value: number): void {
    if (!Number.isFinite(time) || !Number.isFinite(value) || value < 0 || time <= this.#last) return;
    this.#last = time;
    if (this.#level === null) {
      this.#level = value;
      this.#smooth = value;
      this.#mean = value;
      this.#noteLow(time);
      return;
    }
    this.#smooth += SMOOTH_WEIGHT * (value - this.#smooth);
    this.#noteLow(time);
    this.#spread += MEAN_WEIGHT * (Math.abs(this.#smooth - this.#mean) - this.#spread);
    this.#mean += MEAN_WEIGHT * (value - this.#mean);
    const gap = value - this.#level;
    this.#swing += SWING_WEIGHT * (Math.abs(gap) - this.#swing);
    if (gap > NOISE_RISE * this.#swing) this.#level = value;
    else if (gap > 0) this.#level += NOISE_RISE_SHARE * gap;
    else this.#level += this.#ease * gap;
    // Easing alone only approaches a lower load (never reaching 0 for a worker at rest): snap
    // once the gap is a trace of a swing, or at once when it is far beyond the noise.
    const above = this.#level - value;
    if ((above >= 0 && above <= SNAP * this.#swing) || above > FALL * this.#swing) this.#level = value;
  }

  #noteLow(time: number): void {
    const hour = Math.floor(time / HOUR_MS);
    const newest = this.#lows.at(-1);
    if (newest?.hour === hour) newest.low = Math.min(newest.low, this.#smooth);
    else this.#lows.push({ hour, low: this.#smooth });
    while ((this.#lows[0]?.hour ?? hour) <= hour - LOW_HOURS) this.#lows.shift();
  }

  /** The value to provision for; null before a reading. */
  plan(): number | null {
    return this.#level === null ? null : (this.#level + this.#spare * this.#swing) * this.#trim;
  }

  /** The top of the hold band; null before a reading. */
  hold(): number | null {
    if (this.#level === null) return null;
    let low = this.#mean;
    for (const hour of this.#lows) low = Math.min(low, hour.low);
    const share = this.#mean > low ? this.#spread / (this.#mean - low) : 0;
    const band = BAND + burstSwings(share, this.headroom);
    return (this.#level + (this.#spare + band) * this.#swing) * this.#trim;
  }
}

/**
 * The policy's dynos for one source, given the formation: up to the plan at once; else
 * hold while within the band or within `bootSeconds` of the last scale-up; else down to
 * the band's top. `dynosFor` is the plugin's (monotone) capacity model; what it throws
 * propagates. A change of headroom starts learning again (the level's pace depends on it).
 */
export class BandPolicy {
  #band: LevelBand | null = null;
  // The newest reading, as two numbers (no allocation per tick).
  #newestTime = Number.NEGATIVE_INFINITY;
  #newestValue = 0;
  #upAt = Number.NEGATIVE_INFINITY;
  /** The formation this policy last saw or asked for, and when. */
  #seen: number | null = null;
  #seenAt = Number.NEGATIVE_INFINITY;

  constructor(readonly bootSeconds: number) {}

  observe(time: number, value: number): void {
    if (time <= this.#newestTime) return;
    this.#newestTime = time;
    this.#newestValue = value;
    this.#band?.observe(time, value);
  }

  estimate(now: number, current: number, headroom: number, dynosFor: (value: number) => number): number | null {
    // A formation larger than we left it was scaled up (by hand, or a schedule's minimum) since
    // the last decision: count the boot from then, the earliest it can have happened.
    if (this.#seen !== null && current > this.#seen) this.#upAt = Math.max(this.#upAt, this.#seenAt);
    this.#seen = current;
    this.#seenAt = now;
    if (this.#band?.headroom !== headroom && this.#newestTime > Number.NEGATIVE_INFINITY) {
      this.#band = new LevelBand(headroom);
      this.#band.observe(this.#newestTime, this.#newestValue);
    }
    const plan = this.#band?.plan() ?? null;
    if (plan === null) return null;
    const up = whole(dynosFor(plan));
    if (up === null) return null;
    if (up > current) {
      this.#upAt = now;
      this.#seen = up;
      return up;
    }
    if (now - this.#upAt < this.bootSeconds * 1000) return current;
    // At rest (a plan of 0) the band would keep a dyno forever: the engine's idle rule times the way to zero.
    if (up === 0) return 0;
    const hold = whole(dynosFor(this.#band?.hold() ?? plan));
    return hold === null || hold >= current ? current : hold;
  }
}

function whole(dynos: number): number | null {
  return Number.isFinite(dynos) && dynos >= 0 ? Math.ceil(dynos) : null;
}
