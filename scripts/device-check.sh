#!/usr/bin/env bash
# Runs porta's device suites (runtime, op conformance, programs), every example graph on every
# device with its check, and every `porta bench` suite from an existing build on the devices of this
# machine (a GPU machine, typically), writing one log per step into OUT_DIR. It runs the test
# binaries directly, so the build tree may have been made elsewhere.
#   scripts/device-check.sh BUILD_DIR OUT_DIR
set -uo pipefail
build=${1:?usage: device-check.sh BUILD_DIR OUT_DIR}
out=${2:?usage: device-check.sh BUILD_DIR OUT_DIR}
mkdir -p "$out"
export PORTA_CACHE_DIR=${PORTA_CACHE_DIR:-$out/cache}
export PORTA_VULKAN_VALIDATION=${PORTA_VULKAN_VALIDATION:-1}
failed=0
step() {
  local name=$1; shift
  local start=$SECONDS
  if "$@" >"$out/$name.log" 2>&1; then
    echo "$name: ok ($((SECONDS - start)) s)"
  else
    echo "$name: FAILED ($((SECONDS - start)) s)"; tail -n 25 "$out/$name.log"; failed=1
  fi
}
step devices "$build/host/porta" devices
"$build/host/porta" devices --json >"$out/devices.json" 2>&1
root=$(cd "$(dirname "$0")/.." && pwd)
export PORTA_SOURCE_ROOT=$root
for suite in runtime_devices runtime_memory runtime_dispatch runtime_cache vulkan conformance program; do
  step "$suite" "$build/tests/test_$suite"
done
# Examples on every device, checked; timings without the validation layer.
step compare env PORTA_VULKAN_VALIDATION=0 "$build/host/porta" compare "$root"/graphs/examples/*.pg \
  --repeat 20 --json "$out/compare.json"
cat "$out/compare.log"
step profile env PORTA_VULKAN_VALIDATION=0 "$build/host/porta" run "$root/graphs/examples/encoder_layer.pg" \
  --device vulkan:0 --profile --repeat 20 --quiet
cat "$out/profile.log"
# The benchmark suites without the validation layer, which would dominate dispatch times.
step bench env PORTA_VULKAN_VALIDATION=0 "$build/host/porta" bench --examples "$root/graphs/examples" \
  --json "$out/bench.json"
cat "$out/bench.log"
exit $failed
