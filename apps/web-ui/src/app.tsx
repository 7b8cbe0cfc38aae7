import type { ComponentType } from "preact";
import { useEffect, useState } from "preact/hooks";
import { logout, logoutEverywhere, type Session, session } from "./api.js";
import { AddApp } from "./pages/add.js";
import { Login } from "./pages/login.js";
import { Overview } from "./pages/overview.js";
import { Tokens } from "./pages/tokens.js";
import { type Route, useRoute } from "./route.js";

/** Decides between the login page and the pages behind it, from GET /api/session. */
export function App() {
  const [who, setWho] = useState<Session | null | undefined>(undefined);
  const [setupNeeded, setSetupNeeded] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const route = useRoute();
  useEffect(() => {
    session().then(
      (s) => {
        setWho(s.session);
        setSetupNeeded(s.setupNeeded);
      },
      (e: Error) => setFailure(e.message),
    );
  }, []);

  if (failure)
    return (
      <main>
        <p role="alert">The server did not answer: {failure}</p>
      </main>
    );
  if (who === undefined) return <main aria-busy="true" />;
  if (who === null) return <Login onLogin={setWho} setupNeeded={setupNeeded} />;
  return (
    <>
      <header class="bar">
        <a href="#/" class="brand">
          Dynosaur
        </a>
        {who.admin && <a href="#/tokens">API tokens</a>}
        <span class="who">{who.user}</span>
        <button type="button" onClick={() => logout().then(() => setWho(null))}>
          Log out
        </button>
        <button
          type="button"
          title="End every session of this user, on every device"
          onClick={() => logoutEverywhere().then(() => setWho(null))}
        >
          Log out everywhere
        </button>
      </header>
      <Page route={route} />
    </>
  );
}

// The app and config pages bring the chart and form libraries: loaded when first opened.
const loaders = {
  app: () => import("./pages/app.js").then((m) => m.AppPage as ComponentType<{ name: string }>),
  config: () => import("./pages/config.js").then((m) => m.ConfigPage as ComponentType<{ name: string }>),
};

function Page({ route }: { route: Route }) {
  const [loaded, setLoaded] = useState<{ page: string; component: ComponentType<{ name: string }> } | null>(null);
  useEffect(() => {
    if (route.page !== "app" && route.page !== "config") return;
    let alive = true;
    const page = route.page;
    loaders[page]().then((component) => alive && setLoaded({ page, component }));
    return () => {
      alive = false;
    };
  }, [route.page]);
  if (route.page === "overview") return <Overview />;
  if (route.page === "add") return <AddApp />;
  if (route.page === "tokens") return <Tokens />;
  if (loaded?.page !== route.page) return <main aria-busy="true" />;
  const Component = loaded.component;
  return <Component key={route.name} name={(route as { name: string }).name} />;
}
