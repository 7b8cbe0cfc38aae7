import { EventEmitter } from "node:events";
import { createServer, type Server } from "node:net";
import { describe, expect, it } from "vitest";
import { main } from "../src/main.js";
import { onCleanup, tempDir } from "./helpers.js";

/** Runs `dynosaur-web` in this process; a server that did start is stopped again. */
async function run(argv: string[], env: Record<string, string> = {}) {
  let stdout = "";
  let stderr = "";
  const signals = new EventEmitter();
  const code = main({
    argv,
    cwd: tempDir(),
    env,
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    signals: signals as unknown as { once(event: "SIGTERM" | "SIGINT", listener: () => void): unknown },
  });
  onCleanup(async () => {
    signals.emit("SIGTERM");
    await code;
  });
  return { code: await code, stdout, stderr };
}

/** A port another process listens on. */
async function portInUse(): Promise<number> {
  const blocker: Server = createServer();
  await new Promise<void>((done) => blocker.listen(0, "127.0.0.1", done));
  onCleanup(() => new Promise<void>((done) => blocker.close(() => done())));
  const address = blocker.address();
  if (!address || typeof address !== "object") throw new Error("no port");
  return address.port;
}

describe("start-up failures are input errors that name the setting", () => {
  it("a port in use (--port): exit 2, names --port and says what to do", async () => {
    const port = await portInUse();
    const r = await run(["--port", String(port), "--host", "127.0.0.1"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error DYNO_PORT_IN_USE: port ${port} (--port) is in use by another process`);
    expect(r.stderr).toMatch(/hint: stop the other process .*choose a free port: --port \d+ \(or PORT=\d+\)/);
    expect(r.stderr).not.toMatch(/unexpected failure/);
  });

  it("a port in use ($PORT): names PORT", async () => {
    const port = await portInUse();
    const r = await run(["--host", "127.0.0.1"], { PORT: String(port) });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`port ${port} (PORT) is in use`);
  });

  it("an unreachable DATABASE_URL: exit 2, the URL without its password, what to do", async () => {
    const r = await run(["--port", "0"], { DATABASE_URL: "postgres://shop:sekret-pw@127.0.0.1:9/shop" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "error DYNO_DATABASE_UNREACHABLE: DATABASE_URL (postgres://shop:***@127.0.0.1:9/shop): nothing answers at that host and port (connection refused)",
    );
    expect(r.stderr).toMatch(/hint: start PostgreSQL there, or correct the host and port in the URL; or unset/);
    expect(r.stderr + r.stdout).not.toContain("sekret-pw");
  });

  it("a DATABASE_URL whose host does not resolve says so", async () => {
    const r = await run(["--port", "0"], { DATABASE_URL: "postgres://shop:sekret-pw@no-such-host.invalid/shop" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("(postgres://shop:***@no-such-host.invalid/shop): its host name does not resolve");
    expect(r.stderr).not.toContain("sekret-pw");
  });

  it("a mysql:// DATABASE_URL is refused before any connection is tried", async () => {
    const r = await run(["--port", "0"], { DATABASE_URL: "mysql://shop:sekret-pw@127.0.0.1:3306/shop" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "error DYNO_DATABASE_URL_INVALID: DATABASE_URL (mysql://shop:***@127.0.0.1:3306/shop) is a mysql:// URL",
    );
    expect(r.stderr).toMatch(/hint: set DATABASE_URL to a PostgreSQL URL/);
    expect(r.stderr).not.toContain("sekret-pw");
  });

  it("a DATABASE_URL that is not a URL, for import and export too", async () => {
    for (const argv of [
      ["--port", "0"],
      ["export", "shop"],
    ]) {
      const r = await run(argv, { DATABASE_URL: "sekret-pw@base" });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("error DYNO_DATABASE_URL_INVALID: DATABASE_URL is not a URL");
      expect(r.stderr).not.toContain("sekret-pw");
    }
  });
});
