import { useState } from "preact/hooks";
import { ApiError, drainInfo, registerDrain } from "../api.js";

/**
 * The app's Heroku log drain, set up from the page: its URL and the `heroku drains:add` line
 * (the URL is made on first ask, and is a secret: shown only when asked for), and a button that
 * has this server add it to the Heroku app with the app's own key.
 */
export function DrainSetup({ name, hasDrain }: { name: string; hasDrain: boolean }) {
  const [drain, setDrain] = useState<{ url: string; command: string } | null>(null);
  const [outcome, setOutcome] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const show = () => {
    setError(null);
    drainInfo(name).then(setDrain, (e: Error) => setError(refusal(e)));
  };
  const register = () => {
    setBusy(true);
    setOutcome(null);
    setError(null);
    registerDrain(name)
      .then(
        (r) =>
          setOutcome(
            r.result === "registered"
              ? "Added: Heroku sends the router's lines to this server from now on."
              : "Heroku lists this drain already: nothing to add.",
          ),
        (e: Error) => setError(refusal(e)),
      )
      .finally(() => setBusy(false));
  };

  return (
    <div class="drain-setup">
      {!hasDrain && (
        <p class="muted">
          Scale web on what Heroku's router sees (requests, queue time, H12s): give this app a log drain.
        </p>
      )}
      {drain === null ? (
        <button type="button" onClick={show}>
          {hasDrain ? "Show the drain URL" : "Set up a log drain"}
        </button>
      ) : (
        <>
          <p>Add it to the Heroku app (the URL is a secret: anyone holding it can feed this app's readings):</p>
          <pre class="command">{drain.command}</pre>
          <button type="button" onClick={register} disabled={busy}>
            Add it to Heroku for me
          </button>
        </>
      )}
      {outcome && <p role="status">{outcome}</p>}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

/** What went wrong, in the server's words; Heroku's refusals come with the line to run instead. */
function refusal(e: Error): string {
  if (e instanceof ApiError && e.status === 403) return "Only an admin can see or add the drain.";
  if (!(e instanceof ApiError)) return e.message;
  const command = e.body?.command;
  if (typeof command === "string") return `${e.message} Run instead: ${command}`;
  const hints = e.errors.flatMap((p) => (p.hint ? [p.hint] : []));
  return [e.message, ...hints].join(": ");
}
