#!/usr/bin/env node
import { main } from "./main.js";

const code = await main({ argv: process.argv.slice(2), env: process.env, cwd: process.cwd(), stdout: process.stdout, stderr: process.stderr, signals: process });
// Exit now: a plugin that left a socket or timer open must not keep a stopped scaler alive.
process.exit(code);
