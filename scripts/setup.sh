#!/usr/bin/env bash
# Installs every Debian package that porta's build, tests and CPU drivers need, when missing.
# Idempotent: packages already present are left alone and nothing is fetched.
set -euo pipefail

packages=(
  build-essential clang libclang-rt-dev meson ninja-build pkg-config python3
  libcmocka-dev libcjson-dev
  ocl-icd-opencl-dev ocl-icd-libopencl1 opencl-headers clinfo
  pocl-opencl-icd mesa-opencl-icd
  libvulkan-dev libvulkan1 vulkan-tools mesa-vulkan-drivers vulkan-validationlayers
  glslc glslang-tools spirv-tools
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "setup: these packages are missing: ${missing[*]}" >&2
  echo "setup: installing them needs root; run this script as root or give this user sudo" >&2
  exit 1
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q
"${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
