import { describe, expect, it } from "vitest";
import { dryRunConfig, must, nextTick, startTestServer, TOKEN } from "./helpers.js";

describe("the JSON API on SQLite", () => {
  it("answers /healthz without auth, and with nothing more than ok", async () => {
    const t = await startTestServer();
    const r = await t.call("GET", "/healthz", { token: null });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ ok: true });
  });

  it("creates an app from a config, shows it, lists it with its process, and stores its ticks", async () => {
    const t = await startTestServer();
    const put = await t.call("PUT", "/api/apps/shop/config?comment=first", { body: dryRunConfig() });
    expect(put.status).toBe(200);
    expect(put.json).toEqual({ name: "shop", version: 1, created: true });
    expect(put.headers.get("etag")).toBe('"1"');

    const tick = await nextTick(t, "shop");
    expect(tick.dryRun).toBe(true);
    expect(tick.sources[0]?.name).toBe("random");

    const got = await t.call("GET", "/api/apps/shop/config");
    expect(got.status).toBe(200);
    expect(got.json).toMatchObject({
      name: "shop",
      version: 1,
      author: "token:DYNOSAUR_API_TOKEN",
      comment: "first",
      config: dryRunConfig(),
      secrets: [],
    });

    const list = await t.call("GET", "/api/apps");
    expect(list.status).toBe(200);
    expect(list.json.apps).toHaveLength(1);
    const app = list.json.apps[0];
    expect(app).toMatchObject({ name: "shop", version: 1, paused: false, dry_run: true, scaled_here: true });
    expect(app.processes).toEqual([
      {
        type: "web",
        current: tick.after,
        estimate: tick.estimate,
        health: "ok",
        winner: "random",
        sources: [{ name: "random", health: "ok" }],
        // The limits in force, and the state in words they give.
        min_dynos: 1,
        max_dynos: 5,
        state: `steady at ${tick.after}${tick.after === 1 ? " (at min 1)" : ""}`,
        attention: false,
      },
    ]);
    expect(app).toMatchObject({ state: `dry run · ${app.processes[0].state}`, attention: false });

    const ticks = await t.call(
      "GET",
      `/api/apps/shop/ticks?since=${encodeURIComponent(new Date(tick.time - 1).toISOString())}`,
    );
    expect(ticks.status).toBe(200);
    expect(ticks.json.ticks).toHaveLength(1);
    expect(ticks.json.ticks[0]).toMatchObject({
      at: new Date(tick.time).toISOString(),
      estimate: tick.estimate,
      reason: tick.reason,
    });

    const readings = await t.call(
      "GET",
      `/api/apps/shop/readings?since=${encodeURIComponent(new Date(tick.time - 120_000).toISOString())}`,
    );
    expect(readings.json.readings).toEqual([
      {
        minute: new Date(Math.floor(tick.time / 60_000) * 60_000).toISOString(),
        process_type: "web",
        dynos: tick.after,
        estimate: tick.estimate,
        sources: [{ name: "random", value: tick.sources[0]?.value, estimate: tick.sources[0]?.estimate, health: "ok" }],
      },
    ]);

    const events = await t.call("GET", "/api/apps/shop/events");
    expect(events.json.events.map((e: { kind: string }) => e.kind)).toContain("config-changed");

    const status = await t.call("GET", "/api/apps/shop/status");
    expect(status.json).toMatchObject({
      name: "shop",
      scaled_here: true,
      version: 1,
      paused: false,
      dryRun: true,
      running: true,
    });
  });

  it("lists each process type of an app, live and from the stored ticks, and stores one tick row per process type", async () => {
    const t = await startTestServer();
    const body = dryRunConfig({
      plugins: [
        { type: "random", name: "requests", seed: 7, interval: 5 },
        { type: "random", name: "jobs", seed: 3, interval: 5, process: "worker" },
      ],
    });
    const config = {
      ...body,
      processes: { web: { min_dynos: 1, max_dynos: 5 }, worker: { min_dynos: 2, max_dynos: 3 } },
    };
    expect((await t.call("PUT", "/api/apps/shop/config", { body: config })).status).toBe(200);
    await nextTick(t, "shop", 2);
    const [web, worker] = t.server.supervisor.status("shop")?.processes ?? [];
    expect([web?.processType, worker?.processType]).toEqual(["web", "worker"]);
    expect(worker?.current).toBeGreaterThanOrEqual(2);

    const live = (await t.call("GET", "/api/apps")).json.apps[0].processes;
    expect(live).toEqual([
      {
        type: "web",
        current: web?.current,
        estimate: web?.estimate,
        health: "ok",
        winner: "requests",
        sources: [{ name: "requests", health: "ok" }],
        min_dynos: 1,
        max_dynos: 5,
        state: expect.any(String),
        attention: expect.any(Boolean),
      },
      {
        type: "worker",
        current: worker?.current,
        estimate: worker?.estimate,
        health: "ok",
        winner: "jobs",
        sources: [{ name: "jobs", health: "ok" }],
        min_dynos: 2,
        max_dynos: 3,
        state: expect.any(String),
        attention: expect.any(Boolean),
      },
    ]);

    // Nobody scales it now: the list answers from the newest stored tick of each process type.
    await t.server.recorder.flush();
    await t.server.supervisor.stop();
    const stored = (await t.call("GET", "/api/apps")).json.apps[0];
    expect(stored.scaled_here).toBe(false);
    // The same figures; the limits in force are known only where the app is scaled.
    const figures = (p: Record<string, unknown>) => ({
      ...p,
      min_dynos: null,
      max_dynos: null,
      state: "",
      attention: false,
    });
    expect(stored.processes.map(figures)).toEqual(live.map(figures));
    expect(stored.processes.map((p: { min_dynos: unknown }) => p.min_dynos)).toEqual([null, null]);
    const ticks = (await t.call("GET", "/api/apps/shop/ticks")).json.ticks as {
      time: number;
      processType: string;
      sources: { name: string }[];
    }[];
    const times = [...new Set(ticks.map((r) => r.time))];
    expect(times.length).toBeGreaterThan(0);
    for (const time of times) {
      const rows = ticks.filter((r) => r.time === time);
      expect(rows.map((r) => [r.processType, r.sources.map((s) => s.name)])).toEqual([
        ["web", ["requests"]],
        ["worker", ["jobs"]],
      ]);
    }

    // A process type the newer ticks no longer have (taken out of the config) is not listed.
    const latest = ticks.at(-1) as unknown as { time: number };
    const appId = must(await t.server.stores.apps.get("shop"), "the stored app shop").id;
    await t.server.stores.readings.write({
      ticks: [
        { appId, time: latest.time + 5000, processType: "web", report: { ...ticks[0], time: latest.time + 5000 } },
      ],
      minutes: [],
      events: [],
    });
    expect((await t.call("GET", "/api/apps")).json.apps[0].processes.map((p: { type: string }) => p.type)).toEqual([
      "web",
    ]);
  });

  it("refuses an invalid config with every error at its path, and saves nothing", async () => {
    const t = await startTestServer();
    const bad = {
      use: ["random", "no-such-plugin-xyz"],
      scaler: { dry_run: true, min_dynos: 5, max_dynos: 2, intervall: 5 },
      plugins: [{ type: "random", max_value: -1 }],
    };
    const r = await t.call("PUT", "/api/apps/shop/config", { body: bad });
    expect(r.status).toBe(422);
    const paths = r.json.errors.map((e: { path: string }) => e.path);
    expect(paths).toEqual(expect.arrayContaining(["scaler", "scaler.min_dynos", "use[1]", "plugins[0].max_value"]));
    expect(r.json.errors.find((e: { path: string }) => e.path === "scaler").message).toMatch(
      /unknown key "intervall" \(did you mean "interval"\?\)/,
    );
    expect(r.json.errors.find((e: { path: string }) => e.path === "use[1]").hint).toMatch(
      /npm install dynosaur-plugin-no-such-plugin-xyz/,
    );
    expect((await t.call("GET", "/api/apps")).json.apps).toEqual([]);
    expect((await t.call("GET", "/api/apps/shop/config")).status).toBe(404);

    // An existing app keeps its version when a change is refused.
    expect((await t.call("PUT", "/api/apps/shop/config", { body: dryRunConfig() })).status).toBe(200);
    const again = await t.call("PUT", "/api/apps/shop/config", {
      body: dryRunConfig({ scaler: { max_dynos: "ten" } }),
    });
    expect(again.status).toBe(422);
    expect(again.json.errors).toEqual([
      { path: "scaler.max_dynos", message: expect.stringMatching(/expected a number/), code: "DYNO_CONFIG_INVALID" },
    ]);
    expect((await t.call("GET", "/api/apps/shop/config/versions")).json.versions).toHaveLength(1);
  });

  it("If-Match: a save based on an old version is refused with 409 (no lost update)", async () => {
    const t = await startTestServer();
    expect((await t.call("PUT", "/api/apps/shop/config", { body: dryRunConfig() })).status).toBe(200);
    const a = await t.call("PUT", "/api/apps/shop/config", {
      body: dryRunConfig({ scaler: { max_dynos: 6 } }),
      headers: { "if-match": '"1"' },
    });
    expect(a.status).toBe(200);
    expect(a.json.version).toBe(2);
    const b = await t.call("PUT", "/api/apps/shop/config", {
      body: dryRunConfig({ scaler: { max_dynos: 7 } }),
      headers: { "if-match": '"1"' },
    });
    expect(b.status).toBe(409);
    expect(b.json.version).toBe(2);
    expect((await t.call("GET", "/api/apps/shop/config")).json.config.scaler.max_dynos).toBe(6);
    // If-Match 0: only when the app does not exist yet.
    expect(
      (await t.call("PUT", "/api/apps/shop/config", { body: dryRunConfig(), headers: { "if-match": "0" } })).status,
    ).toBe(409);
    expect(
      (await t.call("PUT", "/api/apps/new-app/config", { body: dryRunConfig(), headers: { "if-match": "0" } })).status,
    ).toBe(200);
    expect(
      (await t.call("PUT", "/api/apps/shop/config", { body: dryRunConfig(), headers: { "if-match": "soon" } })).status,
    ).toBe(422);
  });

  it("a create (If-Match 0, as the add page sends) refuses a taken name, saying so; the config page's PUT still saves", async () => {
    const t = await startTestServer();
    const created = await t.call("PUT", "/api/apps/shop/config", {
      body: dryRunConfig(),
      headers: { "if-match": '"0"' },
    });
    expect([created.status, created.json]).toEqual([200, { name: "shop", version: 1, created: true }]);
    const again = await t.call("PUT", "/api/apps/shop/config", {
      body: dryRunConfig({ scaler: { max_dynos: 2 } }),
      headers: { "if-match": '"0"' },
    });
    expect([again.status, again.json]).toEqual([
      409,
      { error: "an app named shop exists: open its config to change it", code: "DYNO_APP_EXISTS", version: 1 },
    ]);
    expect((await t.call("GET", "/api/apps/shop/config")).json).toMatchObject({ version: 1, config: dryRunConfig() });
    // Changing an app is a PUT based on its version (or none), as the config page and the CLI do.
    const changed = await t.call("PUT", "/api/apps/shop/config", {
      body: dryRunConfig({ scaler: { max_dynos: 2 } }),
      headers: { "if-match": '"1"' },
    });
    expect([changed.status, changed.json.version]).toEqual([200, 2]);
  });

  it("lists versions, rolls back as a new version, and the engine obeys", async () => {
    const t = await startTestServer();
    await t.call("PUT", "/api/apps/shop/config", { body: dryRunConfig({ scaler: { min_dynos: 1 } }) });
    await nextTick(t, "shop");
    await t.call("PUT", "/api/apps/shop/config?comment=more", { body: dryRunConfig({ scaler: { min_dynos: 4 } }) });
    expect(t.server.supervisor.status("shop")?.version).toBe(2);
    const versions = await t.call("GET", "/api/apps/shop/config/versions");
    expect(versions.json.current).toBe(2);
    expect(
      versions.json.versions.map((v: { version: number; comment: string | null }) => [v.version, v.comment]),
    ).toEqual([
      [2, "more"],
      [1, null],
    ]);
    const back = await t.call("POST", "/api/apps/shop/config/rollback", { body: { version: 1 } });
    expect(back.status).toBe(200);
    expect(back.json.version).toBe(3);
    expect((await t.call("GET", "/api/apps/shop/config")).json).toMatchObject({
      version: 3,
      comment: "rollback to version 1",
      config: { scaler: { min_dynos: 1 } },
    });
    expect(t.server.supervisor.status("shop")?.version).toBe(3);
    expect((await t.call("POST", "/api/apps/shop/config/rollback", { body: { version: 9 } })).status).toBe(404);
    const kinds = (await t.call("GET", "/api/apps/shop/events")).json.events.map((e: { kind: string }) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(["config-changed", "rollback"]));
  });

  it("pauses, resumes and deletes an app", async () => {
    const t = await startTestServer();
    await t.call("PUT", "/api/apps/shop/config", { body: dryRunConfig({ scaler: { min_dynos: 1, max_dynos: 50 } }) });
    expect((await t.call("POST", "/api/apps/shop/pause")).json).toEqual({ name: "shop", paused: true });
    // Paused: the engine reads and reports, but never changes the formation (after the tick
    // that may have been under way when the pause came).
    await nextTick(t, "shop");
    for (let i = 0; i < 3; i++) {
      const paused = await nextTick(t, "shop");
      expect(paused.after).toBe(paused.before);
      if (paused.estimate !== paused.before) expect(paused.reason).toMatch(/standing by: the app is paused/);
    }
    expect((await t.call("GET", "/api/apps")).json.apps[0].paused).toBe(true);
    expect(t.server.supervisor.status("shop")?.paused).toBe(true);
    expect((await t.call("POST", "/api/apps/shop/resume")).json).toEqual({ name: "shop", paused: false });
    expect((await t.call("DELETE", "/api/apps/shop")).json).toEqual({ deleted: "shop" });
    expect(t.server.supervisor.status("shop")).toBeNull();
    expect((await t.call("GET", "/api/apps")).json.apps).toEqual([]);
    expect((await t.call("DELETE", "/api/apps/shop")).status).toBe(404);
  });

  it("gives the JSON Schema of a config with a third-party plugin, secrets write-only", async () => {
    const t = await startTestServer();
    const r = await t.call("GET", "/api/schema?use=random,dynosaur-plugin-example");
    expect(r.status).toBe(200);
    const items = r.json.properties.plugins.items.anyOf;
    const example = items.find((i: { properties: { type: { enum: string[] } } }) =>
      i.properties.type.enum.includes("example"),
    );
    expect(example.properties.per_dyno.type).toBe("number");
    expect(example.properties.token.writeOnly).toBe(true);
    expect(r.json.properties.scaler.properties.heroku_api_key.writeOnly).toBe(true);
    expect(r.json.properties.scaler.properties.min_dynos.writeOnly).toBeUndefined();
    const missing = await t.call("GET", "/api/schema?use=no-such-plugin-xyz");
    expect(missing.status).toBe(422);
  });

  it("lists this server instance with the apps it scales", async () => {
    const t = await startTestServer();
    await t.call("PUT", "/api/apps/shop/config", { body: dryRunConfig() });
    await t.server.supervisor.sync();
    const r = await t.call("GET", "/api/instances");
    expect(r.json.instances).toEqual([
      // One process on SQLite: its share is every app.
      expect.objectContaining({ id: t.server.instanceId, pid: process.pid, apps: ["shop"], owned: 1, share: 1 }),
    ]);
  });

  it("streams live ticks as Server-Sent Events", async () => {
    const t = await startTestServer();
    await t.call("PUT", "/api/apps/shop/config", { body: dryRunConfig() });
    const controller = new AbortController();
    const res = await fetch(`${t.server.url}/api/apps/shop/stream`, {
      headers: { authorization: `Bearer ${TOKEN}` },
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const reader = must(res.body, "a response body").getReader();
    const tick = await nextTick(t, "shop");
    let text = "";
    while (!text.includes("\n\n")) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    expect(text).toMatch(/^event: tick\ndata: /);
    const data = JSON.parse(must(/data: (.*)\n/.exec(text)?.[1], "a data: line"));
    expect(data).toMatchObject({ time: tick.time, estimate: tick.estimate, at: new Date(tick.time).toISOString() });
  });

  it("documents every route in OpenAPI", async () => {
    const t = await startTestServer();
    const doc = (await t.call("GET", "/api/openapi.json")).json;
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/api/apps",
        "/api/apps/{name}/config",
        "/api/apps/{name}/stream",
        "/api/schema",
        "/api/instances",
      ]),
    );
    expect(doc.paths["/api/apps/{name}/config"].put.responses["422"]).toBeDefined();
  });
});
