/**
 * vitest's globalSetup: stops, when the test run ends, the real servers that tests start on
 * demand and that were not up when the run began. A server that was already up (CI starts
 * PostgreSQL before the tests; an engineer may keep one running) is left as it was.
 *
 * A server script here answers `status` (exit 0 while its server is up, and never installs
 * anything) and `stop`. Adding one is one line in SERVER_SCRIPTS.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const SERVER_SCRIPTS = ["postgres.sh", "redis.sh"];

const run = (script: string, command: "status" | "stop") =>
  spawnSync("bash", [fileURLToPath(new URL(script, import.meta.url)), command], {
    stdio: ["ignore", "ignore", "inherit"],
    timeout: 60_000,
  }).status;

export default function setup(): () => void {
  const upBefore = new Set(SERVER_SCRIPTS.filter((script) => run(script, "status") === 0));
  return () => {
    for (const script of SERVER_SCRIPTS) {
      if (!upBefore.has(script) && run(script, "status") === 0) run(script, "stop");
    }
  };
}
