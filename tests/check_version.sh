#!/bin/sh
# `porta --version` names the library's version, which must be the project's (meson) and the
# header's PORTA_VERSION_MAJOR.MINOR.PATCH, and a commit.
# usage: check_version.sh PORTA PROJECT_VERSION PORTA_H
porta=$1
project=$2
header=$3
macro() { sed -n "s/^#define PORTA_VERSION_$1 \([0-9][0-9]*\)$/\1/p" "$header"; }
declared="$(macro MAJOR).$(macro MINOR).$(macro PATCH)"
[ "$declared" = "$project" ] || { echo "porta.h says $declared, meson.build $project"; exit 1; }
out=$("$porta" --version) || { echo "porta --version failed"; exit 1; }
case "$out" in
"porta $project (commit "?*")") ;;
*) echo "porta --version printed '$out', expected 'porta $project (commit ...)'"; exit 1 ;;
esac
