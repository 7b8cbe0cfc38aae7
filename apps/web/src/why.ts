import type { TickReport } from "@dynosaur/core";

/** A reading as a person writes it: whole numbers as they are, others to 3 significant digits. */
const figure = (n: number) => (Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(3))));

/**
 * Why a process type was scaled, in one line, from the tick that scaled it:
 * "web 2 → 8: site read 54 req/min, needs 27, capped at max 8". The winning source, its
 * reading and what it asks for; then what the limits made of it (the report's estimate is
 * the winner's clamped to [min, max]); then the policy's reason when it is more than "scale
 * up/down" (e.g. "below min_dynos (2)").
 */
export function whyScaled(report: TickReport, from: number, to: number): string {
  const head = `${report.processType} ${from} → ${to}`;
  const parts: string[] = [];
  const winner = report.sources.find((s) => s.name === report.winner);
  if (winner && winner.value !== null) {
    parts.push(`${winner.name} read ${figure(winner.value)} ${winner.unit}`);
    if (winner.estimate !== null) {
      parts.push(`needs ${winner.estimate}`);
      if (report.estimate !== null && winner.estimate > report.estimate) parts.push(`capped at max ${report.estimate}`);
      if (report.estimate !== null && winner.estimate < report.estimate) parts.push(`raised to min ${report.estimate}`);
    }
  }
  if (!/^scale (up|down)$/.test(report.reason) || parts.length === 0) parts.push(report.reason);
  return `${head}: ${parts.join(", ")}`;
}
