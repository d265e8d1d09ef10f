#!/bin/sh
# The shared library's ABI surface: its soname is libporta.so.MAJOR (porta.h's
# PORTA_VERSION_MAJOR), and the dynamic symbols it defines are exactly the functions porta.h
# declares with PORTA_API, every one named porta_*. A function declared and not defined breaks
# programs at load time; a symbol exported and not declared is ABI nobody promised.
# usage: check_symbols.sh LIBPORTA_SO PORTA_H
lib=$1
header=$2
status=0

major=$(sed -n 's/^#define PORTA_VERSION_MAJOR \([0-9][0-9]*\)$/\1/p' "$header")
soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]$/\1/p')
if [ "$soname" != "libporta.so.$major" ]; then
  echo "soname is '$soname', expected libporta.so.$major (PORTA_VERSION_MAJOR)"
  status=1
fi

dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
# The header as one line without comments or the lines defining PORTA_API itself, so a
# declaration split over lines reads as one; each declared name is the identifier before the
# first "(" after PORTA_API.
grep -v '^#define PORTA_API' "$header" | tr '\n' ' ' |
  sed 's|/\*[^*]*\*\{1,\}\([^/*][^*]*\*\{1,\}\)*/| |g' |
  grep -o 'PORTA_API[^(;]*(' |
  sed 's/^.*[^A-Za-z0-9_]\([A-Za-z_][A-Za-z0-9_]*\)[[:space:]]*($/\1/' | sort -u > "$dir/declared"
nm -D --defined-only "$lib" | awk '{ sub(/@.*/, "", $NF); print $NF }' | sort -u > "$dir/exported"

if [ ! -s "$dir/declared" ]; then
  echo "no PORTA_API declaration found in $header"
  exit 1
fi
missing=$(comm -23 "$dir/declared" "$dir/exported")
extra=$(comm -13 "$dir/declared" "$dir/exported")
foreign=$(grep -v '^porta_' "$dir/exported")
if [ -n "$missing" ]; then
  echo "declared with PORTA_API in porta.h but not exported by $lib:"
  echo "$missing" | sed 's/^/  /'
  status=1
fi
if [ -n "$extra" ]; then
  echo "exported by $lib but not declared with PORTA_API in porta.h:"
  echo "$extra" | sed 's/^/  /'
  status=1
fi
if [ -n "$foreign" ]; then
  echo "exported symbols not named porta_*:"
  echo "$foreign" | sed 's/^/  /'
  status=1
fi
[ $status -eq 0 ] && echo "$soname: $(wc -l < "$dir/exported") symbols, as porta.h declares"
exit $status
