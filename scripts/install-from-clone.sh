#!/usr/bin/env bash
# Installs the dynosaur CLI globally from this clone, until the packages are on npm:
#
#   bash scripts/install-from-clone.sh [plugin ...]
#   bash scripts/install-from-clone.sh newrelic google-analytics
#
# A plugin is a first-party short name (random, google-analytics, newrelic) or a workspace
# package name (e.g. dynosaur-plugin-example). The script builds with the repo's pinned
# toolchain, packs core, host, the CLI and the plugins (scripts/pack-packages.sh) and runs
# `npm install -g @dynosaur/cli <plugins>` against a loopback registry that serves those
# tarballs (a global install resolves our packages by name, and they are not on npm yet);
# every other dependency comes from your npm registry.
#
# The install uses the npm and Node.js on your PATH, so `dynosaur` lands in your usual
# global prefix (`npm prefix -g`; npm_config_prefix moves it) and runs on that Node.js,
# which must be 22.19 or newer. Exit codes: 0 installed, 1 a step failed, 2 bad arguments
# or a Node.js too old.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
say() { echo "install-from-clone: $*" >&2; }

# --- your Node.js and npm, before the toolchain goes first on PATH ---------------------------
user_path="$PATH"
node_version="$(node -v 2>/dev/null || echo none)"
IFS=. read -r major minor _ <<<"${node_version#v}"
if ! [[ "$major" =~ ^[0-9]+$ && "$minor" =~ ^[0-9]+$ ]] || [ "$major" -lt 22 ] || { [ "$major" -eq 22 ] && [ "$minor" -lt 19 ]; }; then
  say "dynosaur runs on Node.js 22.19 or newer, and the node on your PATH is $node_version."
  say "Install Node.js 24 (https://nodejs.org, or: nvm install 24) and run this again."
  say "To try Dynosaur without installing it: bash scripts/dynosaur examples/dry-run.yaml (it brings its own Node.js 24)."
  exit 2
fi
command -v npm >/dev/null || { say "npm is not on your PATH (it comes with Node.js)"; exit 2; }

packages=()
for plugin in "$@"; do
  case "$plugin" in
    -h | --help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) say "unknown option $plugin (see --help)"; exit 2 ;;
    @* | dynosaur-plugin-*) packages+=("$plugin") ;;
    *) packages+=("@dynosaur/plugin-$plugin") ;;
  esac
done

# --- build and pack with the pinned toolchain ------------------------------------------------
. "$repo/scripts/setup.sh" || exit 1
work="$(mktemp -d "${TMPDIR:-/tmp}/dynosaur-install.XXXXXX")"
registry_pid=""
cleanup() {
  [ -z "$registry_pid" ] || kill "$registry_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

say "packing @dynosaur/core @dynosaur/host @dynosaur/backtest @dynosaur/cli ${packages[*]}"
if ! bash "$repo/scripts/pack-packages.sh" "$work/tarballs" @dynosaur/core @dynosaur/host @dynosaur/backtest @dynosaur/cli "${packages[@]}" >"$work/packed.tsv" 2>"$work/pack.log"; then
  grep -E '^pack-packages:' "$work/pack.log" >&2 || cat "$work/pack.log" >&2
  # An unknown name is the caller's mistake; anything else is a failure.
  if grep -q 'no workspace package named' "$work/pack.log"; then exit 2; fi
  exit 1
fi
mapfile -t tarballs < <(cut -f2 "$work/packed.tsv")

# --- install from a loopback registry serving the tarballs -----------------------------------
upstream="$(PATH="$user_path" npm config get registry)"
node "$repo/scripts/loopback-registry.mjs" "$upstream" "${tarballs[@]}" >"$work/port" 2>"$work/registry.log" &
registry_pid=$!
for _ in $(seq 1 200); do
  [ -s "$work/port" ] && break
  kill -0 "$registry_pid" 2>/dev/null || break
  sleep 0.05
done
port="$(head -n 1 "$work/port" 2>/dev/null || true)"
[ -n "$port" ] || { say "the loopback registry did not start:"; cat "$work/registry.log" >&2; exit 1; }

say "npm install -g @dynosaur/cli ${packages[*]} (with $(PATH="$user_path" node -v), into $(PATH="$user_path" npm prefix -g))"
PATH="$user_path" npm install -g --registry "http://127.0.0.1:$port/" --no-audit --no-fund --no-update-notifier --loglevel=error @dynosaur/cli "${packages[@]}"
bin="$(PATH="$user_path" npm prefix -g)/bin/dynosaur"
say "installed: $bin ($(PATH="$user_path" "$bin" --version)). Next: dynosaur check your-config.yaml"
