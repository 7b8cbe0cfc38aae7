import { defineConfig } from "vite";
import { precompress } from "./precompress.js";

// The form library (@rjsf) is written for React; preact/compat stands in for it at a
// tenth of react-dom's weight. JSX compiles to Preact's automatic runtime.
const react = [
  { find: /^react-dom\/client$/, replacement: "preact/compat/client" },
  { find: /^react\/jsx-(dev-)?runtime$/, replacement: "preact/jsx-runtime" },
  { find: /^react(-dom)?$/, replacement: "preact/compat" },
];

export default defineConfig({
  resolve: { alias: react },
  // Brotli and gzip copies of the assets, made once at build time.
  plugins: [precompress()],
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: { outDir: "dist", assetsDir: "assets", sourcemap: false, reportCompressedSize: true },
  // `pnpm dev` beside a running dynosaur-web: the pages call the API on the same origin.
  server: { proxy: { "/api": "http://127.0.0.1:3000" } },
});
