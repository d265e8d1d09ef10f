#!/usr/bin/env bash
# Sets everything up, builds, and runs every example graph in graphs/examples: checks it, then
# runs it on the CPU reference and writes its outputs under out/<graph>/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh >/dev/null
export RUSTICL_ENABLE=${RUSTICL_ENABLE:-llvmpipe}
porta=build/host/porta
for graph in graphs/examples/*.pg; do
  name=$(basename "$graph" .pg)
  echo "== $name"
  "$porta" check "$graph" | tail -n 1
  "$porta" run "$graph" --device ref --out "out/$name"
done
