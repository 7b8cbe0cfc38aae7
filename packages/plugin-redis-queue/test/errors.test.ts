import { createServer } from "node:net";
import type { PluginDefinition } from "@dynosaur/core";
import { describe, expect, it } from "vitest";
import { bullmq, celery, rq, sidekiq } from "../src/index.js";
import { expectFailure, expectNoSecret, instance, read, readOnlyUser, startSilentServer, useRedis } from "./helpers.js";

/*
 * What every type does when Redis is wrong: a closed port, an unknown host, a wrong password
 * (a real ACL user of the test server), a server that accepts and never answers. The password
 * must never reach a message, a hint or a log line.
 */
const redis = useRedis(6);
const PASSWORD = "s3cret-Pa55word-7c1e";

const cases: [string, PluginDefinition, Record<string, unknown>][] = [
  ["sidekiq", sidekiq, { jobs_per_dyno: 5 }],
  ["bullmq", bullmq, { jobs_per_dyno: 5 }],
  ["rq", rq, { jobs_per_dyno: 5 }],
  ["celery", celery, { jobs_per_dyno: 5 }],
];

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const address = server.address();
  await new Promise<void>((done) => server.close(() => done()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

describe.each(cases)("%s: Redis errors", (type, plugin, base) => {
  const user = `dyno-${type}`;

  it("reads through an ACL user allowed only read and connection commands", async () => {
    const url = await readOnlyUser(redis, user, PASSWORD);
    const made = await instance(plugin, { ...base, url });
    expect((await read(made)).value).toBe(0);
  });

  it("a wrong password fails with WRONGPASS and a hint, never the password", async () => {
    await readOnlyUser(redis, user, PASSWORD);
    const wrong = new URL(redis.url);
    wrong.username = user;
    wrong.password = `${PASSWORD}-wrong`;
    const made = await instance(plugin, { ...base, url: wrong.toString() });
    const e = await expectFailure(
      made.instance.retrieve(new AbortController().signal),
      /refused the credentials: WRONGPASS/,
      [PASSWORD],
    );
    expect(e.hint).toMatch(/password in url/);
    expect(e.message).toMatch(/^Redis at redis:\/\/127\.0\.0\.1:\d+\/6 /);
    expectNoSecret([made.ctx.logger.text()], [PASSWORD]);
  });

  it("a closed port fails with connection refused; the next read tries again", async () => {
    const url = `redis://:${PASSWORD}@127.0.0.1:${await closedPort()}/0`;
    const made = await instance(plugin, { ...base, url });
    await expectFailure(
      made.instance.retrieve(new AbortController().signal),
      /could not connect to Redis at redis:\/\/127\.0\.0\.1:\d+\/0: connection refused/,
      [PASSWORD],
    );
    await expectFailure(made.instance.retrieve(new AbortController().signal), /connection refused/, [PASSWORD]);
  });

  it("an unknown host fails naming the host", async () => {
    const made = await instance(plugin, { ...base, url: `rediss://:${PASSWORD}@no-such-host.invalid:6380` });
    await expectFailure(made.instance.retrieve(new AbortController().signal), /unknown host no-such-host\.invalid/, [
      PASSWORD,
    ]);
  });

  it("a server that never answers: the read ends when its signal aborts, as a timeout", async () => {
    const silent = await startSilentServer();
    try {
      const made = await instance(plugin, { ...base, url: silent.url });
      const controller = new AbortController();
      const pending = made.instance.retrieve(controller.signal);
      controller.abort();
      const e = await expectFailure(pending, /did not answer before the poll was cancelled/, ["hung-password-9f3a"]);
      expect(e.code).toBe("DYNO_PLUGIN_TIMEOUT");
      // The connection was dropped, so a later read starts afresh (and times out again).
      const again = new AbortController();
      const second = made.instance.retrieve(again.signal);
      again.abort();
      await expectFailure(second, /did not answer/, ["hung-password-9f3a"]);
      await made.close();
      await made.close();
    } finally {
      await silent.close();
    }
  });
});
