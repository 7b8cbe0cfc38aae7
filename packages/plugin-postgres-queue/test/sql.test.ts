import { DynosaurError } from "@dynosaur/core";
import { testPlugin } from "@dynosaur/core/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { checkReadOnlyQuery, sqlPlugin as plugin } from "../src/index.js";
import { expectFailure, instance, read, useDatabase } from "./helpers.js";

const db = useDatabase("sql");

beforeAll(async () => {
  await db.sql.query(`
    CREATE TABLE jobs (id serial PRIMARY KEY, queue text NOT NULL, enqueued_at timestamptz NOT NULL, started_at timestamptz);
    INSERT INTO jobs (queue, enqueued_at, started_at) VALUES
      ('a', now() - interval '90 seconds', NULL), ('a', now(), NULL), ('b', now(), now());
    CREATE TABLE written (n int);
    -- A function that writes, called from an innocent-looking SELECT.
    CREATE FUNCTION sneaky() RETURNS int LANGUAGE sql AS 'INSERT INTO written VALUES (1) RETURNING 1';
  `);
});

const poll = async (options: Record<string, unknown>) => {
  const { instance: i } = await instance(plugin, { url: db.url, jobs_per_dyno: 1, ...options });
  return i;
};

describe("sql readings", () => {
  it("reads value, and busy when the query has it (bigint and numeric columns included)", async () => {
    expect(
      await read(plugin, {
        url: db.url,
        jobs_per_dyno: 1,
        query: "SELECT count(*) AS value FROM jobs WHERE started_at IS NULL",
      }),
    ).toEqual({ value: 2 });
    expect(
      await read(plugin, {
        url: db.url,
        jobs_per_dyno: 1,
        query:
          "SELECT count(*) FILTER (WHERE started_at IS NULL) AS value, count(*) FILTER (WHERE started_at IS NOT NULL) AS busy FROM jobs;",
      }),
    ).toEqual({ value: 2, busy: 1 });
    const latency = await read(plugin, {
      url: db.url,
      metric: "latency",
      latency_target: 30,
      query:
        "-- oldest waiting job\nSELECT COALESCE(EXTRACT(EPOCH FROM now() - min(enqueued_at)), 0) AS value FROM jobs WHERE started_at IS NULL -- seconds",
    });
    expect(latency.value).toBeGreaterThanOrEqual(90);
    expect(latency.value).toBeLessThan(150);
  });

  it("0 is a real reading", async () => {
    expect(
      await read(plugin, {
        url: db.url,
        jobs_per_dyno: 1,
        query: "SELECT count(*) AS value FROM jobs WHERE queue = 'none'",
      }),
    ).toEqual({ value: 0 });
  });

  it("a result that is not one row with a number is a failure, never a reading", async () => {
    const signal = new AbortController().signal;
    await expectFailure(
      (await poll({ query: "SELECT id AS value FROM jobs" })).retrieve(signal),
      /returned 3 rows; expected exactly one/,
    );
    await expectFailure(
      (await poll({ query: "SELECT count(*) AS n FROM jobs" })).retrieve(signal),
      /columns n, but no column named value/,
    );
    const nullValue = await expectFailure(
      (await poll({ query: "SELECT max(id) AS value FROM jobs WHERE false" })).retrieve(signal),
      /returned NULL for value/,
    );
    expect(nullValue.hint).toMatch(/COALESCE/);
    await expectFailure(
      (await poll({ query: "SELECT 'many' AS value" })).retrieve(signal),
      /returned "many" for value/,
    );
    await expectFailure(
      (await poll({ query: "SELECT 1 AS value, -1 AS busy" })).retrieve(signal),
      /returned -1 for busy/,
    );
    await expectFailure(
      (await poll({ query: "SELECT count(*) AS value FROM no_such_table" })).retrieve(signal),
      /relation "no_such_table" does not exist/,
    );
  });

  it("a SELECT that calls a writing function fails read-only, poll after poll, and writes nothing", async () => {
    // It also tries to turn the session's read-only default off for the next poll.
    const i = await poll({
      query: "SELECT sneaky() + length(set_config('default_transaction_read_only', 'off', false)) AS value",
    });
    for (let n = 0; n < 2; n++) {
      const e = await expectFailure(
        i.retrieve(new AbortController().signal),
        /tried to write .* runs read-only: cannot execute INSERT in a read-only transaction/,
      );
      expect(e.hint).toMatch(/READ ONLY/);
    }
    const { rows } = await db.sql.query("SELECT count(*)::int AS n FROM written");
    expect(rows[0].n).toBe(0);
  });

  it("a query that turns the session's read-only default off still cannot write at the next poll", async () => {
    // Poll 1 succeeds and leaves default_transaction_read_only off for the session; poll 2
    // then writes, unless each poll runs in its own READ ONLY transaction.
    const i = await poll({
      query:
        "SELECT CASE WHEN current_setting('default_transaction_read_only') = 'off' THEN sneaky() ELSE length(set_config('default_transaction_read_only', 'off', false)) END AS value",
    });
    expect(await i.retrieve(new AbortController().signal)).toEqual({ value: 3 });
    await expectFailure(i.retrieve(new AbortController().signal), /cannot execute INSERT in a read-only transaction/);
    const { rows } = await db.sql.query("SELECT count(*)::int AS n FROM written");
    expect(rows[0].n).toBe(0);
  });

  it("a query slower than the statement timeout is cancelled by the server", async () => {
    const i = await poll({ query: "SELECT count(*) AS value FROM pg_sleep(10)", timeout: 2 });
    const e = await expectFailure(
      i.retrieve(new AbortController().signal),
      /cancelled .* after the statement timeout \(2 s\): canceling statement due to statement timeout/,
    );
    expect(e.code).toBe("DYNO_PLUGIN_TIMEOUT");
  });
});

