import { createHmac, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { ManualClock, memoryLogger } from "@dynosaur/core";
import { type NotifyReceiver, startNotifyReceiver } from "@dynosaur/fakes/notify";
import { Agent } from "undici";
import { describe, expect, it } from "vitest";
import { createNotifier } from "../src/notify/index.js";
import { eachTest, sampleTick } from "./fixtures.js";

/*
 * The README's "Tell me when it scales" shows how to verify a signed delivery without a
 * library: that very code, taken from the README, must accept a real delivery and refuse a
 * forged, altered or stale one.
 */
const README = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
const section = README.slice(README.indexOf("### Tell me when it scales"));
const code = /```js\n([\s\S]*?)```/.exec(section)?.[1] ?? "";

type Verify = (headers: Record<string, unknown>, body: string, secret: string, nowSeconds?: number) => boolean;
const verifyDynosaur = new Function(
  "createHmac",
  "timingSafeEqual",
  `${code.replace(/^import .*$/m, "")}\nreturn verifyDynosaur;`,
)(createHmac, timingSafeEqual) as Verify;

const SECRET = `whsec_${Buffer.from("readme-key-0123456789abcdef01234").toString("base64")}`;

let hook: NotifyReceiver;
let http: Agent;
eachTest(async () => {
  hook = await startNotifyReceiver();
  http = new Agent();
  return [hook, http];
});

describe("the README's signature check", () => {
  it("accepts a real delivery, and refuses an altered body, another key, a stale timestamp", async () => {
    expect(code).toContain("function verifyDynosaur");
    const clock = new ManualClock(Date.now());
    const n = createNotifier([{ type: "webhook", url: hook.url, secret: SECRET, events: ["scale"] }], {
      http,
      clock,
      logger: memoryLogger(),
      alerts: { raise: () => {}, clear: () => {} },
    });
    n.report(
      sampleTick({
        time: clock.now(),
        events: [{ kind: "scale", level: "info", message: "", processType: "web", fields: { from: 2, to: 5 } }],
      }),
    );
    await n.settled();
    await n.close();
    const got = hook.received[0];
    if (!got) throw new Error("nothing delivered");
    const now = clock.now() / 1000;
    expect(verifyDynosaur(got.headers, got.raw, SECRET, now)).toBe(true);
    expect(verifyDynosaur(got.headers, got.raw.replace('"to":5', '"to":9'), SECRET, now)).toBe(false);
    const other = `whsec_${Buffer.from("another-key-0123456789abcdef0123").toString("base64")}`;
    expect(verifyDynosaur(got.headers, got.raw, other, now)).toBe(false);
    expect(verifyDynosaur(got.headers, got.raw, SECRET, now + 3600)).toBe(false);
    expect(verifyDynosaur({ ...got.headers, "webhook-id": "msg_other" }, got.raw, SECRET, now)).toBe(false);
  });
});
