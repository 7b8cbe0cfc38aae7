import { alertsConfigSchema, ManualClock, memoryLogger, type Problem, type TickReport } from "@dynosaur/core";
import { type SendGridFake, startSendGridFake } from "@dynosaur/fakes/sendgrid";
import { Agent, request } from "undici";
import { beforeEach, describe, expect, it } from "vitest";
import { createAlertSink } from "../src/alerts/index.js";
import { eachTest } from "./fixtures.js";

const KEY = "SG.test-key.9f8e7d6c5b4a";
const ADMIN = "ops@example.com";

let fake: SendGridFake;
let http: Agent;
let clock: ManualClock;

eachTest(async () => {
  fake = await startSendGridFake({ apiKey: KEY });
  http = new Agent();
  return [fake, http];
});
beforeEach(() => {
  clock = new ManualClock();
});

const report = {
  time: 0,
  app: "shop",
  processType: "web",
  dryRun: false,
  before: 2,
  after: 2,
  estimate: 2,
  winner: null,
  reason: "",
  sources: [],
  events: [],
} satisfies TickReport;

const refused: Problem = {
  key: "heroku-refused",
  kind: "heroku-refused",
  message: "Heroku refused to scale web to 12: quantity above the plan's limit of 10",
};
const outage: Problem = {
  key: "outage:ga",
  kind: "source-outage",
  message: "source ga has had no good reading for 300 s (last error: HTTP 503)",
};

function sink(
  env: Record<string, string | undefined> = { SENDGRID_API_KEY: KEY, DYNOSAUR_ADMIN_EMAIL: ADMIN },
  config: Parameters<typeof createAlertSink>[0] = {},
) {
  const logger = memoryLogger();
  const s = createAlertSink({ sendgrid_endpoint: fake.url, ...config }, { app: "shop", logger, http, env, clock });
  return Object.assign(s, { logger });
}

/** Everything a human could read: every log line and every email. */
const everything = (logger: { text(): string }) => `${logger.text()}\n${JSON.stringify(fake.emails)}`;

