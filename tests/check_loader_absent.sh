#!/bin/sh
# With the OpenCL loader, the Vulkan loader or both hidden or replaced by a broken library,
# `porta devices` says what was tried and why each failed, and `porta run --device ref` still
# works. The loaders are hidden through PORTA_OPENCL_LIBRARY / PORTA_VULKAN_LIBRARY, whose
# ':'-separated lists replace the platform's names; the drivers through the loaders' own variables.
# usage: check_loader_absent.sh PORTA GRAPH
porta=$1
graph=$2
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
printf 'short\n' > "$dir/libbroken.so"
failures=0

# expect NAME OUTPUT PATTERN...: every pattern (a shell glob) must match somewhere in OUTPUT.
expect() {
  name=$1; out=$2; shift 2
  for pattern in "$@"; do
    case "$out" in
    *$pattern*) ;;
    *) echo "FAIL $name: no '$pattern' in:"; echo "$out"; failures=$((failures + 1)); return ;;
    esac
  done
  echo "ok   $name"
}

out=$(PORTA_OPENCL_LIBRARY="$dir/missing.so:$dir/libbroken.so" "$porta" devices 2>&1)
expect "opencl missing then broken" "$out" \
  "absent: opencl: PORTA_OPENCL_LIBRARY: tried $dir/missing.so (not found), $dir/libbroken.so (failed to load: $dir/libbroken.so: "
case "$out" in *"opencl:0"*) echo "FAIL opencl still listed"; failures=$((failures + 1)) ;; esac

out=$(PORTA_VULKAN_LIBRARY="$dir/libbroken.so" "$porta" devices 2>&1)
expect "vulkan broken" "$out" \
  "absent: vulkan: PORTA_VULKAN_LIBRARY: tried $dir/libbroken.so (failed to load: "
case "$out" in *"vulkan:0"*) echo "FAIL vulkan still listed"; failures=$((failures + 1)) ;; esac

# A library that loads but is not the API's (the C library here).
out=$(PORTA_OPENCL_LIBRARY=libc.so.6 PORTA_VULKAN_LIBRARY=libc.so.6 "$porta" devices 2>&1)
expect "not the API's library" "$out" \
  "opencl: PORTA_OPENCL_LIBRARY: tried libc.so.6 (loaded, but lacks clGetPlatformIDs)" \
  "vulkan: PORTA_VULKAN_LIBRARY: tried libc.so.6 (loaded, but lacks vkGetInstanceProcAddr)"

# The loaders are there but have no driver (the platform's library lists, whatever the caller's
# environment named).
out=$(PORTA_OPENCL_LIBRARY= PORTA_VULKAN_LIBRARY= \
      OCL_ICD_VENDORS="$dir" OPENCL_VENDOR_PATH="$dir" VK_DRIVER_FILES="$dir/none.json" \
      VK_ICD_FILENAMES="$dir/none.json" "$porta" devices 2>&1)
expect "loaders without drivers" "$out" "no devices found" \
  "opencl: libOpenCL.so.1 loaded, but it lists no platforms" \
  "vulkan: libvulkan.so.1 loaded, but it found no driver it can use" \
  "VK_ERROR_INCOMPATIBLE_DRIVER"

# Both hidden: nothing is listed, and the reference still runs.
out=$(PORTA_OPENCL_LIBRARY="$dir/libbroken.so" PORTA_VULKAN_LIBRARY="$dir/missing.so" \
      "$porta" devices 2>&1)
expect "both hidden" "$out" "no devices found" "absent: opencl: " "absent: vulkan: "
out=$(PORTA_OPENCL_LIBRARY="$dir/libbroken.so" PORTA_VULKAN_LIBRARY="$dir/missing.so" \
      "$porta" run "$graph" --device ref --out "$dir/out" 2>&1)
rc=$?
if [ $rc -ne 0 ] || [ -z "$(ls "$dir/out")" ]; then
  echo "FAIL run --device ref with both APIs hidden (exit $rc):"; echo "$out"
  failures=$((failures + 1))
else
  echo "ok   run --device ref with both APIs hidden"
fi
[ $failures -eq 0 ]
