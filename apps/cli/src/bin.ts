#!/usr/bin/env node
import { nodeVersionProblem } from "./node-version.js";

const problem = nodeVersionProblem(process.version);
if (problem) {
  process.stderr.write(`error ${problem}\n`);
  // A Node.js too old is a bad environment, like a bad config: exit 2, not a failure (1).
  process.exit(2);
}
const { enableCompileCache } = await import("node:module");
// Cache compiled code on disk: later starts skip most of the parsing of the CLI and its
// dependencies, which is most of the start-up time.
enableCompileCache?.();
const { main } = await import("./main.js");

const code = await main({
  argv: process.argv.slice(2),
  env: process.env,
  cwd: process.cwd(),
  stdout: process.stdout,
  stderr: process.stderr,
  signals: process,
});
// Exit now: a plugin that left a socket or timer open must not keep a stopped scaler alive.
process.exit(code);
