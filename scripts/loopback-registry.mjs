// A stand-in for the npm registry, for the packaging check (scripts/check-packages.sh):
// it serves our packed tarballs under their package names, so the README's own commands
// (`npm install -g @dynosaur/cli @dynosaur/plugin-newrelic`) can run before anything is
// published, and redirects every other request to the real registry.
//
//   node scripts/loopback-registry.mjs <upstream registry URL> <tarball>...
//
// Each <tarball> needs its package.json next to it as <tarball>.json (the check extracts
// it with tar). Listens on 127.0.0.1 on a free port and prints the port on stdout.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { basename } from "node:path";

const [upstreamArg, ...tarballs] = process.argv.slice(2);
if (!upstreamArg || tarballs.length === 0) {
  console.error("usage: node scripts/loopback-registry.mjs <upstream registry URL> <tarball>...");
  process.exit(2);
}
const upstream = upstreamArg.replace(/\/+$/, "");

/** Package name → its one version, as npm's packument document describes it. */
const packages = new Map();
/** Tarball file name → its bytes. */
const files = new Map();
for (const path of tarballs) {
  const manifest = JSON.parse(readFileSync(`${path}.json`, "utf8"));
  const bytes = readFileSync(path);
  const file = basename(path);
  files.set(file, bytes);
  packages.set(manifest.name, { manifest, file, bytes });
}

function packument({ manifest, file, bytes }, origin) {
  const version = {
    ...manifest,
    _id: `${manifest.name}@${manifest.version}`,
    dist: {
      tarball: `${origin}/-/tarballs/${file}`,
      integrity: `sha512-${createHash("sha512").update(bytes).digest("base64")}`,
      shasum: createHash("sha1").update(bytes).digest("hex"),
    },
  };
  return { name: manifest.name, "dist-tags": { latest: manifest.version }, versions: { [manifest.version]: version } };
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  const path = decodeURIComponent(url.pathname);
  if (req.method === "GET" && path.startsWith("/-/tarballs/")) {
    const bytes = files.get(path.slice("/-/tarballs/".length));
    if (bytes) {
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": bytes.length });
      res.end(bytes);
      return;
    }
  }
  const ours = req.method === "GET" ? packages.get(path.slice(1)) : undefined;
  if (ours) {
    const { port } = server.address();
    const body = JSON.stringify(packument(ours, `http://127.0.0.1:${port}`));
    res.writeHead(200, { "content-type": "application/json" });
    res.end(body);
    return;
  }
  // npm follows redirects, for documents and tarballs alike: everything else is the real registry's.
  res.writeHead(302, { location: `${upstream}${req.url}` });
  res.end();
});
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
// Never outlive a check that was killed before it could stop this server. (unref: the
// timer alone keeps nothing alive, but it still fires while the server is up.)
setTimeout(() => process.exit(0), 600_000).unref();
