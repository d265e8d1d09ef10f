#!/usr/bin/env bash
# Configures (once) and builds porta into build/. Warnings are errors.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f build/build.ninja ]; then
  meson setup --reconfigure build -Dwerror=true >/dev/null
else
  meson setup build -Dwerror=true --buildtype=debugoptimized
fi
meson compile -C build
