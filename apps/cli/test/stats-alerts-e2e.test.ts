import { type HerokuFake, startHerokuFake } from "@dynosaur/fakes/heroku";
import { type LibratoFake, startLibratoFake } from "@dynosaur/fakes/librato";
import { type OtlpReceiver, startOtlpReceiver } from "@dynosaur/fakes/otlp";
import { type SendGridFake, startSendGridFake } from "@dynosaur/fakes/sendgrid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnCli, tempDir } from "./helpers.js";

// Stats and alerts wired through the real CLI: the seed's Librato keys, OTLP from the
// standard environment variables, SendGrid email from the environment. The otlp reporter is
// its own package (@dynosaur/reporter-otlp): the CLI finds it next to its own install (a
// devDependency here), as after `npm install -g @dynosaur/cli @dynosaur/reporter-otlp`.
const LIBRATO = { email: "ops@shop.example", token: "librato-token-0123456789" };
const SENDGRID_KEY = "SG.fake-key-for-tests.0123456789abcdef";
const OTLP_TOKEN = "otlp-token-abcdef0123";

let heroku: HerokuFake;
let librato: LibratoFake;
let otlp: OtlpReceiver;
let sendgrid: SendGridFake;

beforeAll(async () => {
  heroku = await startHerokuFake({ apps: { shop: { formation: { web: { quantity: 1 } } } }, maxQuantity: 3 });
  librato = await startLibratoFake(LIBRATO);
  otlp = await startOtlpReceiver({ requiredHeaders: { "x-api-key": OTLP_TOKEN } });
  sendgrid = await startSendGridFake({ apiKey: SENDGRID_KEY, verifiedSenders: ["dynosaur@shop.example"] });
});
afterAll(() => Promise.all([heroku.close(), librato.close(), otlp.close(), sendgrid.close()]));

describe("stats and alerts through the CLI", () => {
  it("reports every tick to Librato (seed keys) and OTLP (env), and emails Heroku's refusal once", async () => {
    const config = `scaler:
  heroku_app_name: shop
  heroku_api_key: \${HEROKU_API_KEY}
  heroku_api_url: ${heroku.url}
  max_dynos: 10
  interval: 0.2
  librato_email: ${LIBRATO.email}
  librato_api_key: \${LIBRATO_TOKEN}
stats:
  - type: librato
    email: ${LIBRATO.email}
    api_key: \${LIBRATO_TOKEN}
    endpoint: ${librato.url}
  - type: otlp
alerts:
  sendgrid_endpoint: ${sendgrid.url}
plugins:
  - {name: dice, type: random, seed: 5, interval: 0.2, max_value: 100}
`;
    const dir = tempDir({ "c.yaml": config });
    const env = {
      HEROKU_API_KEY: heroku.apiKey,
      LIBRATO_TOKEN: LIBRATO.token,
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_EXPORTER_OTLP_HEADERS: `x-api-key=${OTLP_TOKEN}`,
      SENDGRID_API_KEY: SENDGRID_KEY,
      DYNOSAUR_ADMIN_EMAIL: "oncall@shop.example",
      DYNOSAUR_FROM_EMAIL: "dynosaur@shop.example",
    };
    const { code, stdout, stderr } = await spawnCli(["c.yaml", "--ticks", "3"], { cwd: dir, env }).exited;
    expect(stderr).toBe("");
    expect(code).toBe(0);
    // Librato: one batch per tick with the seed's gauge names.
    expect(librato.submissions).toHaveLength(3);
    const names = librato.submissions[0]?.gauges.map((g) => g.name);
    expect(names).toEqual(
      expect.arrayContaining([
        "dynosaur.shop.dice.value",
        "dynosaur.shop.dice.estimate",
        "dynosaur.shop.combined.estimate",
        "dynosaur.shop.combined.actual",
      ]),
    );
    // OTLP: the combined estimate arrived with the header from the environment.
    const points = otlp.exports.flatMap((e) => e.points);
    expect(points.some((p) => p.metric === "dynosaur.combined.estimate" && p.attributes.app === "shop")).toBe(true);
    // The random source wants more than the plan's 3 dynos: Heroku refuses, one email says so.
    const refusals = sendgrid.emails.filter((e) => /refused/i.test(e.subject + e.text));
    expect(refusals.map((e) => e.to)).toEqual([["oncall@shop.example"]]);
    // What was sent (headers carry the credentials, as they must; payloads never do).
    const everything = JSON.stringify({
      stdout,
      emails: sendgrid.emails,
      librato: librato.submissions.map((s) => s.gauges),
      otlp: otlp.exports.map((e) => e.body),
    });
    for (const secret of [heroku.apiKey, LIBRATO.token, SENDGRID_KEY, OTLP_TOKEN])
      expect(everything).not.toContain(secret);
  });
});
