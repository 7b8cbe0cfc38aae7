// Bundles the `dynosaur` bin and the library entry (run after tsc, which emits only the types).
//
// Why: a start of `dynosaur` loaded ~230 ES modules (core, zod, yaml and the CLI's own), and
// finding and reading them, more than running them, was most of the start-up time. Bundled,
// `dynosaur run` reads a handful of files. What comes out, in dist/:
//  - bin.js, the entry; each command is a chunk of its own, loaded when it runs.
//  - bundle-core.js: @dynosaur/core with zod and yaml. Plugins and reporters import
//    `@dynosaur/core`; the CLI redirects that to this file (src/core-url.ts), so they share the
//    CLI's core (one DynosaurError class, one zod) and nothing loads core twice.
// Not bundled: undici and pg (loaded when HTTP or the leader lock is first needed; the CLI
// depends on them so they resolve from here) and the plugins (separate packages, found at
// run time from the config's `use:`).
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { build } from "esbuild";

const dist = new URL("./dist/", import.meta.url);
// Chunk names carry a hash: those of an earlier build must not pile up.
for (const name of readdirSync(dist))
  if (name === "bin.js" || name === "index.js" || name.startsWith("bundle-"))
    rmSync(new URL(name, dist), { force: true });

await build({
  absWorkingDir: new URL(".", import.meta.url).pathname,
  // The library entry (index.js, `main`) is a bundle entry too: it shares the bin's chunks
  // rather than shipping a second, unbundled copy of every module.
  entryPoints: { bin: "src/bin.ts", index: "src/index.ts", "bundle-core": "@dynosaur/core" },
  // Packages resolve as Node resolves them (their built dist), not through the dev `paths`.
  tsconfig: "tsconfig.build.json",
  // Chunks sit next to the entry: `../package.json` from any of them is the CLI's own.
  outdir: "dist",
  chunkNames: "bundle-[name]-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node22",
  // Less to read and to check against the compile cache; names are kept for stack traces.
  minifyWhitespace: true,
  minifySyntax: true,
  external: ["undici", "pg"],
  // yaml's Node build is CommonJS and requires Node's built-ins: give the chunks a `require`.
  banner: {
    js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);',
  },
  logLevel: "warning",
  plugins: [
    {
      name: "bundled-core-url",
      setup(b) {
        // The bin's core is bundle-core.js, not the @dynosaur/core package next to the CLI.
        b.onLoad({ filter: /[\\/]src[\\/]core-url\.ts$/ }, () => ({
          contents: 'export const CORE_URL = new URL("./bundle-core.js", import.meta.url).href;',
          loader: "js",
        }));
      },
    },
    {
      name: "zod-locales-on-demand",
      setup(b) {
        // zod's 60 translations of its messages are a third of the bundle, and Dynosaur speaks
        // English. `z.locales` keeps every name; a locale other than `en` comes from the
        // installed zod package when it is first called.
        b.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, ({ path }) => {
          const names = [...readFileSync(path, "utf8").matchAll(/export \{ default as (\w+) \}/g)].map((m) => m[1]);
          if (!names.includes("en")) throw new Error(`zod's locales index changed: no \`en\` in ${path}`);
          return {
            contents: [
              'export { default as en } from "./en.js";',
              'import { createRequire } from "node:module";',
              'const fromPackage = (name) => (...args) => createRequire(import.meta.url)("zod/v4/locales")[name](...args);',
              ...names.filter((n) => n !== "en").map((n) => `export const ${n} = fromPackage(${JSON.stringify(n)});`),
            ].join("\n"),
            loader: "js",
            resolveDir: path.replace(/[\\/][^\\/]*$/, ""),
          };
        });
      },
    },
  ],
});
