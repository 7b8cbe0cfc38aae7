import { z } from "zod";
import { type HerokuWebhooks, NoWebhookKey, WEBHOOK_INCLUDE } from "../../heroku-webhooks.js";
import { fail, messageSchema } from "../answers.js";
import { HEROKU_WEBHOOK_PATH } from "../heroku-webhook-ingest.js";
import { appOr404, appParams, publicOrigin, type Resource, registrationOrigin } from "./common.js";

const created = z.object({
  url: z.string().describe("where Heroku posts the app's events"),
  secret: z.string().describe("what Heroku signs deliveries with: shown this once, keep it secret"),
  command: z.string().describe("the line that subscribes the webhook (run it, unless `subscribed` is true)"),
  heroku_app_name: z.string(),
  subscribed: z.boolean().describe("whether this server subscribed itself (`?subscribe=true`)"),
  subscribe_error: z.string().nullable().describe("why subscribing failed; run `command` instead"),
});

const boot = z.object({
  last_seconds: z.number(),
  median_seconds: z.number(),
  samples: z.number(),
});

const state = z.object({
  configured: z.boolean().describe("whether the app has a webhook secret"),
  deliveries: z.number().describe("events this server process took (a retried one counted once)"),
  duplicates: z.number().describe("events delivered again (same event id), acknowledged and ignored"),
  refused: z.number().describe("deliveries refused for a missing or wrong signature"),
  last_delivery_at: z.string().nullable(),
  boot: z
    .record(z.string(), boot)
    .describe("real boot time per process type, from its dynos' `starting` to `up` as Heroku told"),
});

export const herokuWebhookRoutes: Resource = (api, deps) => {
  const { webhooks } = deps;
  if (!webhooks) return;

  api.route(
    {
      method: "post",
      path: "/api/apps/{name}/heroku-webhook",
      summary:
        "A webhook URL and a new secret for the app (shown once), and the `heroku webhooks:add` line; `?subscribe=true` subscribes this server itself",
      tag: "apps",
      access: "admin",
      params: appParams,
      query: z.strictObject({
        subscribe: z
          .stringbool()
          .default(false)
          .describe("subscribe this server with the app's Heroku key (POST /apps/{app}/webhooks)"),
      }),
      responses: {
        200: { description: "the webhook", schema: created },
        404: { description: "no such app", schema: messageSchema },
        409: {
          description:
            "the server has no secret key to keep the webhook's secret with, or (to subscribe) no DYNOSAUR_PUBLIC_URL",
          schema: messageSchema,
        },
      },
    },
    async ({ c, params, query }) => {
      const app = await appOr404(deps, c, params.name);
      if (app instanceof Response) return app;
      // Heroku is told this URL with the app's own key: never one the request's Host names.
      const origin = query.subscribe
        ? registrationOrigin(c, deps.drains?.publicUrl)
        : publicOrigin(c, deps.drains?.publicUrl, deps.trustProxy);
      if (origin instanceof Response) return origin;
      let made: { token: string; secret: string };
      try {
        made = await webhooks.create(app);
      } catch (e) {
        if (e instanceof NoWebhookKey) return fail(c, 409, "DYNO_SECRET_KEY_INVALID", e.message);
        throw e;
      }
      const herokuApp = (await webhooks.herokuAppName(app)) ?? app.name;
      const url = `${origin}${HEROKU_WEBHOOK_PATH}${made.token}`;
      let subscribed = false;
      let subscribeError: string | null = null;
      if (query.subscribe) {
        try {
          await webhooks.subscribe(app, { url, secret: made.secret });
          subscribed = true;
        } catch (e) {
          subscribeError = (e as Error).message;
        }
      }
      return c.json(
        {
          url,
          secret: made.secret,
          command: `heroku webhooks:add -i ${WEBHOOK_INCLUDE.join(",")} -l notify -u ${url} -s ${made.secret} -a ${herokuApp}`,
          heroku_app_name: herokuApp,
          subscribed,
          subscribe_error: subscribeError,
        },
        200,
        { "cache-control": "no-store" },
      );
    },
  );

  api.route(
    {
      method: "get",
      path: "/api/apps/{name}/heroku-webhook",
      summary: "What the app's Heroku webhook delivered to this server process, and the boot times measured from it",
      tag: "apps",
      access: "user",
      params: appParams,
      responses: {
        200: { description: "the webhook's state", schema: state },
        404: { description: "no such app", schema: messageSchema },
      },
    },
    async ({ c, params }) => {
      const app = await appOr404(deps, c, params.name);
      if (app instanceof Response) return app;
      const counters = webhooks.counters(app.id);
      return c.json({
        configured: await webhooks.exists(app.id),
        deliveries: counters.deliveries,
        duplicates: counters.duplicates,
        refused: counters.refused,
        last_delivery_at: counters.lastDeliveryAt === null ? null : new Date(counters.lastDeliveryAt).toISOString(),
        boot: bootAnswer(webhooks, app.id),
      });
    },
  );
};

/** The measured boot times in the API's shape. */
export function bootAnswer(webhooks: HerokuWebhooks, appId: number): Record<string, z.infer<typeof boot>> {
  return Object.fromEntries(
    Object.entries(webhooks.bootTimes(appId)).map(([type, b]) => [
      type,
      { last_seconds: b.last, median_seconds: b.median, samples: b.samples.length },
    ]),
  );
}
