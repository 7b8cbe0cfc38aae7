import { useState } from "preact/hooks";
import { ApiError, login, type Session } from "../api.js";

export function Login({ onLogin }: { onLogin: (s: Session) => void }) {
  const [username, setUsername] = useState("admin");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

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
      <form onSubmit={submit}>
        <label for="username">User name</label>
        <input
          id="username"
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
      <p class="hint">
        First run? The admin user exists once the server runs with <code>DYNOSAUR_ADMIN_PASSWORD</code> set; log in as{" "}
        <code>admin</code> with it.
      </p>
    </main>
  );
}
