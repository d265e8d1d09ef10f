#!/usr/bin/env bash
# Sets everything up, builds, and runs the whole test suite on every device found.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
export RUSTICL_ENABLE=${RUSTICL_ENABLE:-llvmpipe}
status=0
meson test -C build --print-errorlogs --num-processes 2 || status=$?
# One plain summary line, counted from meson's own log.
python3 - build/meson-logs/testlog.json <<'PY'
import json, sys
passed = failed = skipped = 0
for line in open(sys.argv[1]):
    result = json.loads(line)['result']
    if result in ('OK', 'EXPECTEDFAIL'): passed += 1
    elif result == 'SKIP': skipped += 1
    else: failed += 1
print(f'tests: {passed} passed, {failed} failed, {skipped} skipped')
PY
exit $status
