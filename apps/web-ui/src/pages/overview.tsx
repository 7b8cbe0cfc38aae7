import { useEffect, useState } from "preact/hooks";
import {
  type ApiBudgetSummary,
  type AppRecent,
  type AppSummary,
  type Health,
  listApps,
  overview,
  type ProcessSummary,
} from "../api.js";
import { Sparkline, sparkText } from "../sparkline.js";

const REFRESH_MS = 15_000;
/** Apps per page: the server pages, erroring apps first. */
const PAGE = 100;

/** Every app at a glance: its processes, dynos now, the estimate, each source's health, badges. */
export function Overview() {
  const [apps, setApps] = useState<AppSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [recent, setRecent] = useState<Record<string, AppRecent>>({});
  const [budgets, setBudgets] = useState<ApiBudgetSummary[]>([]);
  const [q, setQ] = useState("");
  /** The cursors of the pages before this one, and this one's (undefined: the first page). */
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [next, setNext] = useState<string | null>(null);
  const [total, setTotal] = useState(0);
  const cursor = cursors.at(-1);

  useEffect(() => {
    let alive = true;
    const load = async () => {
      const query = { limit: PAGE, cursor, q: q.trim() || undefined };
      try {
        const page = await listApps(query);
        if (!alive) return;
        // The server's order: apps that need attention first, each group in name order.
        setApps(page.apps);
        setNext(page.next_cursor);
        setTotal(page.total);
        setError(null);
        // The sparklines and last events come in one answer, after the table is on screen.
        overview(query).then(
          (o) => {
            if (!alive) return;
            setRecent(o.apps);
            setBudgets(o.api_budgets ?? []);
          },
          () => {},
        );
      } catch (e) {
        if (alive) setError((e as Error).message);
      }
    };
    load();
    const timer = setInterval(load, REFRESH_MS);
    return () => {
      alive = false;
      clearInterval(timer);
    };
  }, [cursor, q]);

  useEffect(() => {
    // For the page-weight test: when the first list of apps is on screen.
    if (apps && performance.getEntriesByName("overview-rendered").length === 0) performance.mark("overview-rendered");
  }, [apps]);

  return (
    <main>
      <h1>Apps</h1>
      <p>
        <a href="#/add">Add an app</a>
      </p>
      <p class="paging">
        <label>
          Search apps{" "}
          <input
            type="search"
            value={q}
            onInput={(e) => {
              setQ((e.target as HTMLInputElement).value);
              setCursors([undefined]);
            }}
          />
        </label>{" "}
        {total > PAGE && (
          <>
            <button type="button" disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>
              Previous
            </button>{" "}
            <button type="button" disabled={next === null} onClick={() => next && setCursors([...cursors, next])}>
              Next
            </button>{" "}
            <span class="muted">
              apps {(cursors.length - 1) * PAGE + 1}–{(cursors.length - 1) * PAGE + (apps?.length ?? 0)} of {total},
              those that need attention first
            </span>
          </>
        )}
      </p>
      {error && (
        <p role="alert" class="error">
          Could not load the apps: {error}
        </p>
      )}
      {budgets
        .filter((b) => b.notice !== null)
        .map((b) => (
          // The Heroku key's API budget cannot cover the apps' poll intervals: reads are spaced.
          <p key={b.account} class="budget-notice" role="status">
            Heroku API budget: {b.notice}
          </p>
        ))}
      {apps === null ? (
        <p aria-busy="true">Loading…</p>
      ) : apps.length === 0 && q.trim() ? (
        <p>No app's name contains “{q.trim()}”.</p>
      ) : apps.length === 0 ? (
        <p>
          No apps yet. Store a config with <code>dynosaur-web import dynosaur.yaml --name shop</code> or PUT
          /api/apps/&#123;name&#125;/config.
        </p>
      ) : (
        <table class="apps overview cards">
          <thead>
            <tr>
              <th scope="col">App</th>
              <th scope="col">State</th>
              <th scope="col">Process</th>
              <th scope="col">Dynos now</th>
              <th scope="col">Estimate</th>
              <th scope="col">Sources</th>
              <th scope="col">Dynos, 24 h</th>
              <th scope="col">Last event</th>
              <th scope="col">Why</th>
            </tr>
          </thead>
          <tbody>
            {apps.flatMap((a) =>
              rowsOf(a).map((p, i, rows) => (
                <tr
                  key={`${a.name}/${p.type}`}
                  data-app={a.name}
                  class={`${a.attention ? "attention" : ""}${i === 0 ? " first" : ""}`}
                >
                  {i === 0 && (
                    <th scope="row" rowSpan={rows.length}>
                      <a href={`#/apps/${encodeURIComponent(a.name)}`}>{a.name}</a>
                      <span class="version">v{a.version}</span>
                    </th>
                  )}
                  {i === 0 && (
                    <td rowSpan={rows.length} class="state" data-label="State">
                      <AppState app={a} />
                    </td>
                  )}
                  <td data-label="Process">
                    {p.type}
                    {rows.length > 1 && <span class="process-state"> {p.state}</span>}
                  </td>
                  <td class="num" data-label="Dynos now">
                    {p.current ?? "–"}
                    {p.max_dynos !== null && <span class="muted"> of {p.max_dynos}</span>}
                  </td>
                  <td class="num" data-label="Estimate">
                    {p.estimate ?? "–"}
                  </td>
                  <td data-label="Sources">
                    <SourceDots sources={p.sources} />
                  </td>
                  {i === 0 && (
                    <td rowSpan={rows.length} data-label="Dynos, 24 h">
                      {recent[a.name] && (
                        <Sparkline
                          values={recent[a.name]?.dynos ?? []}
                          label={`${a.name}, dynos over the last 24 h: ${sparkText(recent[a.name]?.dynos ?? [])}`}
                        />
                      )}
                    </td>
                  )}
                  {i === 0 && (
                    <td rowSpan={rows.length} class="last-event" data-label="Last event">
                      <LastEvent event={recent[a.name]?.last_event ?? null} />
                    </td>
                  )}
                  {i === 0 && (
                    <td rowSpan={rows.length} data-label="Why">
                      <span class="reason">{a.problem ?? a.reason ?? ""}</span>
                    </td>
                  )}
                </tr>
              )),
            )}
          </tbody>
        </table>
      )}
    </main>
  );
}

