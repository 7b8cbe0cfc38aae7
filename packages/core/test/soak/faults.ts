import type { HerokuFault } from "@dynosaur/fakes/heroku";
import type { Rng } from "./random.js";
import type { HerokuFaultKind } from "./scenario.js";

/** Whether a fault of this kind makes the request fail as the client sees it. */
export function herokuFaultFails(kind: HerokuFaultKind): boolean {
  return kind !== "low-remaining";
}

/** The fake's instructions for one fault of `kind` (details varied by `rng`). */
export function herokuFault(kind: HerokuFaultKind, rng: Rng, apiKey: string): HerokuFault {
  switch (kind) {
    case "5xx": {
      const status = rng.pick([500, 502, 503]);
      if (rng.chance(0.3))
        return {
          kind: "respond",
          status,
          body: "<html><body><h1>Application Error</h1></body></html>",
          headers: { "content-type": "text/html" },
        };
      return {
        kind: "respond",
        status,
        body: { id: status === 503 ? "unavailable" : "internal_server_error", message: "Internal server error." },
      };
    }
    case "429": {
      const headers: Record<string, string> = { "RateLimit-Remaining": "0" };
      if (rng.chance(0.5)) headers["Retry-After"] = String(rng.int(1, 600));
      return {
        kind: "respond",
        status: 429,
        body: { id: "rate_limit", message: "Your account reached the API rate limit." },
        headers,
      };
    }
    case "429-no-remaining":
      // An empty value is the same as no value for the client: there is nothing to read.
      return {
        kind: "respond",
        status: 429,
        body: { id: "rate_limit", message: "Your account reached the API rate limit." },
        headers: { "RateLimit-Remaining": "" },
      };
    case "low-remaining":
      return { kind: "headers", headers: { "RateLimit-Remaining": String(rng.pick([0, 1, 5, 20, 50, 99])) } };
    case "hang":
      return { kind: "hang" };
    case "reset":
      return { kind: "reset" };
    case "malformed-json":
      return {
        kind: "respond",
        status: 200,
        body: rng.pick(['{"quantity": 3,', "not json at all", "", "{'quantity': 3}"]),
      };
    case "truncated":
      return { kind: "truncate" };
    case "wrong-shape":
      return {
        kind: "respond",
        status: 200,
        body: rng.pick<unknown>([
          // The formation endpoints of an app answer a list: one object is the wrong shape.
          { quantity: 3, type: "web", size: "Standard-1X", updated_at: "2026-01-01T00:00:00Z" },
          [{ quantity: "3", type: "web", size: "Standard-1X", updated_at: "2026-01-01T00:00:00Z" }],
          [{ quantity: 2.5, type: "web", size: "Standard-1X", updated_at: "2026-01-01T00:00:00Z" }],
          [{ quantity: -1, type: "web", size: "Standard-1X", updated_at: "2026-01-01T00:00:00Z" }],
          [{ quantity: 3, type: "web", size: "Standard-1X", updated_at: "yesterday" }],
          [{ quantity: 3 }],
          { formation: { quantity: 3 } },
          "3",
          null,
        ]),
      };
    case "401":
      return { kind: "respond", status: 401, body: { id: "unauthorized", message: "Invalid credentials provided." } };
    case "422":
      return {
        kind: "respond",
        status: 422,
        body: {
          id: "invalid_params",
          message: "Cannot update to more than 4 Standard-1X size dynos per process type.",
        },
      };
    case "echo-secret":
      return {
        kind: "respond",
        status: 503,
        body: { id: "unavailable", message: `upstream refused the request (Authorization: Bearer ${apiKey})` },
      };
  }
}

/** Kinds that make sense for a request of `method` (a 422 only answers a change). */
export function faultFits(kind: HerokuFaultKind, method: string): boolean {
  return kind !== "422" || method === "PATCH";
}
