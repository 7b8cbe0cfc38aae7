import { useEffect, useRef, useState } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { ApiError, type Replay, type ReplayScore, replay } from "../api.js";
import { sideBySide } from "../side-by-side.js";
import { verdict } from "../verdict.js";

type Problem = ApiError["errors"][number];

/**
 * "Try it first": replays the app's stored readings of the last days with the draft and with
 * the running version, and shows cost, shortfall and scale events side by side, with a chart.
 * Nothing is saved. A draft the server refuses hands its errors to `onInvalid` (to show at
 * their fields, as a save's are); one it replays hands it none.
 */
export function ReplayPanel({
  name,
  draft,
  version,
  onInvalid,
}: {
  name: string;
  draft: Record<string, unknown>;
  version: number;
  onInvalid: (errors: Problem[]) => void;
}) {
  const [days, setDays] = useState("1");
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ replay: Replay; draft: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const n = Number(days);

  const run = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      setResult({ replay: await replay(name, draft, n), draft: JSON.stringify(draft) });
      // The draft passed the server's checks: errors a refused replay put at the fields are gone.
      onInvalid([]);
    } catch (x) {
      setResult(null);
      const configErrors = x instanceof ApiError ? x.errors.filter((p) => p.path !== "days") : [];
      if (x instanceof ApiError && configErrors.length > 0) {
        onInvalid(configErrors);
        setError("The draft cannot be replayed: see the errors at their fields.");
      } else setError((x as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const r = result?.replay;
  return (
    <section class="replay" aria-labelledby="replay-title">
      <h2 id="replay-title">Try it first</h2>
      <p class="muted">
        Replays the readings stored for this app through the engine, with this draft and with version {version}: no call
        to Heroku, nothing saved.
      </p>
      {/* A submit the browser's checks block (e.g. 15 days) never reaches `run`: the last answer's alert goes all the same. */}
      <form class="actions" onSubmit={run} onInvalidCapture={() => setError(null)}>
        <div>
          <label for="replay-days">Days to replay (1 to 14)</label>
          <input
            id="replay-days"
            type="number"
            min={1}
            max={14}
            step={1}
            required
            value={days}
            onInput={(e) => setDays(e.currentTarget.value)}
          />
        </div>
        <button type="submit" disabled={busy}>
          Replay the last {Number.isInteger(n) && n > 1 ? `${n} days` : "day"}
        </button>
      </form>
      {busy && <p role="status">Replaying…</p>}
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {r && result && (
        <>
          <p>
            Replayed {duration(r.span.minutes)} of stored readings, from{" "}
            <time dateTime={r.span.from}>{new Date(r.span.from).toLocaleString()}</time> to{" "}
            <time dateTime={r.span.to}>{new Date(r.span.to).toLocaleString()}</time>.
            {result.draft !== JSON.stringify(draft) && <strong> The draft has changed since: replay again.</strong>}
          </p>
          <p class="verdict" role="status">
            <strong>{verdict(r.running, r.draft)}</strong>
          </p>
          <ScoreTable running={r.running} draft={r.draft} version={version} />
          {r.skipped.map((s) => (
            <p key={s.type} class="muted">
              {s.type} not replayed: {s.reason}.
            </p>
          ))}
          {r.processes.map((p) => (
            <div key={p.type}>
              {r.processes.length > 1 && <h3>{p.type}</h3>}
              {r.processes.length > 1 && <ScoreTable running={p.running} draft={p.draft} version={version} />}
              <p class="muted">
                Sources replayed: {p.sources.draft.join(", ")}
                {p.sources.running.join() !== p.sources.draft.join() &&
                  ` (version ${version}: ${p.sources.running.join(", ")})`}
                ; a source without stored readings is left out.
              </p>
              {p.filled_minutes > 0 && (
                <p class="muted">
                  {p.filled_minutes} of the minutes had no stored reading: the one before stood in, as the engine keeps
                  the last good reading.
                </p>
              )}
              <ReplayChart
                label={`${p.type}: dynos over the replayed minutes, version ${version} against the draft`}
                series={p.series}
              />
            </div>
          ))}
        </>
      )}
    </section>
  );
}

function ScoreTable({ running, draft, version }: { running: ReplayScore; draft: ReplayScore; version: number }) {
  const rows: [string, (s: ReplayScore) => number, number][] = [
    // Hundredths: a replay of a few hours costs fractions of a dyno-hour.
    ["Cost (dyno-hours)", (s) => s.cost_dyno_hours, 2],
    ["Shortfall (% of dyno-minutes needed)", (s) => s.shortfall_percent, 2],
    ["Scale events", (s) => s.scale_events, 0],
  ];
  return (
    <table class="apps replay-scores">
      <thead>
        <tr>
          <th scope="col">Over the replayed minutes</th>
          <th scope="col" class="num">
            Running (version {version})
          </th>
          <th scope="col" class="num">
            Draft
          </th>
          <th scope="col" class="num">
            Difference
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map(([label, of, digits]) => {
          const [before, after, change] = sideBySide(of(running), of(draft), digits);
          return (
            <tr key={label}>
              <th scope="row">{label}</th>
              <td class="num">{before}</td>
              <td class="num">{after}</td>
              <td class="num">{change}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** Dynos of both configs over the replayed minutes, and what the draft would have needed; drag to zoom. */
function ReplayChart({ series, label }: { series: Replay["processes"][number]["series"]; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const stepped = uPlot.paths.stepped?.({ align: 1 });
    const plot = new uPlot(
      {
        width: el.clientWidth || 600,
        height: 240,
        cursor: { drag: { x: true, y: false } },
        scales: { x: { time: true } },
        axes: [{}, { label: "dynos" }],
        series: [
          {},
          { label: "running", stroke: "#57606a", width: 2, paths: stepped },
          { label: "draft", stroke: "#0550ae", width: 2, paths: stepped },
          { label: "needed (draft)", stroke: "#cf222e", dash: [6, 4], paths: stepped },
        ],
      },
      [series.minutes, series.running.dynos, series.draft.dynos, series.draft.needed],
      el,
    );
    const resize = () => plot.setSize({ width: el.clientWidth, height: 240 });
    window.addEventListener("resize", resize);
    return () => {
      window.removeEventListener("resize", resize);
      plot.destroy();
    };
  }, [series]);
  return <div ref={box} class="chart" role="img" aria-label={label} />;
}

function duration(minutes: number): string {
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  const parts = [d && `${d} day${d > 1 ? "s" : ""}`, h && `${h} h`, m && `${m} min`].filter(Boolean);
  return parts.join(" ") || "0 min";
}
