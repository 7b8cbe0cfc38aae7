/**
 * `value`, which the caller knows is there (an index within bounds, a row of a non-empty
 * table): its absence is a bug in this package, reported as one rather than read as `undefined`.
 */
export function must<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`@dynosaur/backtest: ${what} is missing (a bug: please report it)`);
  return value;
}
