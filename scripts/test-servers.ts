/**
 * vitest's globalSetup: gives the test run a folder of its own in the temp folder, for the
 * throwaway servers' data (PostgreSQL, Redis), their lock files and the pages' screenshots, and
 * removes it when the run ends, so a run leaves nothing behind. DYNOSAUR_PG_DIR and
 * DYNOSAUR_REDIS_DIR, when set, keep their servers where they say (and those are kept).
 *
 * It also stops, when the run ends, the real servers that tests start on demand and that were
 * not up when the run began. A server that was already up (CI starts PostgreSQL before the
 * tests; an engineer may keep one running) is left as it was.
 *
 * A server script here answers `status` (exit 0 while its server is up, and never installs
 * anything) and `stop`. Adding one is one line in SERVER_SCRIPTS.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const SERVER_SCRIPTS = ["postgres.sh", "redis.sh"];

const run = (script: string, command: "status" | "stop") =>
  spawnSync("bash", [fileURLToPath(new URL(script, import.meta.url)), command], {
    stdio: ["ignore", "ignore", "inherit"],
    timeout: 60_000,
  }).status;

export default function setup(): () => void {
  const folder = mkdtempSync(join(tmpdir(), "dynosaur-test-run-"));
  // PostgreSQL runs as its own user when the tests run as root: it must reach its data dir.
  chmodSync(folder, 0o755);
  // Test files (vitest's workers) and the scripts they start inherit these.
  process.env.DYNOSAUR_TEST_TMP = folder;
  process.env.DYNOSAUR_PG_DIR ||= join(folder, "postgres");
  process.env.DYNOSAUR_REDIS_DIR ||= join(folder, "redis");
  const upBefore = new Set(SERVER_SCRIPTS.filter((script) => run(script, "status") === 0));
  return () => {
    for (const script of SERVER_SCRIPTS) {
      if (!upBefore.has(script) && run(script, "status") === 0) run(script, "stop");
    }
    rmSync(folder, { recursive: true, force: true });
  };
}
