#!/usr/bin/env bash
# Sets everything up, builds, lists the OpenCL and Vulkan devices found, and runs every example
# graph in graphs/examples: checks it, then runs it on the CPU reference executor and writes its
# outputs under out/<graph>/. (Graphs do not run on devices yet: the kernels and lowering for
# every op are the next stage.)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh >/dev/null
export RUSTICL_ENABLE=${RUSTICL_ENABLE:-llvmpipe}
porta=build/host/porta
echo "== devices"
"$porta" devices | grep -E '^[a-z]+:[0-9]+$|^  name|^(opencl|vulkan):' || true
for graph in graphs/examples/*.pg; do
  name=$(basename "$graph" .pg)
  echo "== $name"
  "$porta" check "$graph" | tail -n 1
  "$porta" run "$graph" --device ref --out "out/$name"
done
