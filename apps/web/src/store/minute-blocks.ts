/*
 * One hour of an app's per-minute series (one process type) packed into one row. A row per
 * minute costs its keys, its index entries and its field names 1,440 times a day per process
 * type; packed, an hour of one source is about a kilobyte. Unpacking gives back exactly the
 * rows that were packed (same values, same order of sources), so charts and replays read the
 * same series either way.
 */

export const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;
const HEALTHS = ["ok", "stale", "outage"] as const;

export interface MinuteSource {
  name: string;
  value: number | null;
  estimate: number | null;
  health: string;
}

export interface PackedMinute {
  minute: number;
  dynos: number | null;
  estimate: number | null;
  sources: MinuteSource[];
}

/** The stored columns of a block. */
export interface PackedBlock {
  names: string;
  dynos: string;
  estimate: string;
  sources: string;
}

export const hourOf = (minute: number): number => Math.floor(minute / HOUR_MS) * HOUR_MS;

/** Packs minutes of the hour starting at `start` (any order; a later duplicate wins). */
export function packBlock(start: number, minutes: readonly PackedMinute[]): PackedBlock {
  const names: string[] = [];
  const dynos: (number | null)[] = Array.from({ length: 60 }, () => null);
  const estimate: (number | null)[] = Array.from({ length: 60 }, () => null);
  const sources: ((number | string | null)[] | null)[] = Array.from({ length: 60 }, () => null);
  for (const m of minutes) {
    const i = Math.floor((m.minute - start) / MINUTE_MS);
    if (i < 0 || i >= 60) throw new Error(`minute ${m.minute} is not in the hour starting ${start}`);
    dynos[i] = m.dynos;
    estimate[i] = m.estimate;
    const flat: (number | string | null)[] = [];
    for (const s of m.sources) {
      let n = names.indexOf(s.name);
      if (n < 0) n = names.push(s.name) - 1;
      const h = HEALTHS.indexOf(s.health as (typeof HEALTHS)[number]);
      // A health this code does not know is kept as written.
      flat.push(n, s.value, s.estimate, h < 0 ? s.health : h);
    }
    sources[i] = flat;
  }
  return {
    names: JSON.stringify(names),
    dynos: JSON.stringify(dynos),
    estimate: JSON.stringify(estimate),
    sources: JSON.stringify(sources),
  };
}

/** The minutes of a block, oldest first. */
export function unpackBlock(start: number, block: PackedBlock): PackedMinute[] {
  const names = JSON.parse(block.names) as string[];
  const dynos = JSON.parse(block.dynos) as (number | null)[];
  const estimate = JSON.parse(block.estimate) as (number | null)[];
  const sources = JSON.parse(block.sources) as ((number | string | null)[] | null)[];
  const out: PackedMinute[] = [];
  sources.forEach((flat, i) => {
    if (flat === null) return;
    const list: MinuteSource[] = [];
    for (let k = 0; k < flat.length; k += 4) {
      const h = flat[k + 3];
      list.push({
        name: names[flat[k] as number] as string,
        value: flat[k + 1] as number | null,
        estimate: flat[k + 2] as number | null,
        health: typeof h === "number" ? (HEALTHS[h] ?? "ok") : (h as string),
      });
    }
    out.push({ minute: start + i * MINUTE_MS, dynos: dynos[i] ?? null, estimate: estimate[i] ?? null, sources: list });
  });
  return out;
}

/** Dynos per minute of a block (60 entries, null where none), without unpacking the sources. */
export function blockDynos(block: Pick<PackedBlock, "dynos">): (number | null)[] {
  return JSON.parse(block.dynos) as (number | null)[];
}
