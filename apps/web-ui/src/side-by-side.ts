/**
 * Two figures and their difference as a table shows them, to `digits` decimals. The difference
 * is the shown figures' (both rounded first), so it always agrees with them: rounded on its own,
 * 0.26 and 0.34 would show as "0.3", "0.3" and "+0.1".
 */
export function sideBySide(before: number, after: number, digits: number): [string, string, string] {
  const scale = 10 ** digits;
  const b = Math.round(before * scale);
  const a = Math.round(after * scale);
  const change = a - b;
  const sign = change > 0 ? "+" : change < 0 ? "−" : "±";
  return [
    (b / scale).toFixed(digits),
    (a / scale).toFixed(digits),
    `${sign}${(Math.abs(change) / scale).toFixed(digits)}`,
  ];
}
