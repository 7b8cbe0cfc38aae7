import { testPlugin } from "@dynosaur/core/testing";
import { describe, it } from "vitest";
import plugin, { drainFeed, dropDrainFeed, takeDelivery } from "../src/index.js";
import { body, ROUTER_1, router } from "./bodies.js";

// The conformance kit's clock starts at 2026-01-01T00:00:00Z: the feed gets its lines then.
const KIT_NOW = Date.parse("2026-01-01T00:00:00Z");

testPlugin(
  plugin,
  {
    validOptions: { metric: "requests", requests_per_dyno: 600, feed: "conformance" },
    invalidOptions: [
      { options: { requests_per_dyno: undefined }, path: "requests_per_dyno" },
      { options: { requests_per_dyno: 0 }, path: "requests_per_dyno" },
      { options: { metric: "latency" }, path: "metric" },
      { options: { metric: "queue_time" }, path: "target_ms" },
      { options: { metric: "service_time", target_ms: -1 }, path: "target_ms" },
      { options: { metric: "queue_time", target_ms: 50, percentile: 99 }, path: "percentile" },
      { options: { percentile: 0 }, path: "percentile" },
      { options: { window: 5 }, path: "window" },
      { options: { listen: "8514" }, path: "listen" },
      { options: { listen: "127.0.0.1:8514" }, path: "listen" },
      { options: { requests_per_minute: 5 }, path: "" },
    ],
    setup() {
      takeDelivery(drainFeed("conformance"), body(router(ROUTER_1("web.1", 12))), {}, KIT_NOW);
      return { close: () => dropDrainFeed("conformance") };
    },
  },
  { describe, it },
);
