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
# The aarch64 cross build (scripts/cross.sh, docs/cross.md): Debian's cross compiler and its libc,
# qemu-user to run what it builds, and cJSON's arm64 build through multiarch (the Vulkan and
# OpenCL headers are the native ones: the cross compiler searches /usr/include).
# PORTA_CROSS=0 leaves them out, as it skips the cross check in scripts/test.sh.
if [ "${PORTA_CROSS:-1}" != 0 ]; then
  packages+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static libcjson-dev:arm64)
fi

# Installed: a name without an architecture in the native one (or all); NAME:ARCH in ARCH. With a
# foreign architecture added, dpkg-query lists each installed architecture of a plain name.
native=$(dpkg --print-architecture)
installed() {
  local want s1 s2 s3 arch
  case $1 in *:*) want=" ${1#*:} " ;; *) want=" $native all " ;; esac
  while read -r s1 s2 s3 arch; do
    [ "$s1 $s2 $s3" = "install ok installed" ] && [[ $want == *" $arch "* ]] && return 0
  done < <(dpkg-query -W -f='${Status} ${Architecture}\n' "$1" 2>/dev/null || true)
  return 1
}

missing=()
for p in "${packages[@]}"; do
  installed "$p" || missing+=("$p")
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
# an :arm64 package needs the architecture known to dpkg before apt-get update lists it
if [[ " ${missing[*]}" == *:arm64* ]] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
  echo "setup: adding the arm64 architecture (multiarch)"
  "${as_root[@]}" dpkg --add-architecture arm64
fi
"${as_root[@]}" apt-get update -q
"${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
