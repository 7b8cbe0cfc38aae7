import { useEffect, useMemo, useState } from "preact/hooks";
import { type DrainChart as DrainAnswer, drainChart } from "../api.js";
import { DrainChart } from "../drain-chart.js";
import { drainSeries, silentFor } from "../drain-series.js";
import type { Point } from "../series.js";
import { DrainSetup } from "./drain-setup.js";

/** The stored minutes are written a little after each minute ends: asked again this often. */
const REFRESH_MS = 60_000;

/**
 * The app's Heroku log drain on the app page: requests/min, service and queue time p95 beside
 * the web dynos, H12/H13/H14 bursts shaded and listed, and a notice when the drain went silent.
 * An app without a drain gets the button that sets one up.
 */
export function DrainPanel({
  name,
  since,
  range,
  points,
}: {
  name: string;
  /** The range's start (ms, the page's clock). */
  since: number;
  /** The range in words ("1 h"). */
  range: string;
  /** The app's readings: the web dynos are drawn beside the drain's figures. */
  points: readonly Point[];
}) {
  const [chart, setChart] = useState<DrainAnswer | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let alive = true;
    const load = () =>
      drainChart(name, new Date(since)).then(
        (c) => {
          if (!alive) return;
          setChart(c);
          setError(null);
        },
        (e: Error) => alive && setError(e.message),
      );
    load();
    const timer = setInterval(load, REFRESH_MS);
    return () => {
      alive = false;
      clearInterval(timer);
    };
  }, [name, since]);

  const series = useMemo(() => (chart ? drainSeries(chart, points, since, Date.now()) : null), [chart, points, since]);

  if (error) return <p class="error">The drain's figures could not be read: {error}</p>;
  if (chart && !chart.drain)
    return (
      <section class="drain" aria-labelledby="drain-heading">
        <h2 id="drain-heading">Router (log drain)</h2>
        <DrainSetup name={name} hasDrain={false} />
      </section>
    );
  if (!chart?.drain || !series) return null;
  const last = chart.last_line_at;
  const hasMinutes = chart.minutes.length > 0;
  return (
    <section class="drain" aria-labelledby="drain-heading">
      <h2 id="drain-heading">Router (log drain)</h2>
      {chart.silent && (
        <p class="notice silent" role="status">
          {last === null
            ? "The drain has sent no lines yet. "
            : `The drain has sent no lines since ${new Date(last).toLocaleString()} (${silentFor(Date.parse(chart.now) - Date.parse(last))}). `}
          Check that it is still added to the Heroku app (<code>heroku drains</code>) and that the app gets traffic.
        </p>
      )}
      {hasMinutes ? (
        <>
          <h3>Requests</h3>
          <DrainChart
            data={{
              x: series.x,
              dynos: series.dynos,
              lines: [{ label: "requests/min", values: series.requests, stroke: "#8250df" }],
              unit: "requests/min",
              bursts: series.bursts,
              window: series.window,
            }}
            label={`${name}: web requests per minute and web dynos over the last ${range}${burstWords(series.bursts.length)}`}
          />
          <h3>Response times</h3>
          <DrainChart
            data={{
              x: series.x,
              dynos: series.dynos,
              lines: [
                { label: "queue time p95 (ms)", values: series.queueP95, stroke: "#bf3989" },
                { label: "service p95 (ms)", values: series.serviceP95, stroke: "#1a7f37", dash: [6, 4] },
              ],
              unit: "ms (log scale)",
              log: true,
              bursts: series.bursts,
              window: series.window,
            }}
            label={`${name}: queue time p95 and service time p95 (ms) and web dynos over the last ${range}${burstWords(series.bursts.length)}`}
          />
        </>
      ) : (
        <p class="muted">No minute of the drain in the last {range}.</p>
      )}
      {chart.bursts.length > 0 && (
        <>
          <h3>Router errors</h3>
          <ul class="bursts">
            {chart.bursts.map((b, i) => (
              <li key={b.from}>
                <time dateTime={b.from}>{new Date(b.from).toLocaleTimeString()}</time>–
                <time dateTime={b.to}>{new Date(b.to).toLocaleTimeString()}</time>{" "}
                <span class="codes">{series.bursts[i]?.label}</span>
              </li>
            ))}
          </ul>
          <p class="muted">
            H12: a request timed out after 30 s. H13: a dyno closed the connection. H14: no web dyno was running.
          </p>
        </>
      )}
      <DrainSetup name={name} hasDrain />
    </section>
  );
}

const burstWords = (n: number) => (n === 0 ? "" : `; ${n} ${n === 1 ? "burst" : "bursts"} of H12, H13 or H14 shaded`);
