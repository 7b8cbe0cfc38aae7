import type { PluginDefinition } from "@dynosaur/core";
import { testPlugin } from "@dynosaur/core/testing";
import { beforeAll, describe, it } from "vitest";
import plugins, { bullmq, celery, rq, sidekiq } from "../src/index.js";
import { useRedis } from "./helpers.js";

const redis = useRedis(5);
let url = "";
beforeAll(() => {
  url = redis.url;
});

const invalidCommon = [
  { options: { url: undefined }, path: "url" },
  { options: { url: "http://example.com" }, path: "url" },
  { options: { url: "not a url" }, path: "url" },
  { options: { jobs_per_dyno: 0 }, path: "jobs_per_dyno" },
  { options: { jobs_per_dyno: undefined }, path: "jobs_per_dyno" },
  { options: { latency_target: 30 }, path: "latency_target" },
  { options: { metric: "size" }, path: "metric" },
  { options: { queues: [] }, path: "queues" },
  { options: { queues: [""] }, path: "queues[0]" },
  { options: { queue: ["default"] }, path: "" },
];
const invalidLatency = [
  { options: { metric: "latency", jobs_per_dyno: undefined }, path: "latency_target" },
  {
    options: { metric: "latency", jobs_per_dyno: undefined, latency_target: 10, latency_low_water: 10 },
    path: "latency_low_water",
  },
];

const suites: [PluginDefinition, Record<string, unknown>, { options: Record<string, unknown>; path: string }[]][] = [
  [sidekiq, {}, [...invalidCommon, ...invalidLatency, { options: { namespace: "" }, path: "namespace" }]],
  [bullmq, {}, [...invalidCommon, ...invalidLatency, { options: { prefix: "" }, path: "prefix" }]],
  [rq, {}, [...invalidCommon, ...invalidLatency]],
  [
    celery,
    {},
    [
      ...invalidCommon,
      { options: { metric: "latency", jobs_per_dyno: undefined, latency_target: 10 }, path: "metric" },
    ],
  ],
];

describe("the package exports its four plugins", () => {
  it("default export is the array of them", ({ expect }) => {
    expect(plugins.map((p) => p.type)).toEqual(["sidekiq", "bullmq", "rq", "celery"]);
    for (const p of plugins) expect(p.secrets).toEqual(["url"]);
  });
});

for (const [plugin, extra, invalidOptions] of suites) {
  testPlugin(
    plugin,
    {
      validOptions: { jobs_per_dyno: 10, ...extra },
      invalidOptions,
      setup: () => ({ options: { url } }),
    },
    { describe, it },
  );
}
