# Source this file: puts the pinned toolchain on PATH, installs the workspace's
# dependencies (frozen lockfile) and builds every package. Each step is skipped
# when already up to date, so sourcing it again is cheap. A step's output is shown
# only when it fails (or on the first install, which takes a while).
. "$(dirname "${BASH_SOURCE[0]}")/toolchain.sh" || return 1 2>/dev/null || exit 1
export TURBO_TELEMETRY_DISABLED=1
(
  set -e
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
  log="$(mktemp)"
  trap 'rm -f "$log"' EXIT
  if [ ! -f node_modules/.modules.yaml ] || [ pnpm-lock.yaml -nt node_modules/.modules.yaml ]; then
    echo "dynosaur: installing dependencies (pnpm install --frozen-lockfile)..." >&2
    pnpm install --frozen-lockfile --reporter=append-only >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
    touch node_modules/.modules.yaml
  fi
  pnpm exec turbo run build --output-logs=errors-only >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
) || { echo "dynosaur: setup failed (see above)" >&2; return 1 2>/dev/null || exit 1; }
