import { generateKeyPairSync } from "node:crypto";
import {
  type AnalyticsDataFake,
  type GoogleOAuthFake,
  startAnalyticsDataFake,
  startGoogleOAuthFake,
} from "@dynosaur/fakes/google";
import { type HerokuFake, startHerokuFake } from "@dynosaur/fakes/heroku";
import { type NerdGraphFake, startNerdGraphFake } from "@dynosaur/fakes/newrelic";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnCli, tempDir } from "./helpers.js";

// The first-party plugins through the real CLI binary, against loopback fakes of Google
// (OAuth + Analytics Data API), New Relic NerdGraph and Heroku.
const CLIENT_EMAIL = "dynosaur@shop-analytics.iam.gserviceaccount.com";
const NR_KEY = "NRAK-test-fake-e2e-00000000";
const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
const pem = keys.privateKey.export({ type: "pkcs8", format: "pem" }) as string;

let oauth: GoogleOAuthFake;
let ga: AnalyticsDataFake;
let nr: NerdGraphFake;
let heroku: HerokuFake;

beforeAll(async () => {
  oauth = await startGoogleOAuthFake({ serviceAccounts: [{ clientEmail: CLIENT_EMAIL, publicKey: keys.publicKey }] });
  ga = await startAnalyticsDataFake({
    oauth,
    properties: [{ id: "123456789", activeUsers: 312, viewers: [CLIENT_EMAIL] }],
  });
  nr = await startNerdGraphFake({ apiKey: NR_KEY, accountId: 1234567, apps: [{ name: "shop", id: 42, rpm: 1800 }] });
  heroku = await startHerokuFake({ apps: { shop: { formation: { web: { quantity: 2 } } } } });
});
afterAll(async () => {
  await Promise.all([ga.close(), oauth.close(), nr.close(), heroku.close()]);
});

function gaPlugin(usersPerDyno: number) {
  return `  - name: ga
    type: GoogleAnalyticsPlugin
    property_id: "123456789"
    client_email: ${CLIENT_EMAIL}
    key: \${GA_PRIVATE_KEY}
    users_per_dyno: ${usersPerDyno}
    api_root: ${ga.url}
    token_url: ${oauth.tokenUrl}
`;
}

function nrPlugin(rpmPerDyno: number) {
  return `  - name: nr
    type: NewRelicPlugin
    key: \${NEW_RELIC_API_KEY}
    account_id: 1234567
    app_name: shop
    rpm_per_dyno: ${rpmPerDyno}
    endpoint: ${nr.endpoint}
`;
}

const env = {
  // As Heroku config vars deliver it: newlines escaped.
  GA_PRIVATE_KEY: pem.replaceAll("\n", "\\n"),
  NEW_RELIC_API_KEY: NR_KEY,
};

describe("first-party plugins end to end through the CLI", () => {
  it("a dry run with the Google Analytics plugin reads active users from the fakes", async () => {
    const dir = tempDir({
      "c.yaml": `use: [google-analytics]\nscaler: {dry_run: true, max_dynos: 20}\nplugins:\n${gaPlugin(50)}`,
    });
    const { code, stdout, stderr } = await spawnCli(["c.yaml", "--once"], { cwd: dir, env }).exited;
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toContain("[dry run] web 1→7 estimate 7 (scale up) winner ga | ga: 312 active users → 7 ok");
    expect(stdout).not.toContain("PRIVATE KEY");
  });

  it("GA, New Relic and random together scale a Heroku formation to the largest estimate and name the winner", async () => {
    const config = `scaler:
  heroku_app_name: shop
  heroku_api_key: \${HEROKU_API_KEY}
  heroku_api_url: ${heroku.url}
  max_dynos: 30
plugins:
${gaPlugin(50)}${nrPlugin(150)}  - name: dice
    type: RandomPlugin
    seed: 3
    max_value: 10
`;
    const dir = tempDir({ "c.yaml": config });
    const { code, stdout, stderr } = await spawnCli(["c.yaml", "--once", "--log-format", "json"], {
      cwd: dir,
      env: { ...env, HEROKU_API_KEY: heroku.apiKey },
    }).exited;
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const tick = stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .find((l) => l.event === "tick");
    // GA: 312 users / 50 → 7; New Relic: 1800 rpm / 150 → 12; random: 0..9 / 2 → at most 5.
    expect(tick).toMatchObject({ before: 2, after: 12, estimate: 12, winner: "nr" });
    expect(tick.sources.map((s: { name: string; estimate: number }) => [s.name, s.estimate]).slice(0, 2)).toEqual([
      ["ga", 7],
      ["nr", 12],
    ]);
    expect(heroku.formation("shop", "web")?.quantity).toBe(12);
    for (const secret of [NR_KEY, heroku.apiKey, "PRIVATE KEY"]) expect(stdout).not.toContain(secret);
  });

  it("when Google wins, the log names it", async () => {
    const dir = tempDir({
      "c.yaml": `scaler: {dry_run: true, max_dynos: 40}\nplugins:\n${gaPlugin(10)}${nrPlugin(150)}`,
    });
    const { code, stdout } = await spawnCli(["c.yaml", "--once"], { cwd: dir, env }).exited;
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /web 1→32 estimate 32 \(scale up\) winner ga \| ga: 312 active users → 32 ok \| nr: 1800 requests\/min → 12 ok/,
    );
  });

  it("a seed-era Google Analytics config gets told what to write instead", async () => {
    const dir = tempDir({
      "c.yaml": `scaler: {dry_run: true}\nplugins:\n  - {type: GoogleAnalyticsPlugin, analytics_view_id: "ga:1234", users_per_dyno: 10}\n`,
    });
    const { code, stderr } = await spawnCli(["c.yaml", "--once"], { cwd: dir }).exited;
    expect(code).toBe(2);
    expect(stderr).toContain("plugins[0].analytics_view_id");
    expect(stderr).toMatch(/property_id/);
  });
});