/** The app's state in words, its badges first: what a look at the overview must tell. */
export function AppState({ app: a }: { app: AppSummary }) {
  return (
    <>
      {a.attention && <span class="badge problem">needs a look</span>}
      {a.paused && <span class="badge paused">paused</span>}
      {a.dry_run && <span class="badge dry">dry run</span>}
      <span class="state-text">{a.state}</span>
    </>
  );
}

function LastEvent({ event }: { event: AppRecent["last_event"] }) {
  if (!event) return null;
  return (
    <>
      <span class={`kind ${event.kind}`}>{event.kind}</span> {event.message}{" "}
      <time dateTime={event.at} class="muted">
        {new Date(event.at).toLocaleString()}
      </time>
    </>
  );
}

function SourceDots({ sources }: { sources: ProcessSummary["sources"] }) {
  if (sources.length === 0) return <span class="muted">no reading yet</span>;
  return (
    <ul class="dots">
      {sources.map((s) => (
        <li key={s.name}>
          <Dot health={s.health} label={`${s.name}: ${s.health}`} />
          {s.name}
        </li>
      ))}
    </ul>
  );
}

function Dot({ health, label }: { health: Health; label: string }) {
  return <span class={`dot ${health}`} role="img" aria-label={label} title={label} />;
}

/** One row per process type; an app that has not ticked yet (just added, or scaled elsewhere and silent) still gets one. */
function rowsOf(a: AppSummary): ProcessSummary[] {
  return a.processes.length > 0
    ? a.processes
    : [
        {
          type: "–",
          current: null,
          estimate: null,
          health: null,
          winner: null,
          sources: [],
          min_dynos: null,
          max_dynos: null,
          state: "no tick yet",
          attention: false,
        },
      ];
}
