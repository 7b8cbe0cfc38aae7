import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against each package's source, so a change is tested without a rebuild.
    // Tests that spawn the CLI use the built dist (scripts/test builds first).
    alias: [
      { find: /^@dynosaur\/core$/, replacement: src("./packages/core/src/index.ts") },
      { find: /^@dynosaur\/core\/testing$/, replacement: src("./packages/core/src/testing/index.ts") },
      { find: /^@dynosaur\/host$/, replacement: src("./packages/host/src/index.ts") },
      { find: /^@dynosaur\/host\/(runtime|plugins)$/, replacement: src("./packages/host/src/$1.ts") },
      { find: /^@dynosaur\/backtest$/, replacement: src("./packages/backtest/src/index.ts") },
    ],
  },
  test: {
    include: [
      "packages/*/test/**/*.test.ts",
      "packages/*/src/**/*.test.ts",
      "apps/*/test/**/*.test.ts",
      "examples/*/test/**/*.test.ts",
    ],
    // Stops the PostgreSQL (and any other test server) the run started.
    globalSetup: ["./scripts/test-servers.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
