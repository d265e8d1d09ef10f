#!/usr/bin/env bash
# Sets everything up, builds, lists the OpenCL and Vulkan devices found, checks every example
# graph in graphs/examples and runs it on the CPU reference (outputs under out/<graph>/), then
# runs every example on every device, each checked against the reference, and prints one table
# of devices x graphs with time and error (JSON in out/compare.json).
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
echo "== every example on every device"
mkdir -p out
"$porta" compare graphs/examples/*.pg --json out/compare.json
