#!/usr/bin/env node
const [major] = process.versions.node.split(".").map(Number);
if ((major ?? 0) < 24) {
  // node:sqlite (the embedded database) needs Node.js 24.
  process.stderr.write(
    `error DYNO_NODE_VERSION: dynosaur-web needs Node.js 24 or newer; this is ${process.version}\n  hint: install Node.js 24 (https://nodejs.org), or run scripts/dynosaur-web from the repository\n`,
  );
  process.exit(1);
}
const { enableCompileCache } = await import("node:module");
enableCompileCache?.();
// Before main's imports: the drains import @dynosaur/plugin-heroku-router, whose core is a
// peer that a production install (Heroku's prune) leaves out; the server's core stands in.
const { shareCore } = await import("@dynosaur/host/plugins");
shareCore();
const { main } = await import("./main.js");
const code = await main({
  argv: process.argv.slice(2),
  env: process.env,
  cwd: process.cwd(),
  stdout: process.stdout,
  stderr: process.stderr,
  signals: process,
});
// Exit now: a plugin that left a socket or timer open must not keep a stopped server alive.
process.exit(code);
