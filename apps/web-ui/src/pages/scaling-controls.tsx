import { useEffect, useState } from "preact/hooks";
import { appStatus, type StoredConfig, saveConfig, setPaused } from "../api.js";

/**
 * Pause / resume (the app's flag: the engine keeps reading and reporting, never changes the
 * formation) and dry run (`scaler.dry_run` in the config: switching it saves a version).
 */
export function ScalingControls({
  name,
  stored,
  dirty,
  onSaved,
}: {
  name: string;
  stored: StoredConfig;
  /** The form has unsaved changes: switching dry run would save beside them, so it waits. */
  dirty: boolean;
  onSaved: (version: number) => void;
}) {
  const [paused, setPausedState] = useState<boolean | null>(null);
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<{ text: string; failed: boolean } | null>(null);
  /** "Scale for real" asks once more: from then on the engine calls Heroku. */
  const [confirming, setConfirming] = useState(false);
  useEffect(() => {
    appStatus(name).then(
      (s) => setPausedState(s.paused),
      (e: Error) => setNote({ text: e.message, failed: true }),
    );
  }, [name]);

  const scaler = (stored.config.scaler ?? {}) as Record<string, unknown>;
  const dryRun = scaler.dry_run === true;

  const run = async (what: () => Promise<string>) => {
    setBusy(true);
    setNote(null);
    try {
      setNote({ text: await what(), failed: false });
    } catch (e) {
      setNote({ text: (e as Error).message, failed: true });
    } finally {
      setBusy(false);
    }
  };
  const togglePause = () =>
    run(async () => {
      const next = !paused;
      await setPaused(name, next);
      setPausedState(next);
      return next ? "Paused: the engine reads and reports, and changes no dyno." : "Resumed: the engine scales again.";
    });
  const toggleDryRun = () =>
    run(async () => {
      setConfirming(false);
      const config = { ...stored.config, scaler: { ...scaler, dry_run: !dryRun } };
      const r = await saveConfig(name, config, stored.version, dryRun ? "dry run off" : "dry run on");
      onSaved(r.version);
      return `${dryRun ? "Dry run off" : "Dry run on"}: saved as version ${r.version}.`;
    });

  return (
    <section class="scaling-controls" aria-labelledby="scaling-controls">
      <h2 id="scaling-controls">Scaling</h2>
      <p>
        {paused === null ? "…" : paused ? <span class="badge paused">paused</span> : "running"}
        {dryRun && <span class="badge dry">dry run</span>}
      </p>
      <div class="actions">
        <button type="button" disabled={busy || paused === null} onClick={togglePause}>
          {paused ? "Resume scaling" : "Pause scaling"}
        </button>
        <button
          type="button"
          disabled={busy || dirty || confirming}
          onClick={dryRun ? () => setConfirming(true) : toggleDryRun}
          aria-describedby="dry-run-note"
        >
          {dryRun ? "Scale for real (dry run off)" : "Dry run (decide, change nothing)"}
        </button>
      </div>
      {confirming && (
        <div class="confirm">
          <p id="confirm-real">
            Scale {name} for real? From the next tick the engine changes its dynos on Heroku, within the limits above.
          </p>
          <div class="actions">
            <button type="button" class="danger" disabled={busy} onClick={toggleDryRun}>
              Yes, scale for real
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </div>
        </div>
      )}
      <p id="dry-run-note" class="muted">
        {dirty
          ? "Save or undo the changes below first: switching dry run saves a version."
          : "Switching dry run saves the config as the next version."}
      </p>
      {note && (
        <p role={note.failed ? "alert" : "status"} class={note.failed ? "error" : undefined}>
          {note.text}
        </p>
      )}
    </section>
  );
}
