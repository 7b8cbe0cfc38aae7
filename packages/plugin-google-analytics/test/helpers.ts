import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { ManualClock, memoryLogger, type PluginContext, type PluginInstance } from "@dynosaur/core";
import {
  type AnalyticsDataFake,
  type FakeProperty,
  type GoogleOAuthFake,
  type RoutingDispatcher,
  routingDispatcher,
  startAnalyticsDataFake,
  startGoogleOAuthFake,
} from "@dynosaur/fakes/google";
import plugin from "../src/index.js";

export const CLIENT_EMAIL = "dynosaur@acme-web.iam.gserviceaccount.com";
export const PROPERTY_ID = "123456789";

export interface TestKey {
  /** PKCS#8 PEM, as in a service account's JSON key file. */
  pem: string;
  publicKey: KeyObject;
}

export function rsaKey(): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { pem: privateKey.export({ type: "pkcs8", format: "pem" }) as string, publicKey };
}

/** One key for the whole run: RSA generation is the slow part of these tests. */
export const KEY = rsaKey();

/** Lines of the key's base64 body: none may ever show up in an error or a log. */
export function keyFragments(pem: string = KEY.pem): string[] {
  return pem.split("\n").filter((line) => line.length > 20 && !line.startsWith("-----"));
}

export interface WorldOptions {
  properties?: FakeProperty[];
  expiresIn?: number;
  apiEnabled?: boolean;
  pathPrefix?: string;
  /** Public keys Google holds for CLIENT_EMAIL. @default [KEY.publicKey] */
  publicKey?: KeyObject;
  routes?: (oauth: GoogleOAuthFake, api: AnalyticsDataFake) => Record<string, string>;
}

export interface World {
  oauth: GoogleOAuthFake;
  api: AnalyticsDataFake;
  http: RoutingDispatcher;
  clock: ManualClock;
  logger: ReturnType<typeof memoryLogger>;
  closing: AbortController;
  ctx: PluginContext;
  /** Options as a config would give them; `api_root` and `token_url` point at the fakes. */
  config(overrides?: Record<string, unknown>): Record<string, unknown>;
  /** Validates `config` with the plugin's schema, then creates an instance as core would. */
  create(overrides?: Record<string, unknown>): Promise<PluginInstance>;
  close(): Promise<void>;
}

export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const clock = new ManualClock();
  const oauth = await startGoogleOAuthFake({
    serviceAccounts: [{ clientEmail: CLIENT_EMAIL, publicKey: options.publicKey ?? KEY.publicKey }],
    now: () => clock.now(),
    ...(options.expiresIn !== undefined ? { expiresIn: options.expiresIn } : {}),
  });
  const api = await startAnalyticsDataFake({
    oauth,
    properties: options.properties ?? [{ id: PROPERTY_ID, activeUsers: 312, viewers: [CLIENT_EMAIL] }],
    ...(options.apiEnabled !== undefined ? { apiEnabled: options.apiEnabled } : {}),
    ...(options.pathPrefix !== undefined ? { pathPrefix: options.pathPrefix } : {}),
  });
  const http = routingDispatcher(options.routes?.(oauth, api));
  const logger = memoryLogger();
  const closing = new AbortController();
  const ctx: PluginContext = { name: "google-analytics", logger, http: http.dispatcher, signal: closing.signal, clock };
  const config = (overrides: Record<string, unknown> = {}) => ({
    property_id: Number(PROPERTY_ID),
    client_email: CLIENT_EMAIL,
    key: KEY.pem,
    users_per_dyno: 50,
    api_root: api.url,
    token_url: oauth.tokenUrl,
    ...overrides,
  });
  return {
    oauth,
    api,
    http,
    clock,
    logger,
    closing,
    ctx,
    config,
    create: async (overrides) => plugin.create(withSourceDefaults(plugin.options.parse(config(overrides))), ctx),
    close: async () => {
      closing.abort();
      await Promise.all([oauth.close(), api.close(), http.close()]);
    },
  };
}

/** What core adds to a plugin's own options before `create`. */
export function withSourceDefaults<T extends { interval: number }>(options: T) {
  return {
    name: "google-analytics",
    type: "google-analytics",
    hysteresis_period: 0,
    outage_after: 300,
    timeout: 30,
    ...options,
  };
}

/** A signal that never aborts. */
export const NEVER: AbortSignal = new AbortController().signal;
