import { useEffect, useState } from "preact/hooks";
import { type ApiToken, createToken, revokeToken, tokens } from "../api.js";

/** API tokens: create (the value is shown once), list by name, revoke. */
export function Tokens() {
  const [list, setList] = useState<ApiToken[]>([]);
  const [name, setName] = useState("");
  // Days until the token stops working; "" for never.
  const [days, setDays] = useState("");
  const [created, setCreated] = useState<{ name: string; token: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  /** The token a Revoke was clicked for: it asks once more before revoking. */
  const [confirming, setConfirming] = useState<number | null>(null);
  const [copied, setCopied] = useState<string | null>(null);
  const reload = () => tokens().then(setList, (e: Error) => setError(e.message));
  useEffect(() => {
    reload();
  }, []);

  const create = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const t = await createToken(name, days === "" ? undefined : Number(days));
      setCreated({ name: t.name, token: t.token });
      setCopied(null);
      setName("");
      await reload();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const revoke = async (t: ApiToken) => {
    setError(null);
    try {
      await revokeToken(t.id);
      setConfirming(null);
      await reload();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <main class="tokens">
      <h1>API tokens</h1>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <form onSubmit={create}>
        <label for="token-name">Name (what uses it, e.g. "deploy script")</label>
        <input id="token-name" required maxLength={100} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        <label for="token-expiry">Expires</label>
        <select id="token-expiry" value={days} onChange={(e) => setDays(e.currentTarget.value)}>
          <option value="">never (until revoked)</option>
          <option value="30">in 30 days</option>
          <option value="90">in 90 days</option>
          <option value="365">in a year</option>
        </select>
        <button type="submit">Create a token</button>
      </form>
      {created && (
        <div role="status" class="created">
          <p>
            Token <strong>{created.name}</strong>: copy it now, it is not shown again.
          </p>
          <code class="token">{created.token}</code>{" "}
          <button
            type="button"
            onClick={() =>
              navigator.clipboard.writeText(created.token).then(
                () => setCopied("Copied."),
                () => setCopied("Could not copy: select the token and copy it by hand."),
              )
            }
          >
            Copy
          </button>{" "}
          {copied && <span class="muted">{copied}</span>}
        </div>
      )}
      {list.length === 0 ? (
        <p class="muted">No API token yet.</p>
      ) : (
        <table class="apps">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">Expires</th>
              <th scope="col">
                <span class="visually-hidden">Revoke</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.map((t) => (
              <tr key={t.id} data-token={t.name}>
                <th scope="row">{t.name}</th>
                <td>{new Date(t.created_at).toLocaleString()}</td>
                <td>{t.last_used_at ? new Date(t.last_used_at).toLocaleString() : "never"}</td>
                <td>{t.expires_at ? new Date(t.expires_at).toLocaleString() : "never"}</td>
                <td>
                  {confirming === t.id ? (
                    <span class="confirm">
                      Revoke {t.name}? What uses it stops working.{" "}
                      <button type="button" class="danger" onClick={() => revoke(t)}>
                        Yes, revoke {t.name}
                      </button>{" "}
                      <button type="button" onClick={() => setConfirming(null)}>
                        Cancel
                      </button>
                    </span>
                  ) : (
                    <button type="button" onClick={() => setConfirming(t.id)} aria-label={`Revoke ${t.name}`}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}