describe("only one read-only SELECT is accepted", () => {
  const refused = async (query: string, why: RegExp) => {
    const e = await checkReadOnlyQuery(query).then(
      () => expect.fail(`expected ${query} to be refused`),
      (x: unknown) => x as DynosaurError,
    );
    expect(e).toBeInstanceOf(DynosaurError);
    expect(e.exitCode).toBe(2);
    expect(e.path).toBe("query");
    expect(e.message).toMatch(why);
  };

  it("refuses writes, several statements, locks and what does not parse", async () => {
    await refused("UPDATE jobs SET started_at = now()", /it is UPDATE, not a SELECT/);
    await refused("DELETE FROM jobs", /it is DELETE, not a SELECT/);
    await refused("SELECT 1 AS value; DROP TABLE jobs", /it has 2 statements; one is allowed/);
    await refused(
      "WITH gone AS (DELETE FROM jobs RETURNING 1) SELECT count(*) AS value FROM gone",
      /contains a DELETE/,
    );
    await refused("SELECT count(*) AS value INTO copy FROM jobs", /SELECT INTO/);
    await refused("SELECT id AS value FROM jobs FOR UPDATE SKIP LOCKED", /FOR UPDATE\/SHARE/);
    await refused(
      "SELECT pg_advisory_lock(1) IS NULL, 1 AS value",
      /pg_advisory_lock\(\) \(it takes an advisory lock\)/,
    );
    await refused("SELEC count(*) FROM jobs", /syntax error at or near "SELEC" \(at character 1\)/);
    await refused("  -- nothing\n", /it is empty/);
    await refused("EXPLAIN SELECT 1", /it is EXPLAIN, not a SELECT/);
  });

  it("accepts SELECT, WITH ... SELECT, VALUES and set operations, returning the statement alone", async () => {
    expect(await checkReadOnlyQuery("SELECT 1 AS value;  ")).toBe("SELECT 1 AS value");
    expect(await checkReadOnlyQuery("WITH w AS (SELECT 1 AS n) SELECT n AS value FROM w")).toBe(
      "WITH w AS (SELECT 1 AS n) SELECT n AS value FROM w",
    );
    expect(await checkReadOnlyQuery("SELECT 1 AS value UNION ALL SELECT 2")).toBe(
      "SELECT 1 AS value UNION ALL SELECT 2",
    );
    // A semicolon inside a string or a comment is not a second statement.
    expect(await checkReadOnlyQuery("SELECT length('a;b') AS value /* ; */")).toBe(
      "SELECT length('a;b') AS value /* ; */",
    );
  });
});

testPlugin(
  plugin,
  {
    validOptions: { query: "SELECT count(*) AS value, 0 AS busy FROM pg_class", jobs_per_dyno: 100 },
    invalidOptions: [
      { options: { url: undefined }, path: "url" },
      { options: { query: undefined }, path: "query" },
      { options: { query: "" }, path: "query" },
      { options: { query: "TRUNCATE jobs" }, path: "query" },
      { options: { query: "SELECT 1; SELECT 2" }, path: "query" },
      { options: { queues: ["a"] }, path: "" },
      { options: { jobs_per_dyno: undefined }, path: "jobs_per_dyno" },
    ],
    setup: () => ({ options: { url: db.url } }),
  },
  { describe, it },
);
