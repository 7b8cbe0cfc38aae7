import type { PluginDefinition } from "@dynosaur/core";
import { assert, describe, expect, it } from "vitest";
import plugins from "../src/index.js";
import {
  closedPort,
  expectFailure,
  instance,
  startPasswordRejectingServer,
  startSilentServer,
  useDatabase,
} from "./helpers.js";

/*
 * What every type does when the database is not what it expects: each case runs for all
 * six plugins, against the real server (or a loopback one that speaks its protocol).
 */
const db = useDatabase("failures");
const PASSWORD = "pw-Very-Secret-42";

// The least each type needs to be valid; `url` comes from each case.
const baseOptions = (plugin: PluginDefinition): Record<string, unknown> =>
  plugin.type === "sql"
    ? { query: "SELECT count(*) AS value FROM pg_class", jobs_per_dyno: 10 }
    : { jobs_per_dyno: 10 };

const withCredentials = (url: string, user: string, password: string) => {
  const u = new URL(url);
  u.username = user;
  u.password = password;
  return u.toString();
};

describe.each(plugins.map((p) => [p.type, p] as const))("%s", (_type, plugin) => {
  const poll = async (url: string, extra: Record<string, unknown> = {}) => {
    const { instance: i } = await instance(plugin, { ...baseOptions(plugin), url, ...extra });
    return i.retrieve(new AbortController().signal);
  };

  it("a wrong password: PostgreSQL's refusal, explained, the password never shown", async () => {
    const server = await startPasswordRejectingServer();
    try {
      const e = await expectFailure(
        poll(`postgres://app:${PASSWORD}@127.0.0.1:${server.port}/app`),
        /refused the login: password authentication failed for user "app"/,
        [PASSWORD],
      );
      expect(e.message).toContain(`postgres://app@127.0.0.1:${server.port}/app`);
      expect(e.hint).toMatch(/user and password in url/);
      // The URL's password did reach the server: it is the server that said no.
      expect(server.passwords).toEqual([PASSWORD]);
    } finally {
      await server.close();
    }
  });

  it("a wrong user or database on the real server: named, without the password", async () => {
    // The test server trusts every login on 127.0.0.1, so a wrong password cannot fail there;
    // an unknown role and an unknown database are refused all the same.
    await expectFailure(
      poll(withCredentials(db.url, "nobody_here", PASSWORD)),
      /refused the login: role "nobody_here" does not exist/,
      [PASSWORD],
    );
    await expectFailure(
      poll(withCredentials(db.url.replace(/\/[^/]+$/, "/no_such_db"), "postgres", PASSWORD)),
      /database "no_such_db" does not exist/,
      [PASSWORD],
    );
  });

  it("nothing listening: connection refused, with host and port", async () => {
    const port = await closedPort();
    const e = await expectFailure(poll(`postgres://app:${PASSWORD}@127.0.0.1:${port}/app`), /connection refused/, [
      PASSWORD,
    ]);
    expect(e.message).toContain(`127.0.0.1:${port}`);
  });

  it("a server that accepts and never answers: the poll times out", async () => {
    const server = await startSilentServer();
    try {
      const e = await expectFailure(poll(server.url, { timeout: 0.3 }), /did not answer within 0.3 s/, [
        "s3cret-hang-pw",
      ]);
      expect(e.code).toBe("DYNO_PLUGIN_TIMEOUT");
      expect(server.connections()).toBe(1);
    } finally {
      await server.close();
    }
  });

  it("a hung server: the poll stops as soon as core aborts it", async () => {
    const server = await startSilentServer();
    try {
      const { instance: i } = await instance(plugin, { ...baseOptions(plugin), url: server.url, timeout: 60 });
      const controller = new AbortController();
      const pending = i.retrieve(controller.signal);
      controller.abort(new Error("timeout"));
      const e = await expectFailure(pending, /did not answer before the poll was cancelled/, ["s3cret-hang-pw"]);
      expect(e.code).toBe("DYNO_PLUGIN_TIMEOUT");
    } finally {
      await server.close();
    }
  });

  it("a URL that is not a PostgreSQL URL fails at start-up at plugins[0].url, without its value", async () => {
    for (const url of [`mysql://app:${PASSWORD}@host/db`, `not a url ${PASSWORD}`]) {
      const e = await instance(plugin, { ...baseOptions(plugin), url }).then(
        () => expect.fail("expected a config error"),
        (x: unknown) => x as { path?: string; message: string; exitCode?: number },
      );
      expect(e.exitCode).toBe(2);
      expect(e.path).toBe("url");
      expect(e.message).not.toContain(PASSWORD);
    }
  });
});

describe.each(plugins.filter((p) => p.type !== "sql").map((p) => [p.type, p] as const))(
  "%s on a database without its tables",
  (_type, plugin) => {
    it("says which library's tables are missing and how to fix it", async () => {
      const { instance: i } = await instance(plugin, { url: db.url, jobs_per_dyno: 10 });
      const e = await expectFailure(
        i.retrieve(new AbortController().signal),
        /does not exist at postgres:\/\/postgres@127\.0\.0\.1:\d+\/dynosaur_failures_\w+: is .+ installed in this database\?/,
      );
      expect(e.hint).toMatch(/not found: .*url/);
    });
  },
);

describe("reconnecting", () => {
  it("a connection the server dropped is replaced at the next poll, and an idle drop does not crash", async () => {
    const plugin = plugins.find((p) => p.type === "sql");
    assert(plugin, "the package exports the sql plugin");
    const { instance: i, ctx } = await instance(plugin, {
      url: db.url,
      query: "SELECT 3 AS value, 1 AS busy",
      jobs_per_dyno: 10,
      name: "reconnect-me",
    });
    expect(await i.retrieve(new AbortController().signal)).toEqual({ value: 3, busy: 1 });
    const { rows } = await db.sql.query<{ n: number }>(
      "SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = 'dynosaur reconnect-me'",
    );
    expect(rows).toEqual([{ n: 1 }]);
    // The idle client's 'error' event is handled (an unhandled one would fail this test run).
    await expect
      .poll(() => ctx.logger.text())
      .toMatch(/connection to postgres:\/\/postgres@127.0.0.1:\d+\/\w+ lost: terminating connection/);
    expect(await i.retrieve(new AbortController().signal)).toEqual({ value: 3, busy: 1 });
  });
});
