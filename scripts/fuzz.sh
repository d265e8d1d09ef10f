#!/usr/bin/env bash
# Fuzzes the .pg parser and printer with libFuzzer (clang) under AddressSanitizer and
# UndefinedBehaviorSanitizer for SECONDS (default 20), starting from the example graphs and the
# malformed set. A crash, a leak, a message without a position or a failed round trip stops it
# with a reproducer under build-fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
out=build-fuzz
mkdir -p "$out/corpus"
if ! command -v clang >/dev/null; then
  echo "fuzz: clang is not installed (scripts/setup.sh installs it)" >&2
  exit 1
fi
sources=(graphs/context.c graphs/graph.c graphs/node.c graphs/ops.c graphs/ops_rules.c
         graphs/validate.c graphs/lexer.c graphs/parse.c graphs/print.c)
clang -std=c11 -O1 -g -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DPORTA_STATIC_BUILD \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Iinclude -I. \
  tests/fuzz/fuzz_parse.c "${sources[@]}" -lm -o "$out/fuzz_parse"
for dir in graphs/examples tests/malformed tests/data; do
  for f in "$dir"/*.pg; do cp "$f" "$out/corpus/$(basename "$dir")-$(basename "$f")"; done
done
status=0
"$out/fuzz_parse" -max_total_time="$seconds" -max_len=4096 -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$out/" "$out/corpus" >"$out/fuzz.log" 2>&1 || status=$?
if [ $status -ne 0 ]; then
  tail -n 40 "$out/fuzz.log"
  echo "fuzz: FAILED (exit $status); reproducer in $out/"
  exit 1
fi
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/fuzz.log")
echo "fuzz: parser and printer, ${seconds} s, ${runs:-?} inputs, no failure"
