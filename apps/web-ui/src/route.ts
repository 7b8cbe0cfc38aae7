import { useEffect, useState } from "preact/hooks";

/** The page the address names: `#/`, `#/add`, `#/tokens`, `#/apps/{name}`, `#/apps/{name}/config`. */
export type Route =
  | { page: "overview" }
  | { page: "add" }
  | { page: "tokens" }
  | { page: "app"; name: string }
  | { page: "config"; name: string };

export function parseRoute(hash: string): Route {
  if (hash === "#/add") return { page: "add" };
  if (hash === "#/tokens") return { page: "tokens" };
  const m = /^#\/apps\/([^/]+)(\/config)?$/.exec(hash);
  const [, encoded, config] = m ?? [];
  if (encoded === undefined) return { page: "overview" };
  const name = decodeURIComponent(encoded);
  return config ? { page: "config", name } : { page: "app", name };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return route;
}
