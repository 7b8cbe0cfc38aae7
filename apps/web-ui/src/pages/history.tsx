import { useEffect, useState } from "preact/hooks";
import { rollback, type Version, versions } from "../api.js";
import { diff } from "../form-schema.js";

/** Every version with author, time, comment and its changes; one click rolls back to it. */
export function History({
  name,
  current,
  onRollback,
}: {
  name: string;
  current: number;
  onRollback: (version: number) => void;
}) {
  const [list, setList] = useState<Version[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    versions(name).then(
      (r) => setList(r.versions),
      (e: Error) => setError(e.message),
    );
  }, [name, current]);

  const back = async (version: number) => {
    setError(null);
    try {
      onRollback((await rollback(name, version)).version);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <section aria-labelledby="history">
      <h2 id="history">History</h2>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <ol class="versions">
        {(list ?? []).map((v, i, all) => {
          const previous = all[i + 1];
          const changes = previous ? diff(previous.config, v.config) : [];
          return (
            <li key={v.version} data-version={v.version}>
              <strong>version {v.version}</strong> by {v.author},{" "}
              <time dateTime={v.created_at}>{new Date(v.created_at).toLocaleString()}</time>
              {v.comment && <q>{v.comment}</q>}
              {v.version === current ? (
                <span class="badge dry">running</span>
              ) : (
                <button type="button" onClick={() => back(v.version)}>
                  Roll back to version {v.version}
                </button>
              )}
              {changes.length > 0 && (
                <ul class="changes">
                  {changes.map((c) => (
                    <li key={c.path}>
                      <code>{c.path}</code>: {c.before ?? "–"} → {c.after ?? "–"}
                    </li>
                  ))}
                </ul>
              )}
            </li>
          );
        })}
      </ol>
    </section>
  );
}
