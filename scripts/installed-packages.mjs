// Describes what `npm install` put in a node_modules directory, for the packaging check
// (scripts/check-packages.sh): which packages are there and how much they weigh.
//
//   node scripts/installed-packages.mjs <dir>/node_modules
//
// Prints one JSON object: { "packages": [...names, sorted, unique], "copies": n, "files": n,
// "bytes": n }. `copies` counts every installed package directory, as npm's "added N
// packages" does: npm nests a second copy when two dependents want different versions.
// `bytes` is the sum of file sizes (what a user downloads and unpacks), not disk blocks,
// so the figure is the same on every filesystem. Plain Node, no dependencies: it runs
// from the repo against an install that lives outside it.
import { lstatSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const root = process.argv[2];
if (!root) {
  console.error("usage: node scripts/installed-packages.mjs <node_modules dir>");
  process.exit(2);
}

const names = new Set();
let copies = 0;
let files = 0;
let bytes = 0;

/** Sums every file under `dir`; symlinks (npm's .bin links) are counted as links, not followed. */
function walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path);
    else {
      files += 1;
      bytes += lstatSync(path).size;
    }
  }
}

/** Every package in a node_modules directory, nested node_modules included. */
function collect(nodeModules) {
  let entries;
  try {
    entries = readdirSync(nodeModules, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.startsWith(".")) continue;
    const dir = join(nodeModules, entry.name);
    if (entry.name.startsWith("@")) {
      for (const scoped of readdirSync(dir, { withFileTypes: true })) {
        if (scoped.isDirectory()) addPackage(join(dir, scoped.name));
      }
    } else addPackage(dir);
  }
}

function addPackage(dir) {
  try {
    const { name } = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    if (typeof name === "string") {
      names.add(name);
      copies += 1;
    }
  } catch {
    // A directory without a readable package.json is not a package; its files still count.
  }
  collect(join(dir, "node_modules"));
}

collect(root);
walk(root);
process.stdout.write(`${JSON.stringify({ packages: [...names].sort(), copies, files, bytes })}\n`);
