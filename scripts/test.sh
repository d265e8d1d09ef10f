#!/usr/bin/env bash
# Sets everything up, builds, and runs the whole test suite on every device found; then the
# sanitizer build (build-sanitize: the library, the CLI and the tests with AddressSanitizer and
# UndefinedBehaviorSanitizer) runs the unit and conformance suites on one device. The time each
# part takes is in docs/conformance.md ("The suite's time"). PORTA_SANITIZE=0 skips the second.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
export RUSTICL_ENABLE=${RUSTICL_ENABLE:-llvmpipe}
status=0
meson test -C build --print-errorlogs --num-processes 2 || status=$?
logs=(build/meson-logs/testlog.json)

if [ "${PORTA_SANITIZE:-1}" != 0 ]; then
  san=build-sanitize
  if [ -f $san/build.ninja ]; then
    meson setup --reconfigure $san -Dwerror=true >/dev/null
  else
    meson setup $san -Dwerror=true --buildtype=debugoptimized \
      -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
  fi
  meson compile -C $san >/dev/null
  # One device keeps it in time: PoCL, whose ICD alone is listed (OCL_ICD_VENDORS), Vulkan hidden
  # (PORTA_VULKAN_LIBRARY names no library). Without PoCL only the reference is checked.
  pocl=$(ls /etc/OpenCL/vendors/pocl*.icd 2>/dev/null | head -n 1 || true)
  OCL_ICD_VENDORS=${pocl:-/nonexistent} PORTA_VULKAN_LIBRARY=none \
    meson test -C $san --setup sanitize --no-suite unsanitized --print-errorlogs \
      --num-processes 2 || status=$?
  logs+=($san/meson-logs/testlog-sanitize.json)
fi

# One plain summary line, counted from meson's own logs.
python3 - "${logs[@]}" <<'PY'
import json, sys
passed = failed = skipped = 0
for log in sys.argv[1:]:
    for line in open(log):
        result = json.loads(line)['result']
        if result in ('OK', 'EXPECTEDFAIL'): passed += 1
        elif result == 'SKIP': skipped += 1
        else: failed += 1
print(f'tests: {passed} passed, {failed} failed, {skipped} skipped')
PY
exit $status
