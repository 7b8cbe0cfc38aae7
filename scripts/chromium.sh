#!/usr/bin/env bash
# Makes sure Debian's Chromium is installed for the browser tests of the pages
# (apps/web-ui/test), and prints its path on the last line of stdout. The tests drive it
# with playwright-core, which never downloads a browser of its own.
#
#   bash scripts/chromium.sh          install (apt-get, as root) if needed, print the path
#
# DYNOSAUR_CHROMIUM names another binary (e.g. a Chrome already on the machine).
set -euo pipefail
say() { echo "chromium.sh: $*" >&2; }

# Test files run in parallel and may all call this at once: one at a time (locking this
# script itself, so no lock file is left anywhere).
exec 9<"${BASH_SOURCE[0]}"
flock 9

bin="${DYNOSAUR_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
if [ -n "${DYNOSAUR_CHROMIUM:-}" ]; then say "DYNOSAUR_CHROMIUM=$bin is not an executable"; exit 1; fi
if [ "$(id -u)" != 0 ]; then
  say "Chromium is not installed and installing it needs root: apt-get install chromium"
  exit 1
fi
say "installing Chromium (apt-get install chromium)..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends chromium >&2
[ -x "$bin" ] || { say "chromium installed but $bin is missing"; exit 1; }
echo "$bin"
