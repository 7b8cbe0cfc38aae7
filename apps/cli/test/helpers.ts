import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { main } from "../src/main.js";

export const BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));

/** A fresh directory with these files (relative path → text). */
export function tempDir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "dynosaur-cli-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** Runs the CLI in-process and collects what it prints. */
export async function runCli(argv: string[], options: { cwd?: string; env?: Record<string, string | undefined> } = {}) {
  let stdout = "";
  let stderr = "";
  const code = await main({
    argv,
    cwd: options.cwd ?? process.cwd(),
    env: options.env ?? {},
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
  });
  return { code, stdout, stderr };
}

/** Spawns the built CLI with the current Node.js, as a user would run it. */
export function spawnCli(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: { PATH: process.env.PATH ?? "", ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    // "close" comes after the process exited and its output streams ended.
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  /** Resolves when the output so far matches `pattern`. */
  const waitFor = (pattern: RegExp) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (pattern.test(stdout)) {
          child.stdout.off("data", check);
          resolve();
        }
      };
      child.stdout.on("data", check);
      child.on("exit", () => reject(new Error(`exited before printing ${pattern}: ${stdout}\n${stderr}`)));
      check();
    });
  return { child, exited, waitFor, output: () => stdout };
}
