#!/usr/bin/env bash
# Sets everything up, builds, and runs the whole test suite on every device found; then the
# sanitizer build (build-sanitize: the library, the CLI and the tests with AddressSanitizer and
# UndefinedBehaviorSanitizer) runs the unit and conformance suites on one device; a
# ThreadSanitizer build (build-tsan) the asynchronous-run suite; last, the aarch64 cross build
# runs every example under qemu-user against the native build (scripts/cross.sh). The time each
# part takes is in docs/conformance.md ("The suite's time"). PORTA_SANITIZE=0, PORTA_TSAN=0 and
# PORTA_CROSS=0 skip those three.
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
  sanitized() {
    OCL_ICD_VENDORS=${pocl:-/nonexistent} PORTA_VULKAN_LIBRARY=none \
      meson test -C $san --setup sanitize --print-errorlogs --num-processes 2 "$@"
  }
  log=$san/meson-logs/testlog-sanitize.json
  if ! sanitized --no-suite unsanitized; then
    # LeakSanitizer's own stop-the-world tracer now and then crashes at a process's exit while
    # the driver's threads wind down ("Tracer caught signal", no leak report): a known
    # intermittent fault of the sanitizer runtime. A test that failed only that way runs once
    # more; any other failure stands.
    retry=$(python3 - "$log" <<'PY'
import json, sys
tests = [json.loads(line) for line in open(sys.argv[1])]
failed = [t for t in tests if t['result'] not in ('OK', 'EXPECTEDFAIL', 'SKIP')]
tracer = [t for t in failed if 'Tracer caught signal' in t.get('stderr', '') + t.get('stdout', '')]
if failed and len(tracer) == len(failed):
    print(' '.join(t['name'].split(' / ')[-1] for t in tracer))
PY
)
    cp "$log" "$san/meson-logs/testlog-sanitize-first.json"
    if [ -n "$retry" ]; then
      echo "rerunning after LeakSanitizer's tracer crashed: $retry"
      # shellcheck disable=SC2086
      sanitized $retry || status=1
      # the first run's results, with the rerun's in place of the crashed ones
      python3 - "$san/meson-logs/testlog-sanitize-first.json" "$log" <<'PY'
import json, sys
first = [json.loads(line) for line in open(sys.argv[1])]
rerun = {json.loads(line)['name']: line for line in open(sys.argv[2])}
with open(sys.argv[2], 'w') as out:
    for t in first:
        out.write(rerun.get(t['name'], json.dumps(t) + '\n').rstrip('\n') + '\n')
PY
    else
      status=1
    fi
  fi
  logs+=($log)
fi

# ThreadSanitizer on the asynchronous-run suite (threads with contexts of their own, programs in
# flight) and the consumer built in the tree, every device; only those two and what they link
# are built. PORTA_TSAN=0 skips it.
if [ "${PORTA_TSAN:-1}" != 0 ]; then
  tsan=build-tsan
  if [ -f $tsan/build.ninja ]; then
    meson setup --reconfigure $tsan -Dwerror=true >/dev/null
  else
    meson setup $tsan -Dwerror=true --buildtype=debugoptimized -Db_sanitize=thread \
      -Db_lundef=false >/dev/null
  fi
  meson compile -C $tsan tests/test_async tests/consumer_in_tree >/dev/null
  meson test -C $tsan --no-rebuild --setup tsan --print-errorlogs async consumer-in-tree ||
    status=1
  logs+=($tsan/meson-logs/testlog-tsan.json)
fi

# aarch64: porta check and the reference's outputs, bit for bit against the native build's
if [ "${PORTA_CROSS:-1}" != 0 ]; then
  scripts/cross.sh || status=1
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
