#!/bin/sh
# porta as an application gets it: installed (meson install --destdir into a temporary
# directory, the build's own prefix below it), then tests/consumer/consumer.c built against the
# installed files through pkg-config and through the CMake package, each build run on every
# device (and once with no device API at all). Also checks the installed library's names
# (libporta.so.VERSION, .so.MAJOR, .so), that porta.pc requires only packages the library links,
# and the CMake package's version rule (SameMajorVersion).
# usage: check_consumer.sh BUILD_DIR CONSUMER_DIR PREFIX LIBDIR VERSION B_SANITIZE CC...
# (CC...: the build's C compiler command.) Exit 77 (skipped) after the pkg-config half when cmake
# is not installed.
build=$1
consumer=$2
prefix=$3
libdir=$4
version=$5
sanitize=$6
shift 6
cc=$*
major=${version%%.*}

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
die() { echo "consumer: $*"; exit 1; }

# A sanitized library needs its runtime in the program too.
flags=""
[ "$sanitize" != none ] && flags="-fsanitize=$sanitize"

meson install -C "$build" --no-rebuild --quiet --destdir "$tmp/root" >"$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log"; die "meson install failed"; }
root=$tmp/root$prefix
case "$libdir" in
/*) lib=$tmp/root$libdir ;;
*) lib=$root/$libdir ;;
esac

# The soname's chain: the file, the soname programs record, the name the linker looks for.
[ -f "$lib/libporta.so.$version" ] && [ ! -L "$lib/libporta.so.$version" ] ||
  die "no file $lib/libporta.so.$version"
[ "$(readlink "$lib/libporta.so.$major")" = "libporta.so.$version" ] ||
  die "libporta.so.$major is not a link to libporta.so.$version"
[ "$(readlink "$lib/libporta.so")" = "libporta.so.$major" ] ||
  die "libporta.so is not a link to libporta.so.$major"

# Every package porta.pc requires must be one the library links: a Requires.private on an API
# porta only opens at run time (vulkan, OpenCL) would make a static link pull in that library.
export PKG_CONFIG_PATH="$lib/pkgconfig"
needed=$(readelf -d "$lib/libporta.so.$version" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p')
reqs=$(pkg-config --print-requires --print-requires-private porta) ||
  die "pkg-config cannot read porta.pc"
for req in $(echo "$reqs" | awk '{print $1}'); do
  for l in $(pkg-config --libs-only-l "$req"); do
    echo "$needed" | grep -q "^lib${l#-l}\.so" ||
      die "porta.pc requires $req ($l), which libporta.so.$version does not link"
  done
done
static=$(pkg-config --static --libs porta) || die "pkg-config --static --libs porta failed"
case " $static " in
*" -lvulkan "* | *" -lOpenCL "*) die "pkg-config --static --libs porta names $static" ;;
esac

# Runs a consumer build on every device, then with neither API loadable (parse and validation
# only), from the installed library alone.
check_run() {
  readelf -d "$1" | grep -q "(NEEDED).*\[libporta\.so\.$major\]" ||
    die "$1 does not record libporta.so.$major"
  LD_LIBRARY_PATH=$lib "$1" || die "$1 failed"
  out=$(LD_LIBRARY_PATH=$lib PORTA_OPENCL_LIBRARY=none PORTA_VULKAN_LIBRARY=none "$1") ||
    { echo "$out"; die "$1 failed with no devices"; }
  case "$out" in
  *"no devices: parse and validation passed"*) ;;
  *) echo "$out"; die "$1 did not report the no-device case" ;;
  esac
}

pc=$(pkg-config --define-variable=prefix="$root" --cflags --libs porta) ||
  die "pkg-config --cflags --libs porta failed"
case "$pc" in
*"-I$root/"*) ;;
*) die "pkg-config's flags '$pc' do not point into the install" ;;
esac
echo "pkg-config: $cc consumer.c $pc"
# shellcheck disable=SC2086
$cc -std=c11 -Wall -Wextra -Werror -pthread $flags "$consumer/consumer.c" $pc -lm -o "$tmp/consumer-pc" ||
  die "building the consumer through pkg-config failed"
check_run "$tmp/consumer-pc"

if ! command -v cmake >/dev/null; then
  echo "cmake is not installed: the CMake half is skipped"
  exit 77
fi
pkgdir=$lib/cmake/porta
cat > "$tmp/version.cmake" <<'EOF'
# What find_package(porta WANT) decides from portaConfigVersion.cmake alone.
string(REPLACE "." ";" _parts "${WANT}")
list(GET _parts 0 PACKAGE_FIND_VERSION_MAJOR)
list(GET _parts 1 PACKAGE_FIND_VERSION_MINOR)
set(PACKAGE_FIND_VERSION "${WANT}")
set(CMAKE_SIZEOF_VOID_P 8)
include("${PKGDIR}/portaConfigVersion.cmake")
if(PACKAGE_VERSION_COMPATIBLE)
  message("compatible")
else()
  message("incompatible")
endif()
EOF
for want in "$major.0:compatible" "$major.$(echo "$version" | cut -d. -f2):compatible" \
            "$((major + 1)).0:incompatible" "$major.99:incompatible"; do
  got=$(cmake -DWANT="${want%%:*}" -DPKGDIR="$pkgdir" -P "$tmp/version.cmake" 2>&1)
  [ "$got" = "${want#*:}" ] ||
    die "find_package(porta ${want%%:*}) against $version: $got, expected ${want#*:}"
done

generator=""
command -v ninja >/dev/null && generator="-GNinja"
CC=$cc cmake -S "$consumer" -B "$tmp/cmake" $generator -DCMAKE_PREFIX_PATH="$root" \
  -DCMAKE_C_FLAGS="$flags" -DCMAKE_BUILD_TYPE=Release \
  >"$tmp/cmake.log" 2>&1 || { cat "$tmp/cmake.log"; die "cmake configure failed"; }
grep -q "^porta_DIR:PATH=$pkgdir\$" "$tmp/cmake/CMakeCache.txt" ||
  die "find_package(porta) found $(grep '^porta_DIR' "$tmp/cmake/CMakeCache.txt"), not $pkgdir"
cmake --build "$tmp/cmake" >>"$tmp/cmake.log" 2>&1 ||
  { cat "$tmp/cmake.log"; die "building the consumer through CMake failed"; }
echo "cmake: porta::porta from $pkgdir"
check_run "$tmp/cmake/consumer"
echo "consumer: pkg-config and CMake builds passed"
