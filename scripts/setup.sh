# Source this file: puts the pinned toolchain on PATH, installs the workspace's
# dependencies (frozen lockfile) and builds every package. Each step is skipped
# when already up to date, so sourcing it again is cheap.
. "$(dirname "${BASH_SOURCE[0]}")/toolchain.sh" || return 1 2>/dev/null || exit 1
(
  set -e
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
  if [ ! -f node_modules/.modules.yaml ] || [ pnpm-lock.yaml -nt node_modules/.modules.yaml ]; then
    pnpm install --frozen-lockfile --reporter=append-only >&2
  fi
  pnpm exec turbo run build --output-logs=errors-only >&2
) || { echo "dynosaur: setup failed (see above)" >&2; return 1 2>/dev/null || exit 1; }
