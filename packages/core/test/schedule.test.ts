import { describe, expect, it } from "vitest";
import { limitsAt, nextChange, type ScheduleWindow, scheduleWindowSchema } from "../src/schedule.js";

/*
 * 2026 calendar facts these tests rely on: 1 March is a Sunday. Europe/Helsinki goes
 * EET (UTC+2) → EEST (UTC+3) at 03:00 on Sunday 29 March and back at 04:00 on Sunday 25
 * October; America/New_York goes EST → EDT at 02:00 on Sunday 8 March and back at 02:00 on
 * Sunday 1 November.
 */
const own = { min: 1, max: 10 };
const utc = (month: number, day: number, hour: number, minute = 0) => Date.UTC(2026, month - 1, day, hour, minute);
const window = (w: Partial<ScheduleWindow> & Pick<ScheduleWindow, "from" | "to">): ScheduleWindow =>
  scheduleWindowSchema.parse(w);

describe("limitsAt", () => {
  const office = [window({ days: ["mon", "tue", "wed", "thu", "fri"], from: "08:00", to: "18:00", min_dynos: 4 })];

  it("applies a window from its start minute up to, not including, its end", () => {
    // Monday 2 March 2026, UTC.
    expect(limitsAt(own, office, "UTC", utc(3, 2, 7, 59))).toEqual({ min: 1, max: 10, window: null });
    expect(limitsAt(own, office, "UTC", utc(3, 2, 8, 0))).toEqual({ min: 4, max: 10, window: 0 });
    expect(limitsAt(own, office, "UTC", utc(3, 2, 17, 59))).toEqual({ min: 4, max: 10, window: 0 });
    expect(limitsAt(own, office, "UTC", utc(3, 2, 18, 0))).toEqual({ min: 1, max: 10, window: null });
  });

  it("only on the days listed; every day when days is left out", () => {
    expect(limitsAt(own, office, "UTC", utc(3, 7, 10)).window).toBeNull(); // Saturday
    expect(limitsAt(own, office, "UTC", utc(3, 1, 10)).window).toBeNull(); // Sunday
    const daily = [window({ from: "08:00", to: "18:00", max_dynos: 3 })];
    expect(limitsAt(own, daily, "UTC", utc(3, 7, 10))).toEqual({ min: 1, max: 3, window: 0 });
  });

  it("a window past midnight runs into the next day, counted from the day it starts", () => {
    const friday = [window({ days: ["fri"], from: "22:00", to: "06:00", min_dynos: 2 })];
    expect(limitsAt(own, friday, "UTC", utc(3, 6, 21, 59)).window).toBeNull(); // Fri 21:59
    expect(limitsAt(own, friday, "UTC", utc(3, 6, 23, 0)).window).toBe(0); // Fri 23:00
    expect(limitsAt(own, friday, "UTC", utc(3, 7, 5, 59)).window).toBe(0); // Sat 05:59, started Friday
    expect(limitsAt(own, friday, "UTC", utc(3, 7, 6, 0)).window).toBeNull(); // Sat 06:00
    expect(limitsAt(own, friday, "UTC", utc(3, 7, 23, 0)).window).toBeNull(); // Sat 23:00: Saturday is no start day
    expect(limitsAt(own, friday, "UTC", utc(3, 6, 5, 0)).window).toBeNull(); // Fri 05:00: would have started Thursday
  });

  it("the first matching window wins, and leaves the other limit as the process's own", () => {
    const schedule = [
      window({ days: ["sat"], from: "00:00", to: "24:00", max_dynos: 2 }),
      window({ from: "08:00", to: "18:00", min_dynos: 5 }),
    ];
    expect(limitsAt(own, schedule, "UTC", utc(3, 7, 12))).toEqual({ min: 1, max: 2, window: 0 }); // Saturday: the first
    expect(limitsAt(own, schedule, "UTC", utc(3, 6, 12))).toEqual({ min: 5, max: 10, window: 1 }); // Friday: the second
  });

  it("reads the hours in the configured time zone", () => {
    const daily = [window({ from: "08:00", to: "18:00", min_dynos: 3 })];
    // Winter: Helsinki is UTC+2, so 08:00 there is 06:00 UTC.
    expect(limitsAt(own, daily, "Europe/Helsinki", utc(1, 15, 5, 59)).window).toBeNull();
    expect(limitsAt(own, daily, "Europe/Helsinki", utc(1, 15, 6, 0)).window).toBe(0);
    // Summer: UTC+3, so 08:00 is 05:00 UTC.
    expect(limitsAt(own, daily, "Europe/Helsinki", utc(7, 15, 5, 0)).window).toBe(0);
    expect(limitsAt(own, daily, "America/New_York", utc(7, 15, 5, 0)).window).toBeNull(); // 01:00 in New York
    expect(limitsAt(own, daily, "America/New_York", utc(7, 15, 12, 0)).window).toBe(0); // 08:00 EDT
  });

  it("without a schedule, the process's own limits", () => {
    expect(limitsAt(own, [], "Europe/Helsinki", utc(3, 2, 9))).toEqual({ min: 1, max: 10, window: null });
  });
});

