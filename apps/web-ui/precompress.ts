import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import type { Plugin } from "vite";

/** Text assets worth compressing: below this size the headers outweigh the saving. */
const TEXT = /\.(js|css|html|svg|json)$/;
const MIN_BYTES = 1024;

/**
 * Writes `name.br` and `name.gz` beside every text asset of the build, at the highest
 * levels (done once per build, not per request). The server sends them to a browser that
 * accepts them (serveStatic's `precompressed` in apps/web/src/http/pages.ts).
 */
export function precompress(): Plugin {
  let outDir = "dist";
  return {
    name: "dynosaur-precompress",
    apply: "build",
    configResolved(config) {
      outDir = config.build.outDir;
    },
    writeBundle() {
      for (const file of walk(join(outDir, "assets"))) {
        if (!TEXT.test(file) || statSync(file).size < MIN_BYTES) continue;
        const body = readFileSync(file);
        writeFileSync(
          `${file}.br`,
          brotliCompressSync(body, {
            params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: body.length },
          }),
        );
        writeFileSync(`${file}.gz`, gzipSync(body, { level: 9 }));
      }
    },
  };
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}
