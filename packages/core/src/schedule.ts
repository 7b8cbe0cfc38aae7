import { z } from "zod";

const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
const TIME = /^(([01]\d|2[0-3]):[0-5]\d|24:00)$/;

/** One window of `processes.<type>.schedule`. */
export const scheduleWindowSchema = z
  .object({
    days: z
      .array(z.enum(DAYS))
      .min(1)
      .optional()
      .describe("Days the window starts on (local time); every day when left out"),
    from: z.string().regex(TIME, "a time of day as HH:MM, e.g. 08:00").describe("Local start time, HH:MM"),
    to: z
      .string()
      .regex(TIME, "a time of day as HH:MM, e.g. 18:00")
      .describe("Local end time, HH:MM; before `from` means the next day (e.g. 22:00–06:00)"),
    min_dynos: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("Fewest dynos during the window (the process's own when left out)"),
    max_dynos: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe("Most dynos during the window (the process's own when left out)"),
  })
  .strict();

export type ScheduleWindow = z.output<typeof scheduleWindowSchema>;

export interface Limits {
  min: number;
  max: number;
  /** Index of the window in force, or null outside every window. */
  window: number | null;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Day of week (0 = Sunday) and minute of day at `time` in `timeZone`. */
function localTime(time: number, timeZone: string): { day: number; minute: number } {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      weekday: "short",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    formatters.set(timeZone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(time).map((p) => [p.type, p.value]));
  const day = DAYS.indexOf(String(parts.weekday).toLowerCase() as (typeof DAYS)[number]);
  return { day, minute: Number(parts.hour) * 60 + Number(parts.minute) };
}

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));

/**
 * Whether the window is in force at local `day`/`minute`. The local clock decides, so a
 * window keeps its hours across daylight-saving changes.
 */
function inWindow(w: ScheduleWindow, day: number, minute: number): boolean {
  const from = minutes(w.from);
  const to = minutes(w.to);
  const starts = (d: number) => !w.days || w.days.includes(DAYS[(d + 7) % 7] as (typeof DAYS)[number]);
  if (from < to) return starts(day) && minute >= from && minute < to;
  // Past midnight: in force from `from` on a starting day until `to` the day after.
  return (starts(day) && minute >= from) || (starts(day - 1) && minute < to);
}

/** The limits in force at `time`: the first matching window wins, else the process's own. */
export function limitsAt(
  own: { min: number; max: number },
  schedule: readonly ScheduleWindow[],
  timeZone: string,
  time: number,
): Limits {
  if (schedule.length === 0) return { ...own, window: null };
  const { day, minute } = localTime(time, timeZone);
  const i = schedule.findIndex((w) => inWindow(w, day, minute));
  const w = schedule[i];
  return w ? { min: w.min_dynos ?? own.min, max: w.max_dynos ?? own.max, window: i } : { ...own, window: null };
}

/** When the limits next change after `time` (to the minute), within eight days; null if never. */
export function nextChange(
  own: { min: number; max: number },
  schedule: readonly ScheduleWindow[],
  timeZone: string,
  time: number,
): { at: number; limits: Limits } | null {
  if (schedule.length === 0) return null;
  const now = limitsAt(own, schedule, timeZone, time);
  const start = Math.floor(time / 60_000) * 60_000;
  for (let t = start + 60_000; t <= start + 8 * 86_400_000; t += 60_000) {
    const limits = limitsAt(own, schedule, timeZone, t);
    if (limits.min !== now.min || limits.max !== now.max || limits.window !== now.window) return { at: t, limits };
  }
  return null;
}

/** Whether `timeZone` is an IANA zone this Node.js knows. */
export function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
    return true;
  } catch {
    return false;
  }
}