describe("daylight saving time", () => {
  const daily = [window({ from: "08:00", to: "18:00", min_dynos: 3 })];

  it("Helsinki, spring forward: a window keeps its local hours on both sides of the change", () => {
    expect(nextChange(own, daily, "Europe/Helsinki", utc(3, 27, 20))?.at).toBe(utc(3, 28, 6)); // Sat 08:00 EET
    expect(nextChange(own, daily, "Europe/Helsinki", utc(3, 28, 20))?.at).toBe(utc(3, 29, 5)); // Sun 08:00 EEST
    expect(nextChange(own, daily, "Europe/Helsinki", utc(3, 29, 6))?.at).toBe(utc(3, 29, 15)); // ends 18:00 EEST
  });

  it("Helsinki, spring forward: a window starting in the skipped hour starts when the clock jumps past it", () => {
    const skipped = [window({ from: "03:30", to: "05:00", min_dynos: 2 })];
    expect(limitsAt(own, skipped, "Europe/Helsinki", utc(3, 29, 0, 59)).window).toBeNull(); // 02:59 EET
    expect(limitsAt(own, skipped, "Europe/Helsinki", utc(3, 29, 1, 0)).window).toBe(0); // 04:00 EEST
    expect(nextChange(own, skipped, "Europe/Helsinki", utc(3, 29, 0, 0))).toEqual({
      at: utc(3, 29, 1, 0),
      limits: { min: 2, max: 10, window: 0 },
    });
    expect(nextChange(own, skipped, "Europe/Helsinki", utc(3, 29, 1, 0))?.at).toBe(utc(3, 29, 2, 0)); // 05:00 EEST
  });

  it("Helsinki, fall back: 08:00 is an hour later in UTC after the change", () => {
    expect(nextChange(own, daily, "Europe/Helsinki", utc(10, 24, 20))?.at).toBe(utc(10, 25, 6)); // Sun 08:00 EET
    expect(nextChange(own, daily, "Europe/Helsinki", utc(10, 23, 20))?.at).toBe(utc(10, 24, 5)); // Sat 08:00 EEST
  });

  it("New York, spring forward: 09:00 comes an hour earlier in UTC", () => {
    const office = [window({ from: "09:00", to: "17:00", min_dynos: 4 })];
    expect(nextChange(own, office, "America/New_York", utc(3, 7, 0))?.at).toBe(utc(3, 7, 14)); // Sat 09:00 EST
    expect(nextChange(own, office, "America/New_York", utc(3, 8, 0))?.at).toBe(utc(3, 8, 13)); // Sun 09:00 EDT
  });

  it("New York, fall back: a window in the repeated hour holds through both of its passes", () => {
    const repeated = [window({ from: "01:00", to: "02:00", max_dynos: 2 })];
    expect(nextChange(own, repeated, "America/New_York", utc(11, 1, 4, 30))).toEqual({
      at: utc(11, 1, 5),
      limits: { min: 1, max: 2, window: 0 },
    }); // 01:00 EDT
    expect(limitsAt(own, repeated, "America/New_York", utc(11, 1, 6, 30)).window).toBe(0); // 01:30 EST, the second pass
    expect(nextChange(own, repeated, "America/New_York", utc(11, 1, 5))?.at).toBe(utc(11, 1, 7)); // 02:00 EST
  });
});

describe("nextChange", () => {
  it("gives the time and the limits of the next change, to the minute", () => {
    const schedule = [window({ days: ["mon"], from: "08:00", to: "18:00", min_dynos: 4, max_dynos: 8 })];
    // From Saturday 7 March 10:17:31 to Monday 9 March 08:00.
    expect(nextChange(own, schedule, "UTC", utc(3, 7, 10, 17) + 31_000)).toEqual({
      at: utc(3, 9, 8),
      limits: { min: 4, max: 8, window: 0 },
    });
    expect(nextChange(own, schedule, "UTC", utc(3, 9, 8))).toEqual({
      at: utc(3, 9, 18),
      limits: { min: 1, max: 10, window: null },
    });
  });

  it("a change from one window to the next counts, even with equal limits", () => {
    const schedule = [
      window({ from: "08:00", to: "12:00", min_dynos: 3 }),
      window({ from: "12:00", to: "18:00", min_dynos: 3 }),
    ];
    expect(nextChange(own, schedule, "UTC", utc(3, 2, 9))).toEqual({
      at: utc(3, 2, 12),
      limits: { min: 3, max: 10, window: 1 },
    });
  });

  it("null without a schedule, or when the limits never change", () => {
    expect(nextChange(own, [], "UTC", utc(3, 2, 9))).toBeNull();
    expect(nextChange(own, [window({ from: "00:00", to: "24:00", min_dynos: 2 })], "UTC", utc(3, 2, 9))).toBeNull();
  });
});

describe("scheduleWindowSchema", () => {
  it("refuses times that are not HH:MM and days that are not three-letter names", () => {
    expect(scheduleWindowSchema.safeParse({ from: "8:00", to: "18:00" }).success).toBe(false);
    expect(scheduleWindowSchema.safeParse({ from: "08:00", to: "24:01" }).success).toBe(false);
    expect(scheduleWindowSchema.safeParse({ from: "08:00", to: "18:00", days: ["monday"] }).success).toBe(false);
    expect(scheduleWindowSchema.safeParse({ from: "08:00", to: "18:00", days: [] }).success).toBe(false);
    expect(scheduleWindowSchema.safeParse({ from: "08:00", to: "18:00", days: ["mon"], min_dynos: 0 }).success).toBe(
      true,
    );
  });
});
