import { testPlugin } from "@dynosaur/core/testing";
import { startAnalyticsDataFake, startGoogleOAuthFake } from "@dynosaur/fakes/google";
import { describe, it } from "vitest";
import plugin from "../src/index.js";
import { CLIENT_EMAIL, KEY, PROPERTY_ID } from "./helpers.js";

testPlugin(
  plugin,
  {
    validOptions: { property_id: Number(PROPERTY_ID), client_email: CLIENT_EMAIL, key: KEY.pem, users_per_dyno: 50 },
    invalidOptions: [
      { options: { users_per_dyno: 0 }, path: "users_per_dyno" },
      { options: { users_per_dyno: undefined }, path: "users_per_dyno" },
      { options: { property_id: undefined }, path: "property_id" },
      { options: { property_id: "G-ABC123XYZ" }, path: "property_id" },
      { options: { interval: 5 }, path: "interval" },
      { options: { minutes: 31 }, path: "minutes" },
      { options: { analytics_view_id: "ga:12345678" }, path: "analytics_view_id" },
      { options: { key: "not a key" }, path: "key" },
      { options: { key: undefined }, path: "key" },
      { options: { client_email: undefined }, path: "client_email" },
      { options: { key: undefined, client_email: undefined, key_file: "does/not/exist.json" }, path: "key_file" },
      { options: { api_root: "analyticsdata.googleapis.com" }, path: "api_root" },
      { options: { token_url: "not a url" }, path: "token_url" },
      { options: { view_id: "12345678" }, path: "" },
    ],
    async setup() {
      const oauth = await startGoogleOAuthFake({
        serviceAccounts: [{ clientEmail: CLIENT_EMAIL, publicKey: KEY.publicKey }],
      });
      const api = await startAnalyticsDataFake({
        oauth,
        properties: [{ id: PROPERTY_ID, activeUsers: 312, viewers: [CLIENT_EMAIL] }],
      });
      return {
        options: { api_root: api.url, token_url: oauth.tokenUrl },
        close: async () => {
          await Promise.all([api.close(), oauth.close()]);
        },
      };
    },
  },
  { describe, it },
);
