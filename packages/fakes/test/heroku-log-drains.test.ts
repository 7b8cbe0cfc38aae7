import { describe, expect, it } from "vitest";
import { type HerokuFakeLogDrain, startHerokuFake } from "../src/heroku.js";

/* The Heroku fake's log drains: created and listed in the schema's shape, refused as Heroku refuses. */

const KEY = "heroku-fake-0123456789abcdef";
const headers = {
  accept: "application/vnd.heroku+json; version=3",
  authorization: `Bearer ${KEY}`,
  "content-type": "application/json",
};

describe("the Heroku fake's log drains", () => {
  it("POST /apps/{app}/log-drains adds a drain once; GET lists it; bad requests are refused", async () => {
    const heroku = await startHerokuFake();
    try {
      const post = (body: unknown, h: Record<string, string> = headers, app = "example") =>
        fetch(`${heroku.url}/apps/${app}/log-drains`, { method: "POST", headers: h, body: JSON.stringify(body) });
      const url = "https://dynosaur.example.com/drain/dd_abc";
      const { authorization: _, ...anonymous } = headers;
      expect((await post({ url }, anonymous)).status).toBe(401);
      expect((await post({ url }, { ...headers, authorization: "Bearer wrong" })).status).toBe(401);
      expect((await post({ url }, headers, "nope")).status).toBe(404);
      for (const bad of [{}, { url: null }, { url: 3 }, { url: "not a url" }, { url: "ftp://example.com/x" }]) {
        const res = await post(bad);
        expect(res.status, JSON.stringify(bad)).toBe(422);
        expect(await res.json()).toMatchObject({ id: "invalid_params" });
      }
      const made = await post({ url });
      expect(made.status).toBe(201);
      const drain = (await made.json()) as HerokuFakeLogDrain;
      expect(Object.keys(drain).sort()).toEqual(["addon", "app", "created_at", "id", "token", "updated_at", "url"]);
      expect(drain).toMatchObject({ url, addon: null, app: { name: "example" } });
      expect(drain.token).toMatch(/^d\.[0-9a-f-]{36}$/);
      const again = await post({ url });
      expect(again.status).toBe(422);
      expect(await again.json()).toEqual({ id: "invalid_params", message: "Url has already been taken." });
      const listed = await fetch(`${heroku.url}/apps/example/log-drains`, { headers });
      expect(listed.status).toBe(200);
      expect(await listed.json()).toEqual([drain]);
      expect(heroku.logDrains("example")).toEqual([drain]);
    } finally {
      await heroku.close();
    }
  });
});
