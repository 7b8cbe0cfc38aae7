import { testPlugin } from "@dynosaur/core/testing";
import { startNerdGraphFake } from "@dynosaur/fakes/newrelic";
import { describe, it } from "vitest";
import plugin from "../src/index.js";
import { ACCOUNT_ID, USER_KEY } from "./helpers.js";

testPlugin(
  plugin,
  {
    validOptions: { api_key: USER_KEY, account_id: ACCOUNT_ID, app_name: "shop-web", rpm_per_dyno: 500 },
    invalidOptions: [
      { options: { rpm_per_dyno: 0 }, path: "rpm_per_dyno" },
      { options: { rpm_per_dyno: undefined }, path: "rpm_per_dyno" },
      { options: { account_id: undefined }, path: "account_id" },
      { options: { account_id: "acme" }, path: "account_id" },
      { options: { api_key: undefined }, path: "api_key" },
      { options: { key: USER_KEY }, path: "key" },
      { options: { app_name: undefined }, path: "app_name" },
      { options: { nrql: "SELECT 1" }, path: "nrql" },
      { options: { region: "ap" }, path: "region" },
      { options: { endpoint: "not a url" }, path: "endpoint" },
      { options: { window_minutes: 0 }, path: "window_minutes" },
      { options: { app_nmae: "shop-web" }, path: "" },
    ],
    async setup() {
      const fake = await startNerdGraphFake({
        apiKey: USER_KEY,
        accountId: ACCOUNT_ID,
        apps: [{ name: "shop-web", id: 42, rpm: 1234.5 }],
      });
      return { options: { endpoint: fake.endpoint }, close: () => fake.close() };
    },
  },
  { describe, it },
);
