import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { signHerokuWebhook, startHerokuFake } from "../src/heroku.js";

/* The Heroku fake's app webhooks: subscriptions refused as Heroku refuses them, deliveries signed as Heroku signs them. */

const KEY = "heroku-fake-0123456789abcdef";
const headers = {
  accept: "application/vnd.heroku+json; version=3",
  authorization: `Bearer ${KEY}`,
  "content-type": "application/json",
};

/** A receiver that keeps what it got. */
async function receiver() {
  const got: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      got.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    got,
    close: () => new Promise((r) => server.close(r)),
  };
}

describe("the Heroku fake's app webhooks", () => {
  it("POST /apps/{app}/webhooks refuses what Heroku refuses", async () => {
    const heroku = await startHerokuFake();
    try {
      const post = (body: unknown, h: Record<string, string> = headers) =>
        fetch(`${heroku.url}/apps/example/webhooks`, { method: "POST", headers: h, body: JSON.stringify(body) });
      const good = { include: ["api:formation"], level: "notify", url: "https://example.com/hook", secret: "s3cret" };
      const { authorization: _, ...anonymous } = headers;
      expect((await post(good, anonymous)).status).toBe(401);
      for (const bad of [
        { ...good, include: [] },
        { ...good, include: ["api:nothing"] },
        { ...good, level: "often" },
        { ...good, url: "not a url" },
        { ...good, url: "ftp://example.com/hook" },
        { ...good, secret: 42 },
        { include: good.include, level: good.level },
      ]) {
        const r = await post(bad);
        expect(r.status, JSON.stringify(bad)).toBe(422);
        expect(((await r.json()) as { id: string }).id).toBe("invalid_params");
      }
      expect(
        (await fetch(`${heroku.url}/apps/nope/webhooks`, { method: "POST", headers, body: JSON.stringify(good) }))
          .status,
      ).toBe(404);
      const created = await post(good);
      expect(created.status).toBe(201);
      const hook = (await created.json()) as Record<string, unknown>;
      expect(hook).toMatchObject({ include: ["api:formation"], level: "notify", url: good.url });
      // The secret is never shown back.
      expect(JSON.stringify(hook)).not.toContain("s3cret");
      const list = await fetch(`${heroku.url}/apps/example/webhooks`, { headers });
      expect(((await list.json()) as unknown[]).length).toBe(1);
    } finally {
      await heroku.close();
    }
  });

  it("a formation change goes to the subscribed URL, signed with its secret, naming who made it", async () => {
    const heroku = await startHerokuFake();
    const r = await receiver();
    try {
      heroku.addWebhook("example", { include: ["api:formation"], level: "sync", url: r.url, secret: "s3cret" });
      const patch = await fetch(`${heroku.url}/apps/example/formation/web`, {
        method: "PATCH",
        headers,
        body: JSON.stringify({ quantity: 3 }),
      });
      expect(patch.status).toBe(200);
      await heroku.webhooksSettled();
      const [delivery] = r.got;
      const body = JSON.parse(delivery?.body ?? "{}");
      expect(body).toMatchObject({
        action: "update",
        resource: "formation",
        actor: { email: "scaler@example.com" },
        data: { type: "web", quantity: 3, app: { name: "example" } },
        previous_data: { quantity: 1 },
      });
      expect(delivery?.headers["heroku-webhook-hmac-sha256"]).toBe(signHerokuWebhook("s3cret", delivery?.body ?? ""));
      expect(delivery?.headers["heroku-webhook-id"]).toBe(heroku.webhookDeliveries[0]?.deliveryId);
      // A release is not included: nothing sent.
      await heroku.sendRelease("example", { version: 2, status: "succeeded" });
      expect(r.got).toHaveLength(1);
    } finally {
      await r.close();
      await heroku.close();
    }
  });
});
