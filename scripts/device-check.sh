#!/usr/bin/env bash
# Runs porta's device suites and the dispatch benchmark from an existing build on the devices of
# this machine (a GPU machine, typically), writing one log per step into OUT_DIR. It runs the
# test binaries directly, so the build tree may have been made elsewhere.
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
for suite in runtime_devices runtime_memory runtime_dispatch runtime_cache vulkan; do
  step "$suite" "$build/tests/test_$suite"
done
# The benchmark without the validation layer, which would dominate dispatch times.
step bench env PORTA_VULKAN_VALIDATION=0 "$build/host/porta" bench dispatch --json "$out/bench.json"
cat "$out/bench.log"
exit $failed
