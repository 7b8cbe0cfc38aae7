import { describe, expect, it } from "vitest";
import { parseLogplexBody, readDrainLine, readRouterLine } from "../src/index.js";
import { app, body, H10, H12, heroku, ROUTER_1, ROUTER_2, router } from "./bodies.js";

describe("parseLogplexBody", () => {
  it("splits octet-counted RFC 5424 frames, multibyte text included", () => {
    const parsed = parseLogplexBody(
      body(
        router(ROUTER_1("web.1", 12)),
        app("web.2", "Rendered café.html.erb (4.2ms) ✓"),
        heroku("web.1", "State changed from starting to up"),
      ),
    );
    expect(parsed.malformed).toBe(0);
    expect(parsed.messages.map((m) => [m.appName, m.procId])).toEqual([
      ["heroku", "router"],
      ["app", "web.2"],
      ["heroku", "web.1"],
    ]);
    expect(parsed.messages[1]?.text).toBe("Rendered café.html.erb (4.2ms) ✓");
    expect(parsed.messages[0]?.timestamp).toBe("2026-12-07T04:00:00.123456+00:00");
  });

  it("skips and counts a frame whose header is not syslog, and goes on with the next", () => {
    const bad = "17 this is no syslog";
    const parsed = parseLogplexBody(
      body(bad.replace("17", String("this is no syslog".length)), router(ROUTER_1("web.1", 5))),
    );
    expect(parsed.malformed).toBe(1);
    expect(parsed.messages).toHaveLength(1);
  });

  it("stops at a length that is no number or runs past the body, counting one malformed frame", () => {
    expect(parseLogplexBody(body(router(ROUTER_1("web.1", 5)), "x12 <1>1 junk")).malformed).toBe(1);
    const cut = parseLogplexBody(
      body(router(ROUTER_1("web.1", 5)), "900 <158>1 2026-12-07T04:00:00Z host heroku router - at=info"),
    );
    expect(cut).toMatchObject({ malformed: 1 });
    expect(cut.messages).toHaveLength(1);
    expect(parseLogplexBody(new Uint8Array(0))).toEqual({ messages: [], malformed: 0 });
  });
});

describe("readRouterLine", () => {
  it("reads router 1.0 lines", () => {
    expect(readRouterLine(ROUTER_1("web.3", 18, 404))).toEqual({
      kind: "request",
      dyno: "web.3",
      connect: 1,
      service: 18,
      status: 404,
      code: null,
    });
  });

  it("reads router 2.0 lines, ignoring their trailing keys and any unknown key", () => {
    expect(readRouterLine(`${ROUTER_2("web.1", 7)} future_key=1`)).toMatchObject({
      dyno: "web.1",
      service: 7,
      status: 201,
    });
  });

  it("reads error lines: their code, and no dyno when the router picked none", () => {
    expect(readRouterLine(H12("web.2"))).toMatchObject({ code: "H12", dyno: "web.2", service: 30000, status: 503 });
    expect(readRouterLine(H10)).toMatchObject({ code: "H10", dyno: null, service: null, connect: null });
  });

  it("is null for a router line that is no request", () => {
    expect(readRouterLine('at=info msg="some router notice"')).toBeNull();
  });
});

describe("readDrainLine", () => {
  const message = (appName: string, procId: string, text: string) => ({ timestamp: "", appName, procId, text });

  it("reads the app's queue-time summaries, with whatever the app's logger put before them", () => {
    expect(
      readDrainLine(
        message("app", "web.1", "I, [2026-12-07] INFO -- : dynosaur:queue_time n=40 p50=5 p95=400 max=901"),
      ),
    ).toEqual({
      kind: "queue-summary",
      dyno: "web.1",
      n: 40,
      p50: 5,
      p95: 400,
      max: 901,
    });
  });

  it("reads HireFire's queue lines", () => {
    expect(readDrainLine(message("app", "web.2", "[hirefire:router] queue=37ms"))).toEqual({
      kind: "queue-sample",
      dyno: "web.2",
      ms: 37,
    });
  });

  it("ignores other lines, and an app line that only looks like a router line", () => {
    expect(readDrainLine(message("heroku", "web.1", "State changed from up to down"))).toBeNull();
    expect(readDrainLine(message("app", "web.1", ROUTER_1("web.1", 5)))).toBeNull();
    expect(readDrainLine(message("app", "web.1", "Completed 200 OK in 12ms"))).toBeNull();
  });
});
