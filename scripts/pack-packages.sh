#!/usr/bin/env bash
# Packs workspace packages as they would be published: `pnpm pack` (which rewrites
# `workspace:` ranges) of each built package into its own directory under <dest>.
#
#   bash scripts/pack-packages.sh <dest> [package-name ...]
#
# Without names: every public package, plus the example third-party plugin (private in the
# workspace, published by its author in real life). Prints "<name><TAB><tarball>" per
# package, and writes each tarball's package.json next to it as <tarball>.json (what
# scripts/loopback-registry.mjs serves). Expects the toolchain on PATH and the packages
# built (scripts/setup.sh does both). Used by scripts/check-packages.sh and
# scripts/install-from-clone.sh.
set -euo pipefail
dest="${1:?usage: bash scripts/pack-packages.sh <dest> [package-name ...]}"
shift
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mkdir -p "$dest"
list="$(mktemp)"
trap 'rm -f "$list" "$list.tsv"' EXIT

pnpm ls -r --depth -1 --json >"$list"
node -e '
  const all = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((name) => !all.some((p) => p.name === name));
  if (unknown.length) {
    console.error(`pack-packages: no workspace package named ${unknown.join(", ")}; there are: ${all.map((p) => p.name).join(", ")}`);
    process.exit(2);
  }
  const picked = wanted.length ? all.filter((p) => wanted.includes(p.name)) : all.filter((p) => !p.private || p.name === "dynosaur-plugin-example");
  for (const p of picked) console.log(`${p.name}\t${p.path}`);
' "$list" "$@" >"$list.tsv"

while IFS=$'\t' read -r name dir; do
  out="$dest/${name//[@\/]/_}"
  rm -rf "$out"
  mkdir -p "$out"
  (cd "$dir" && pnpm pack --pack-destination "$out" >&2) || { echo "pack-packages: pnpm pack failed for $name" >&2; exit 1; }
  tgz="$(ls "$out"/*.tgz)"
  tar -xzOf "$tgz" package/package.json >"$tgz.json"
  printf '%s\t%s\n' "$name" "$tgz"
done <"$list.tsv"