describe("alert emails through SendGrid", () => {
  it("emails a repeated problem once per window, counts repeats into the next email, and emails one recovery", async () => {
    const s = sink();
    expect(s.emailing).toBe(true);
    s.raise(refused);
    clock.advance(60_000);
    s.raise(refused);
    clock.advance(60_000);
    s.raise(refused);
    await s.settled();
    expect(fake.emails).toHaveLength(1);
    const [first] = fake.emails;
    expect(first).toMatchObject({ to: [ADMIN], from: ADMIN });
    expect(first?.subject).toBe(`[dynosaur] shop: Heroku refused to scale: ${refused.message}`);
    expect(first?.text).toContain(refused.message);
    expect(first?.body.personalizations).toEqual([{ to: [{ email: ADMIN }] }]);

    clock.advance(900_000);
    s.raise(refused);
    await s.settled();
    expect(fake.emails).toHaveLength(2);
    expect(fake.emails[1]?.subject).toMatch(/still happening \(3 more\)/);
    expect(fake.emails[1]?.text).toMatch(
      /Repeated 3 times since the last email \(2026-01-01T00:00:00\.000Z\); 4 times in all\./,
    );

    clock.advance(30_000);
    s.clear(refused.key);
    s.clear(refused.key);
    await s.settled();
    expect(fake.emails).toHaveLength(3);
    expect(fake.emails[2]?.subject).toBe(`[dynosaur] shop: recovered: ${refused.message}`);
    expect(fake.emails[2]?.text).toMatch(/Lasted: +18 min .*seen 4 times/);
    expect(everything(s.logger)).not.toContain(KEY);
  });

  it("sends the repeat count after the window even when the problem is not raised again", async () => {
    const s = sink();
    s.raise(outage);
    s.raise(outage);
    s.raise(outage);
    s.tick?.(report, false);
    await s.settled();
    expect(fake.emails).toHaveLength(1);
    clock.advance(899_000);
    s.tick?.(report, false);
    await s.settled();
    expect(fake.emails).toHaveLength(1);
    clock.advance(1_000);
    s.tick?.(report, false);
    await s.settled();
    expect(fake.emails.map((e) => e.subject)).toEqual([
      `[dynosaur] shop: a source is in outage: ${outage.message}`,
      `[dynosaur] shop: still happening (2 more): ${outage.message}`,
    ]);
  });

  it("emails distinct problems separately, and honours min_interval", async () => {
    const s = sink(undefined, { min_interval: 60 });
    s.raise(outage);
    s.raise(refused);
    s.raise({ ...outage, key: "outage:nr", message: "source nr is in outage" });
    await s.settled();
    expect(fake.emails).toHaveLength(3);
    clock.advance(60_000);
    s.raise(outage);
    await s.settled();
    expect(fake.emails).toHaveLength(4);
  });

  it("counts a problem that flaps within the window into one later email", async () => {
    const s = sink();
    s.raise(outage);
    clock.advance(10_000);
    s.clear(outage.key);
    clock.advance(10_000);
    s.raise(outage);
    clock.advance(10_000);
    s.clear(outage.key);
    await s.settled();
    expect(fake.emails.map((e) => e.subject.split(":")[1]?.trim())).toEqual(["a source is in outage", "recovered"]);
    clock.advance(900_000);
    s.tick?.(report, true);
    await s.settled();
    expect(fake.emails[2]?.subject).toMatch(/happened again and cleared \(1 times\)/);
    s.tick?.(report, true);
    await s.settled();
    expect(fake.emails).toHaveLength(3);
  });

  it("logs SendGrid refusing the key once, with SendGrid's message and never the key", async () => {
    const wrong = "SG.revoked-key.0000aaaa";
    const s = sink({ SENDGRID_API_KEY: wrong, DYNOSAUR_ADMIN_EMAIL: ADMIN });
    s.raise(outage);
    s.raise(refused);
    await s.settled();
    const warns = s.logger.records.filter((r) => r.level === "warn" && r.message.startsWith("alert email failed"));
    expect(warns.map((r) => r.message)).toEqual([
      "alert email failed: SendGrid answered HTTP 401: The provided authorization grant is invalid, expired, or revoked (check SENDGRID_API_KEY / alerts.sendgrid_api_key)",
    ]);
    expect(s.logger.records.filter((r) => r.message === "alert email not sent")).toHaveLength(2);
    expect(everything(s.logger)).not.toContain(wrong);
    expect(fake.requests.map((r) => r.status)).toEqual([401, 401]);
  });

  it("says when the sender is not verified, and uses DYNOSAUR_FROM_EMAIL", async () => {
    await fake.close();
    fake = await startSendGridFake({ apiKey: KEY, verifiedSenders: ["alerts@example.com"] });
    const unverified = sink();
    unverified.raise(outage);
    await unverified.settled();
    expect(unverified.logger.text()).toMatch(
      /HTTP 403: from: The from address does not match a verified Sender Identity.*DYNOSAUR_FROM_EMAIL must be a verified sender/,
    );

    const verified = sink({
      SENDGRID_API_KEY: KEY,
      DYNOSAUR_ADMIN_EMAIL: `${ADMIN}, cto@example.com`,
      DYNOSAUR_FROM_EMAIL: "alerts@example.com",
    });
    verified.raise(outage);
    await verified.settled();
    expect(fake.emails).toEqual([
      expect.objectContaining({ from: "alerts@example.com", to: [ADMIN, "cto@example.com"] }),
    ]);
  });

  it("takes the config over the environment", async () => {
    const s = sink(
      { SENDGRID_API_KEY: "SG.stale-env-key.1111", DYNOSAUR_ADMIN_EMAIL: "old@example.com" },
      { sendgrid_api_key: KEY, email: ["new@example.com"], from: "dyno@example.com" },
    );
    s.raise(outage);
    await s.settled();
    expect(fake.emails).toEqual([expect.objectContaining({ to: ["new@example.com"], from: "dyno@example.com" })]);
  });

  it("warns at start-up when only the seed's SendGrid username and password are set", () => {
    const s = sink({
      SENDGRID_USERNAME: "app123@heroku.com",
      SENDGRID_PASSWORD: "seed-era-password-42",
      DYNOSAUR_ADMIN_EMAIL: ADMIN,
    });
    expect(s.emailing).toBe(false);
    const warn = s.logger.records.find((r) => r.level === "warn");
    expect(warn?.message).toMatch(
      /SENDGRID_USERNAME\/SENDGRID_PASSWORD are set, but SendGrid no longer accepts a username and password/,
    );
    expect(warn?.fields.hint).toMatch(/set SENDGRID_API_KEY/);
    expect(s.logger.text()).not.toContain("seed-era-password-42");
  });

  it("only logs when email is not configured", async () => {
    const s = sink({});
    expect(s.emailing).toBe(false);
    s.raise(outage);
    s.raise(outage);
    s.clear(outage.key);
    await s.settled();
    await s.close();
    expect(fake.requests).toHaveLength(0);
    expect(s.logger.records.filter((r) => r.level !== "debug").map((r) => `${r.level} ${r.message}`)).toEqual([
      "info alerts: not emailed (set SENDGRID_API_KEY and DYNOSAUR_ADMIN_EMAIL to email them); problems are logged",
      `warn alert: ${outage.message}`,
      `info alert cleared: ${outage.message}`,
    ]);
  });

  it("warns about half a configuration", () => {
    expect(sink({ SENDGRID_API_KEY: KEY }).logger.text()).toMatch(/a SendGrid key is set but no recipient/);
    expect(sink({ DYNOSAUR_ADMIN_EMAIL: ADMIN }).logger.text()).toMatch(/a recipient is set but no SendGrid key/);
  });
});

