import { describe, expect, it } from "vitest";
import { parseConfig } from "../src/config.js";
import { Redactor, redactConfig } from "../src/redact.js";

describe("URL secrets in a config become secrets of its Redactor", () => {
  const { redactor } = parseConfig({
    scaler: { dry_run: true, heroku_api_url: "https://bob:proxy%40pass123@proxy.example.com" },
    plugins: [{ type: "random" }],
    stats: [{ type: "otlp", endpoint: "https://otlp.example.com/v1/metrics?tenant=shop&api_key=x" }],
  });

  it("blanks a URL's password wherever the URL is printed, keeping the user and host", () => {
    expect(redactor.scrub("scales: shop web via https://bob:proxy%40pass123@proxy.example.com")).toBe(
      "scales: shop web via https://bob:[redacted]@proxy.example.com",
    );
  });

  it("blanks the password on its own too, as written and decoded (an error may quote either)", () => {
    expect(redactor.scrub("proxy refused proxy%40pass123")).toBe("proxy refused [redacted]");
    expect(redactor.scrub("proxy refused proxy@pass123")).toBe("proxy refused [redacted]");
  });

  it("blanks query parameters named like keys, however short, and keeps the others", () => {
    expect(redactor.scrub("endpoint: https://otlp.example.com/v1/metrics?tenant=shop&api_key=x")).toBe(
      "endpoint: https://otlp.example.com/v1/metrics?tenant=shop&api_key=[redacted]",
    );
  });
});

describe("Redactor.scrub", () => {
  it("blanks the passwords and credential parameters of any URL, even one it was never told of", () => {
    const scrub = (text: string) => new Redactor().scrub(text);
    expect(scrub("redis://:hunter2@127.0.0.1:6379/0 down")).toBe("redis://:[redacted]@127.0.0.1:6379/0 down");
    expect(scrub("GET https://x.example/?access_token=abc&x-api-key=def&page=2")).toBe(
      "GET https://x.example/?access_token=[redacted]&x-api-key=[redacted]&page=2",
    );
    // A user without a password, a port, and parameters that only end in "key"-like letters stay as they are.
    for (const text of ["https://bob@host.example:8443/a", "https://host.example/?monkey=1&keys=2", "a: b:c d@e"])
      expect(scrub(text)).toBe(text);
  });
});

describe("a Slack incoming webhook's URL is its credential", () => {
  const config = {
    notify: [
      { type: "slack", url: "https://hooks.slack.com/services/T0/B0/abcdefSECRET" },
      { type: "webhook", url: "https://example.com/hooks", secret: "whsec_c2VjcmV0c2VjcmV0c2VjcmV0" },
    ],
  };

  it("is redacted in a config (so the web app seals it) while a signed webhook's URL is not", () => {
    const redacted = redactConfig(config) as typeof config;
    expect(redacted.notify[0]?.url).toBe("[redacted]");
    expect(redacted.notify[1]?.url).toBe("https://example.com/hooks");
    expect(redacted.notify[1]?.secret).toBe("[redacted]");
  });

  it("is blanked wherever a log or error quotes it", () => {
    const redactor = new Redactor();
    redactor.collect(config);
    expect(redactor.scrub("POST https://hooks.slack.com/services/T0/B0/abcdefSECRET failed")).not.toContain(
      "abcdefSECRET",
    );
  });
});
