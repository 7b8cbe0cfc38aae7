/*
 * A few dozen values as a tiny line: plain SVG, so the overview loads no chart library
 * (uPlot comes with the app page only). A gap in the data is a gap in the line.
 */
const WIDTH = 96;
const HEIGHT = 24;
const PAD = 2;

export function Sparkline({ values, label }: { values: readonly (number | null)[]; label: string }) {
  const known = values.filter((v): v is number => v !== null);
  if (known.length === 0) return <span class="muted">no data</span>;
  const top = Math.max(1, ...known);
  const x = (i: number) => PAD + (i * (WIDTH - 2 * PAD)) / Math.max(1, values.length - 1);
  const y = (v: number) => HEIGHT - PAD - (v / top) * (HEIGHT - 2 * PAD);
  const runs: { i: number; v: number }[][] = [];
  let run: { i: number; v: number }[] = [];
  values.forEach((v, i) => {
    if (v === null) {
      if (run.length) runs.push(run);
      run = [];
    } else run.push({ i, v });
  });
  if (run.length) runs.push(run);
  return (
    <svg class="spark" width={WIDTH} height={HEIGHT} viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={label}>
      {runs.map((r) => {
        const [first] = r;
        if (!first) return null;
        return r.length === 1 ? (
          <circle key={first.i} cx={x(first.i)} cy={y(first.v)} r={1.5} />
        ) : (
          <polyline key={first.i} points={r.map((p) => `${x(p.i).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ")} />
        );
      })}
    </svg>
  );
}

/** What the sparkline says, for its label: the range and the newest value. */
export function sparkText(values: readonly (number | null)[]): string {
  const known = values.filter((v): v is number => v !== null);
  if (known.length === 0) return "no data";
  return `between ${Math.min(...known)} and ${Math.max(...known)}, last ${known.at(-1)}`;
}
