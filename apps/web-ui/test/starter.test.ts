import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { starterYaml } from "../src/starter.js";

describe("the guided start's config", () => {
  it("web only on made-up readings: dry run on, the limits asked for", () => {
    expect(parse(starterYaml({ herokuApp: "shop", web: { min: 2, max: 8, source: "random" }, worker: null }))).toEqual({
      use: ["random"],
      scaler: { dry_run: true, heroku_app_name: "shop", heroku_api_key: "${HEROKU_API_KEY}" },
      processes: { web: { min_dynos: 2, max_dynos: 8 } },
      plugins: [{ type: "random", name: "site" }],
    });
  });

  it("web and a Sidekiq worker: both packages in use, the queue source drives worker", () => {
    const config = parse(
      starterYaml({
        herokuApp: "shop",
        web: { min: 1, max: 4, source: "newrelic" },
        worker: { min: 0, max: 6, source: "sidekiq" },
      }),
    );
    expect(config.use).toEqual(["newrelic", "redis-queue"]);
    expect(config.processes.worker).toEqual({ min_dynos: 0, max_dynos: 6 });
    expect(config.plugins[1]).toEqual({
      type: "sidekiq",
      name: "jobs",
      process: "worker",
      url: "${REDIS_URL}",
      jobs_per_dyno: 50,
    });
  });
});
