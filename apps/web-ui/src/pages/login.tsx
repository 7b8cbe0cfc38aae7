import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, login, type Session } from "../api.js";

/** The login form; on a first run (no user yet), how to make the admin first. */
export function Login({ onLogin, setupNeeded }: { onLogin: (s: Session) => void; setupNeeded: boolean }) {
  const [username, setUsername] = useState("admin");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const user = useRef<HTMLInputElement>(null);
  // The page is only a login form: typing goes to it at once.
  useEffect(() => user.current?.focus(), []);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onLogin(await login(username, password));
    } catch (err) {
      setError(err instanceof ApiError ? err.message : "the server did not answer");
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="login">
      <h1>Dynosaur</h1>
      {setupNeeded && (
        <section class="first-run" aria-labelledby="first-run">
          <h2 id="first-run">First run: no admin password is set</h2>
          <p>
            The server creates the <code>admin</code> user when it starts with <code>DYNOSAUR_ADMIN_PASSWORD</code> set.
            Restart it with one, then log in as <code>admin</code> with that password. Installed from npm:
          </p>
          <pre>
            <code>DYNOSAUR_ADMIN_PASSWORD='a long passphrase' dynosaur-web</code>
          </pre>
          <p>From a checkout of the repository:</p>
          <pre>
            <code>DYNOSAUR_ADMIN_PASSWORD='a long passphrase' bash scripts/dynosaur-web</code>
          </pre>
          <p>
            On Heroku (setting a config var restarts the dynos):{" "}
            <code>heroku config:set DYNOSAUR_ADMIN_PASSWORD='a long passphrase' -a &lt;your-app&gt;</code>
          </p>
        </section>
      )}
      <form onSubmit={submit}>
        <label for="username">User name</label>
        <input
          id="username"
          ref={user}
          name="username"
          autocomplete="username"
          required
          value={username}
          onInput={(e) => setUsername(e.currentTarget.value)}
        />
        <label for="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autocomplete="current-password"
          required
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
        {error && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          Log in
        </button>
      </form>
    </main>
  );
}
