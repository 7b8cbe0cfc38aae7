import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import {
  type AppEvent,
  type AppSummary,
  appStatus,
  listApps,
  events as loadEvents,
  readings,
  type SourceStatus,
  setPaused,
  streamTicks,
  type WebhookView,
} from "../api.js";
import { groupBursts } from "../bursts.js";
import { Chart } from "../chart.js";
import { chartsByProcess, fromMinute, fromTick, type Point } from "../series.js";
import { DrainPanel } from "./drain-panel.js";
import { AppState } from "./overview.js";

const RANGES = { "1 h": 3_600_000, "24 h": 86_400_000, "7 d": 7 * 86_400_000 } as const;
type Range = keyof typeof RANGES;
/** Live ticks kept on the chart beyond the stored minutes. */
const LIVE_POINTS = 2_000;

/** One app: the live chart, its sources now, the event log; pause and resume. */
export function AppPage({ name }: { name: string }) {
  const [range, setRange] = useState<Range>("1 h");
  /** How many times a range was chosen: the chart's key. */
  const [chosen, setChosen] = useState(0);
  const [points, setPoints] = useState<Point[]>([]);
  const [log, setLog] = useState<AppEvent[]>([]);
  const [sources, setSources] = useState<SourceStatus[]>([]);
  const latest = useRef(sources);
  latest.current = sources;
  const [paused, setPausedState] = useState<boolean | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [since, setSince] = useState(() => Date.now() - RANGES[range]);
  /** The app as the overview sees it: its state in words. */
  const [summary, setSummary] = useState<AppSummary | null>(null);
  const loadSummary = () =>
    // The apps whose name contains this one's (the server pages): this one is among them.
    listApps({ limit: 1000, q: name }).then(
      (page) => setSummary(page.apps.find((a) => a.name === name) ?? null),
      () => {},
    );
  useEffect(() => {
    loadSummary();
  }, [name, paused]);
  /** A hold on formation changes and the boot times Heroku's webhook measured. */
  const [webhook, setWebhook] = useState<WebhookView | null>(null);
  const held = useRef(false);
  held.current = webhook?.hold != null;
  /** The process type the event log is narrowed to ("" for all). */
  const [only, setOnly] = useState("");

  useEffect(() => {
    const since = new Date(Date.now() - RANGES[range]);
    setSince(since.getTime());
    let alive = true;
    Promise.all([readings(name, since), loadEvents(name, since), appStatus(name)]).then(
      ([rows, evs, status]) => {
        if (!alive) return;
        setPoints(rows.map(fromMinute));
        setLog(evs);
        setSources(status.sources);
        setPausedState(status.paused);
        setWebhook(status.webhook);
      },
      (e: Error) => alive && setError(e.message),
    );
    const stop = streamTicks(name, (tick) => {
      setPoints((p) => [...p, fromTick(tick)].slice(-LIVE_POINTS - 10_080));
      // Scaling, a manual change or a source going out is stored as an event before the tick is sent.
      if (tick.events.length > 0 || healthChanged(latest.current, tick.sources))
        loadEvents(name, since).then(
          (evs) => alive && setLog(evs),
          () => {},
        );
      // Scaling or a source going out changes the state in words.
      if (tick.events.length > 0 || healthChanged(latest.current, tick.sources)) loadSummary();
      // A hold comes from a webhook, between ticks: a tick held (or one after the hold) says to look again.
      if (held.current || /; held: /.test(tick.reason))
        appStatus(name).then(
          (s) => alive && setWebhook(s.webhook),
          () => {},
        );
      // A tick reports one process type's sources: the other types' rows stay.
      setSources((before) => mergeSources(before, tick.sources));
    });
    return () => {
      alive = false;
      stop();
    };
  }, [name, range]);

  // The window ends now, by the page's clock: it moves on as live points arrive.
  const limits = useMemo(
    () =>
      new Map(
        (summary?.processes ?? []).flatMap((p) =>
          p.min_dynos !== null && p.max_dynos !== null
            ? [[p.type, { min: p.min_dynos, max: p.max_dynos }] as const]
            : [],
        ),
      ),
    [summary],
  );
  const charts = useMemo(() => chartsByProcess(points, log, since, Date.now(), limits), [points, log, since, limits]);

  const toggle = async () => {
    try {
      await setPaused(name, !paused);
      setPausedState(!paused);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <main>
      <p>
        <a href="#/">Apps</a> / <a href={`#/apps/${encodeURIComponent(name)}/config`}>Config</a>
      </p>
      <h1>{name}</h1>
      {summary && (
        <p class="app-state" role="status">
          <AppState app={summary} />
        </p>
      )}
      {webhook?.hold && (
        <p class="hold" role="status">
          Formation changes held: {webhook.hold.reason}
        </p>
      )}
      {webhook && Object.keys(webhook.measured).length > 0 && (
        <p class="boot">
          Boot time measured (Heroku webhook):{" "}
          {Object.entries(webhook.measured)
            .map(
              ([type, b]) =>
                `${type} ${b.median_seconds} s (median of ${b.samples}${b.samples > 1 ? `, last ${b.last_seconds} s` : ""})`,
            )
            .join("; ")}{" "}
          · <code>boot_seconds</code> {webhook.bootSeconds} s
        </p>
      )}
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <div class="actions">
        {paused !== null && (
          <button type="button" onClick={toggle}>
            {paused ? "Resume scaling" : "Pause scaling"}
          </button>
        )}
        <fieldset class="ranges">
          <legend>Range</legend>
          {(Object.keys(RANGES) as Range[]).map((r) => (
            <button
              key={r}
              type="button"
              aria-pressed={r === range}
              onClick={() => {
                setRange(r);
                setChosen((n) => n + 1);
              }}
            >
              {r}
            </button>
          ))}
        </fieldset>
      </div>
      {/* Each choice of a range is a new chart: a drag-to-zoom does not outlive it, even choosing the same range. */}
      {charts.map((c) => (
        <section key={c.type} class="process-chart" aria-label={`${c.type} chart`}>
          {charts.length > 1 && <h2>{c.type}</h2>}
          <Chart
            key={`${chosen}-${c.type}`}
            data={c.data}
            label={`${name} ${c.type}: dynos, estimate${c.data.limits ? `, min ${c.data.limits.min} and max ${c.data.limits.max}` : ""} and each source's value over the last ${range}; drag to zoom, double-click to zoom out`}
          />
        </section>
      ))}
      <DrainPanel name={name} since={since} range={range} points={points} />

      <h2>Sources</h2>
      {sources.length === 0 ? (
        <p class="muted">No reading yet.</p>
      ) : (
        <table class="apps sources cards">
          <thead>
            <tr>
              <th scope="col">Source</th>
              <th scope="col">Value</th>
              <th scope="col">Estimate</th>
              <th scope="col">Health</th>
              <th scope="col">Last reading</th>
              <th scope="col">Last error</th>
            </tr>
          </thead>
          <tbody>
            {sources.map((s) => (
              <tr key={s.name}>
                <th scope="row">{s.name}</th>
                <td class="num" data-label="Value">
                  {s.value ?? "–"} {s.unit}
                </td>
                <td class="num" data-label="Estimate">
                  {s.estimate ?? "–"}
                </td>
                <td data-label="Health">
                  <span class={`dot ${s.health}`} role="img" aria-label={s.health} /> {s.health}
                </td>
                <td data-label="Last reading">{s.lastRetrieval ? new Date(s.lastRetrieval).toLocaleString() : "–"}</td>
                <td data-label="Last error">{s.lastError ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h2>Events</h2>
      <div class="actions">
        <label>
          Process type{" "}
          <select value={only} onChange={(e) => setOnly(e.currentTarget.value)}>
            <option value="">all</option>
            {processTypes(log).map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <p class="muted">Times in {TIME_ZONE}.</p>
      </div>
      {log.length === 0 ? (
        <p class="muted">Nothing happened in the last {range}.</p>
      ) : (
        <ol class="events" reversed>
          {groupBursts(
            [...log]
              .reverse()
              // An app-wide event (a config change, Heroku not answering) is every process type's.
              .filter((e) => only === "" || typeof e.data.process !== "string" || e.data.process === only),
          ).map(({ head: e, rest }) => (
            <li key={`${e.at}-${e.kind}-${e.message}`} data-kind={e.kind}>
              <time dateTime={e.at}>{new Date(e.at).toLocaleString()}</time>{" "}
              <span class={`kind ${e.kind}`}>{e.kind}</span> {e.message}
              {rest.length > 0 && (
                <details class="burst">
                  <summary>
                    {rest.length} more scale {rest.length === 1 ? "event" : "events"} just before
                  </summary>
                  <ol>
                    {rest.map((r) => (
                      <li key={`${r.at}-${r.kind}-${r.message}`} data-kind={r.kind}>
                        <time dateTime={r.at}>{new Date(r.at).toLocaleString()}</time> {r.message}
                      </li>
                    ))}
                  </ol>
                </details>
              )}
            </li>
          ))}
        </ol>
      )}
    </main>
  );
}

/** The browser's time zone, which every time on the page is shown in. */
const TIME_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;

/** The process types the events are about, in order of first appearance. */
function processTypes(log: AppEvent[]): string[] {
  return [...new Set(log.map((e) => e.data.process).filter((p): p is string => typeof p === "string"))];
}

/** `now`'s rows in place of those of the same name, the others kept, in a stable order. */
function mergeSources(before: SourceStatus[], now: SourceStatus[]): SourceStatus[] {
  const byName = new Map(before.map((s) => [s.name, s]));
  for (const s of now) byName.set(s.name, s);
  return [...byName.values()];
}

/** A source went out or came back: the server records that as an event. */
function healthChanged(before: SourceStatus[], now: SourceStatus[]): boolean {
  return now.some((s) => {
    const was = before.find((b) => b.name === s.name)?.health;
    return was !== undefined && (was === "outage") !== (s.health === "outage");
  });
}
