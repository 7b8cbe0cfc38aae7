#!/usr/bin/env bash
# Runs the fault-injection soak (packages/core/test/soak.test.ts) on N random seeds, one after
# the other, and prints each seed's result and, at the end, every failing seed with the
# command that replays it. Exit 1 when any seed failed.
#
#   pnpm soak:seeds            20 seeds
#   pnpm soak:seeds 50         50 seeds
#   pnpm soak:seeds 1793402757 491419864 --seeds    these seeds
#
# DYNOSAUR_SOAK_RUNS (default 25, as `pnpm test:soak`) and DYNOSAUR_SOAK_DAYS pass through.
# A failing seed's full output (shrunk scenario, broken invariant, last events) is kept in
# $TMPDIR/dynosaur-soak-<seed>.log.
set -uo pipefail
cd "$(dirname "$0")/.."

seeds=()
if [ "${*: -1}" = "--seeds" ]; then
  seeds=("${@:1:$#-1}")
else
  n="${1:-20}"
  for _ in $(seq 1 "$n"); do seeds+=("$(node -e 'console.log(Math.floor(Math.random() * 2 ** 31))')"); done
fi

export DYNOSAUR_SOAK_RUNS="${DYNOSAUR_SOAK_RUNS:-25}"
failed=()
i=0
for seed in "${seeds[@]}"; do
  i=$((i + 1))
  log="${TMPDIR:-/tmp}/dynosaur-soak-$seed.log"
  started=$SECONDS
  if DYNOSAUR_SOAK_SEED="$seed" pnpm exec vitest run packages/core/test/soak.test.ts >"$log" 2>&1; then
    echo "[$i/${#seeds[@]}] seed $seed: passed ($((SECONDS - started)) s)"
    rm -f "$log"
  else
    why="$(grep -o 'invariant "[a-z-]*"[^:]*: .*' "$log" | sed 's/\x1b\[[0-9;]*m//g' | head -1 | cut -c1-300)"
    echo "[$i/${#seeds[@]}] seed $seed: FAILED ($((SECONDS - started)) s): ${why:-see $log}"
    failed+=("$seed")
  fi
done

echo "${#seeds[@]} seed(s), $((${#seeds[@]} - ${#failed[@]})) passed, ${#failed[@]} failed"
for seed in "${failed[@]}"; do
  echo "  replay: DYNOSAUR_SOAK_SEED=$seed DYNOSAUR_SOAK_RUNS=$DYNOSAUR_SOAK_RUNS pnpm exec vitest run packages/core/test/soak.test.ts   (log: ${TMPDIR:-/tmp}/dynosaur-soak-$seed.log)"
done
[ "${#failed[@]}" -eq 0 ]
