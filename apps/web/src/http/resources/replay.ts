import { DynosaurError, Redactor } from "@dynosaur/core";
import { z } from "zod";
import { problemsOf } from "../../config-check.js";
import { NothingToReplay, replayReadings } from "../../replay.js";
import { errorsSchema, fail, invalid, messageSchema } from "../answers.js";
import { appOr404, appParams, type Resource } from "./common.js";

const replayScore = z.object({
  cost_dyno_hours: z.number().describe("dyno-hours paid for, booting dynos included"),
  shortfall_percent: z.number().describe("dyno-minutes needed but not serving, as a % of those needed"),
  scale_events: z.number().int(),
  shortfall_dyno_minutes: z.number(),
  needed_dyno_minutes: z
    .number()
    .describe("each minute's estimate of this config's sources, summed; not bounded by its min_dynos and max_dynos"),
});
const replaySeries = z.object({ dynos: z.array(z.number()), needed: z.array(z.number()) });

/** A draft config tried on the stored readings beside the running one, before it is saved. */
export const replayRoutes: Resource = (api, deps) => {
  api.route(
    {
      method: "post",
      path: "/api/apps/{name}/replay",
      summary:
        "Try a draft config first: replays the stored readings of the last days through the engine (no Heroku call, nothing saved) with the draft and with the running config",
      tag: "config",
      access: "user",
      params: appParams,
      body: z.strictObject({
        config: z
          .unknown()
          .describe("the draft, as a PUT of the config takes it: secrets left out are the stored ones"),
        days: z.number().int().min(1).max(14).default(1).describe("replay the last this many days (as far as kept)"),
      }),
      responses: {
        200: {
          description: "each config's cost, shortfall and scale events, in total and per process type, with series",
          schema: z.object({
            span: z.object({ from: z.string(), to: z.string(), minutes: z.number() }),
            running: replayScore,
            draft: replayScore,
            processes: z.array(
              z.object({
                type: z.string(),
                sources: z.object({ running: z.array(z.string()), draft: z.array(z.string()) }),
                filled_minutes: z.number().describe("minutes without a stored value: the previous one stood in"),
                running: replayScore,
                draft: replayScore,
                series: z.object({
                  minutes: z.array(z.number()).describe("seconds since the epoch"),
                  running: replaySeries,
                  draft: replaySeries,
                }),
              }),
            ),
            skipped: z.array(z.object({ type: z.string(), reason: z.string() })),
          }),
        },
        409: { description: "no readings stored yet to replay", schema: messageSchema },
        422: {
          description: "the draft is invalid (paths within the config), or cannot be replayed",
          schema: errorsSchema,
        },
      },
    },
    async ({ c, params, body }) => {
      const a = await appOr404(deps, c, params.name);
      if (a instanceof Response) return a;
      const draft = await deps.configs.checkDraft(a, body.config);
      if (!draft.ok) return invalid(c, draft.errors);
      const redactor = new Redactor();
      const running = await deps.configs.runnable(a, redactor);
      await deps.recorder.flush();
      // Whole minutes: the current one (its newest tick so far) and the ones before it.
      const until = Math.floor(deps.clock.now() / 60_000) * 60_000 + 60_000;
      const types = [...new Set([...Object.keys(running.config.processes), ...Object.keys(draft.config.processes)])];
      const rows = await deps.readings.minutes(
        a.id,
        until - body.days * 86_400_000,
        until,
        body.days * 1440 * types.length,
        types,
      );
      if (rows.length === 0)
        return fail(
          c,
          409,
          "DYNO_NOTHING_TO_REPLAY",
          `no readings stored yet for this app in the last ${body.days === 1 ? "day" : `${body.days} days`}: the engine stores one row a minute while it scales the app`,
        );
      try {
        const result = await replayReadings(rows, running, {
          config: draft.config,
          plugins: draft.plugins.map((p) => p.plugin),
        });
        return c.json(result);
      } catch (e) {
        if (e instanceof NothingToReplay) return fail(c, 409, "DYNO_NOTHING_TO_REPLAY", e.message);
        if (!(e instanceof DynosaurError)) throw e;
        const scrub = (text: string) => draft.redactor.scrub(redactor.scrub(text));
        return invalid(
          c,
          problemsOf(e).map((p) => ({
            path: p.path,
            message: scrub(p.message),
            ...(p.hint ? { hint: scrub(p.hint) } : {}),
            code: p.code,
          })),
        );
      }
    },
  );
};
