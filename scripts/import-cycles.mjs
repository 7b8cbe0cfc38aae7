// Finds import circles between the source files of the workspace (relative imports, type-only
// ones included: a circle of types is still a circle to read). Exits 1 and prints each circle
// when there is one.
//
//   node scripts/import-cycles.mjs [dir ...]   (default: packages/*/src apps/*/src)
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const root = resolve(dirname(new URL(import.meta.url).pathname), "..");
const dirs = process.argv.length > 2 ? process.argv.slice(2) : defaultDirs();

function defaultDirs() {
  return ["packages", "apps"].flatMap((group) =>
    readdirSync(join(root, group)).map((name) => join(root, group, name, "src")),
  );
}

const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name === "node_modules" || name === "dist") continue;
    if (statSync(path).isDirectory()) walk(path);
    else if (/\.tsx?$/.test(name) && !name.endsWith(".d.ts")) files.push(resolve(path));
  }
};
for (const dir of dirs) if (existsSync(dir)) walk(dir);

/** The file a relative specifier names: `./x.js` is `./x.ts` (or `.tsx`, or `./x/index.ts`). */
function target(from, spec) {
  const base = resolve(dirname(from), spec);
  const ts = base.replace(/\.js$/, ".ts");
  for (const candidate of [ts, ts.replace(/\.ts$/, ".tsx"), join(base, "index.ts")])
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  return null;
}

const imports = new Map();
for (const file of files) {
  const text = readFileSync(file, "utf8");
  const specs = [
    ...text.matchAll(/(?:import|export)[^"';]*?from\s+["'](\.[^"']+)["']|import\(\s*["'](\.[^"']+)["']\s*\)/g),
  ];
  imports.set(
    file,
    specs.map((m) => target(file, m[1] ?? m[2])).filter((t) => t !== null),
  );
}

// Depth-first search: an import of a file still on the stack closes a circle.
const state = new Map();
const stack = [];
const circles = [];
const visit = (file) => {
  state.set(file, "open");
  stack.push(file);
  for (const next of imports.get(file) ?? []) {
    if (state.get(next) === "open") circles.push([...stack.slice(stack.indexOf(next)), next]);
    else if (!state.has(next)) visit(next);
  }
  stack.pop();
  state.set(file, "done");
};
for (const file of files) if (!state.has(file)) visit(file);

for (const circle of circles) console.log(`circle: ${circle.map((f) => relative(root, f)).join(" → ")}`);
console.log(`${files.length} files, ${circles.length} import circle(s)`);
process.exit(circles.length > 0 ? 1 : 0);
