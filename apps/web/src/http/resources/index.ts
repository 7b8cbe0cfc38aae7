import { appRoutes } from "./apps.js";
import { authRoutes } from "./auth.js";
import type { Resource } from "./common.js";
import { configRoutes } from "./config.js";
import { drainChartRoutes } from "./drain-chart.js";
import { drainRoutes } from "./drains.js";
import { herokuWebhookRoutes } from "./heroku-webhooks.js";
import { instanceRoutes } from "./instances.js";
import { pluginRoutes } from "./plugins.js";
import { replayRoutes } from "./replay.js";
import { schemaRoutes } from "./schema.js";
import { statusRoutes } from "./status.js";
import { tokenRoutes } from "./tokens.js";

export type { ApiDeps, Resource } from "./common.js";

/**
 * Every resource of the API, one module each. A new resource (log drains, webhooks) is a
 * module exporting a `Resource`, added here.
 */
export const RESOURCES: readonly Resource[] = [
  instanceRoutes,
  authRoutes,
  appRoutes,
  configRoutes,
  replayRoutes,
  statusRoutes,
  schemaRoutes,
  pluginRoutes,
  tokenRoutes,
  drainRoutes,
  herokuWebhookRoutes,
  drainChartRoutes,
];
