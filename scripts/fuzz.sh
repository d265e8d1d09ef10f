#!/usr/bin/env bash
# Runs every libFuzzer target tests/fuzz/fuzz_NAME.c (clang, AddressSanitizer and
# UndefinedBehaviorSanitizer) for SECONDS each (default 12), from its seed corpus
# tests/fuzz/corpus_NAME/ (the parser also from the example graphs and the malformed set). Each
# target is built from the host-side sources (graphs/, the reference, the .npy reader), so a new
# target needs only its file and its corpus. A crash, a leak, a broken property or a timeout stops
# it with a reproducer under build-fuzz/NAME-crash-*; `build-fuzz/fuzz_NAME FILE` replays one.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-12}
out=build-fuzz
mkdir -p "$out"
if ! command -v clang >/dev/null; then
  echo "fuzz: clang is not installed (scripts/setup.sh installs it)" >&2
  exit 1
fi
# The shared sources are compiled once (instrumented, not linked with the fuzzer's main).
flags=(-std=c11 -O1 -g -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DPORTA_STATIC_BUILD
       -fno-sanitize-recover=all -Iinclude -I. $(pkg-config --cflags libcjson))
rm -rf "$out/obj"
mkdir -p "$out/obj"
for source in graphs/*.c host/reference/*.c host/npy.c; do
  clang "${flags[@]}" -fsanitize=fuzzer-no-link,address,undefined -c "$source" \
    -o "$out/obj/$(echo "${source%.c}" | tr / _).o"
done
status=0
for target in tests/fuzz/fuzz_*.c; do
  name=$(basename "$target" .c)
  name=${name#fuzz_}
  corpus="$out/corpus_$name"  # a copy: libFuzzer adds what it finds to the first directory
  mkdir -p "$corpus"
  if [ -d "tests/fuzz/corpus_$name" ]; then cp "tests/fuzz/corpus_$name"/* "$corpus/"; fi
  if [ "$name" = parse ]; then
    for dir in graphs/examples tests/malformed tests/data; do
      for f in "$dir"/*.pg; do cp "$f" "$corpus/$(basename "$dir")-$(basename "$f")"; done
    done
  fi
  clang "${flags[@]}" -fsanitize=fuzzer,address,undefined "$target" "$out"/obj/*.o \
    $(pkg-config --libs libcjson) -lm -o "$out/fuzz_$name"
  code=0
  "$out/fuzz_$name" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=1024 \
    -print_final_stats=1 -artifact_prefix="$out/$name-" "$corpus" >"$out/$name.log" 2>&1 ||
    code=$?
  if [ $code -ne 0 ]; then
    tail -n 40 "$out/$name.log"
    echo "fuzz: $name FAILED (exit $code); reproducer in $out/$name-*"
    status=1
    continue
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$name.log")
  echo "fuzz: $name, ${seconds} s, ${runs:-?} inputs, no failure"
done
exit $status
