import { useEffect, useState } from "preact/hooks";
import { logout, type Session, session } from "./api.js";
import { Login } from "./pages/login.js";
import { Overview } from "./pages/overview.js";

/** Decides between the login page and the pages behind it, from GET /api/session. */
export function App() {
  const [who, setWho] = useState<Session | null | undefined>(undefined);
  const [failure, setFailure] = useState<string | null>(null);
  useEffect(() => {
    session().then(setWho, (e: Error) => setFailure(e.message));
  }, []);

  if (failure) return <main><p role="alert">The server did not answer: {failure}</p></main>;
  if (who === undefined) return <main aria-busy="true" />;
  if (who === null) return <Login onLogin={setWho} />;
  return (
    <>
      <header class="bar">
        <a href="#/" class="brand">Dynosaur</a>
        <span class="who">{who.user}</span>
        <button type="button" onClick={() => logout().then(() => setWho(null))}>
          Log out
        </button>
      </header>
      <Overview />
    </>
  );
}