describe("alerts config schema", () => {
  it("is all optional, with defaults, and catches typos", () => {
    expect(alertsConfigSchema.parse({})).toEqual({
      sendgrid_endpoint: "https://api.sendgrid.com",
      min_interval: 900,
      heartbeat_interval: 60,
      timeout: 10,
    });
    expect(alertsConfigSchema.safeParse({ min_intreval: 60 }).success).toBe(false);
    expect(alertsConfigSchema.safeParse({ heartbeat_url: "not a url" }).success).toBe(false);
  });

  it("refuses what is not an email address (SendGrid would refuse every alert email for it, at the first alert)", () => {
    const issues = (alerts: unknown) =>
      alertsConfigSchema.safeParse(alerts).error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`) ?? [];
    expect(issues({ email: "not-an-email" })).toEqual([
      'email: "not-an-email" is not an email address: write an address such as ops@example.com (several as a list, or separated by commas)',
    ]);
    expect(issues({ email: ["ops@example.com", "cto at example.com"] })).toEqual([
      expect.stringMatching(/^email: "cto at example.com" is not an email address/),
    ]);
    expect(issues({ email: "ops@example.com,", from: "Dynosaur" })).toEqual([
      expect.stringMatching(/^from: "Dynosaur" is not an email address/),
    ]);
    expect(issues({ email: "ops@example.com, cto+alerts@example.co.uk", from: "dyno@example.com" })).toEqual([]);
  });

  it("refuses a bad DYNOSAUR_ADMIN_EMAIL or DYNOSAUR_FROM_EMAIL at start, unless the config sets its own", () => {
    expect(() => sink({ SENDGRID_API_KEY: KEY, DYNOSAUR_ADMIN_EMAIL: "ops@example.com, oncall" })).toThrow(
      expect.objectContaining({
        code: "DYNO_CONFIG_INVALID",
        exitCode: 2,
        path: "DYNOSAUR_ADMIN_EMAIL",
        message: 'DYNOSAUR_ADMIN_EMAIL: "oncall" is not an email address',
        hint: "set DYNOSAUR_ADMIN_EMAIL to an address such as ops@example.com (several separated by commas), or set alerts.email",
      }),
    );
    expect(() => sink({ SENDGRID_API_KEY: KEY, DYNOSAUR_ADMIN_EMAIL: ADMIN, DYNOSAUR_FROM_EMAIL: "dynosaur" })).toThrow(
      expect.objectContaining({ path: "DYNOSAUR_FROM_EMAIL" }),
    );
    expect(sink({ SENDGRID_API_KEY: KEY, DYNOSAUR_ADMIN_EMAIL: "oncall" }, { email: ADMIN }).emailing).toBe(true);
  });
});

describe("sendgrid fake", () => {
  const post = (body: unknown, headers: Record<string, string>) =>
    request(`${fake.url}/v3/mail/send`, {
      method: "POST",
      dispatcher: http,
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.statusCode, body: await r.body.json() }));

  it("rejects a missing key and a malformed body with SendGrid's error shape", async () => {
    expect(await post({}, {})).toEqual({
      status: 401,
      body: { errors: [{ message: "authorization required", field: null, help: null }] },
    });
    const bad = await post(
      { from: { email: ADMIN }, subject: "s", content: [{ type: "text/plain", value: "x" }] },
      { authorization: `Bearer ${KEY}` },
    );
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({
      errors: [
        expect.objectContaining({ field: "personalizations", message: expect.any(String), help: expect.any(String) }),
      ],
    });
    expect(fake.emails).toHaveLength(0);
  });
});
