#!/usr/bin/env bash
# Cross-builds porta for aarch64 Linux (cross/aarch64-linux-gnu.ini) into build-aarch64/ and runs
# every example graph under qemu-user against the native build/host/porta: `porta check` (text
# and --json) must print the same, and `porta run --device ref` must print the same lines and
# write the same .npy files, byte for byte. No tolerance: the reference computes in double with
# IEEE-754 operations (no fast-math; -std=c11 turns off GCC's FMA contraction, which aarch64
# would otherwise use), and glibc 2.36's exp, pow, tanh, erf, sin and cos round alike on both
# architectures for every example here. A libm that rounds one of them differently in the last
# bit can flip an f32 output (one ulp of exp in softmax flips one element of encoder_layer's y);
# that is then reported, and a tolerance would be the fix.
# One line per example; the exit status is 1 when any fails, naming the first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null

# The native side is configured by scripts/build.sh; ninja brings it up to date (rerunning meson
# when a meson.build changed). --quiet: only a failing command's output shows.
[ -f build/build.ninja ] || scripts/build.sh
ninja -C build --quiet host/porta

dir=build-aarch64
if [ ! -f $dir/build.ninja ]; then
  mkdir -p $dir
  # debugoptimized, as build/, so that a difference is the architecture's and not -O3's
  meson setup $dir --cross-file cross/aarch64-linux-gnu.ini -Dtests=false -Dwerror=true \
    --buildtype=debugoptimized >$dir/setup.log 2>&1 || { cat $dir/setup.log; exit 1; }
fi
# porta and the shared library (its link is checked too; its file is named by the soname's
# version, so it is asked for by target); no tests: they would run under qemu
meson compile -C $dir -j 2 host/porta:executable porta:shared_library >$dir/compile.log 2>&1 ||
  { cat $dir/compile.log; exit 1; }

# ELF e_machine 0xb7 is AArch64: a cross file that fell back to the native compiler fails here
if [ "$(od -An -tx1 -j18 -N2 $dir/host/porta | tr -d ' ')" != b700 ]; then
  echo "cross: $dir/host/porta is not an aarch64 executable" >&2
  exit 1
fi

native=(build/host/porta)
# as the cross file's exe_wrapper
cross=(qemu-aarch64-static -L /usr/aarch64-linux-gnu "$dir/host/porta")
work=$dir/cross-check
rm -rf $work
mkdir -p $work

# First difference of two .npy files: the element, by index, and both values.
npy_diff() {
  python3 - "$@" <<'PY'
import ast, struct, sys
def load(path):
    data = open(path, 'rb').read()
    if data[:6] != b'\x93NUMPY':
        return None, data
    n = struct.unpack('<H', data[8:10])[0]
    header = ast.literal_eval(data[10:10 + n].decode('latin1'))
    return header, data[10 + n:]
(ha, a), (hb, b) = load(sys.argv[1]), load(sys.argv[2])
if ha != hb:
    print(f'header {ha} against {hb}')
    sys.exit()
fmt = {'<f4': 'f', '<f2': 'e', '<i4': 'i'}.get(ha['descr'] if ha else None)
size = struct.calcsize(fmt) if fmt else 1
count = min(len(a), len(b)) // size
for i in range(count):
    if a[i * size:(i + 1) * size] != b[i * size:(i + 1) * size]:
        if fmt:
            x, y = (struct.unpack('<' + fmt, s[i * size:(i + 1) * size])[0] for s in (a, b))
            spec = {'f': '.9g', 'e': '.5g', 'i': 'd'}[fmt]
            print(f'element {i} of {count}: native {x:{spec}}, aarch64 {y:{spec}}')
        else:
            print(f'byte {i}')
        sys.exit()
print(f'lengths {len(a)} and {len(b)}')
PY
}

first=""
for graph in graphs/examples/*.pg; do
  name=$(basename "$graph" .pg)
  d=$work/$name
  mkdir -p "$d/native/out" "$d/aarch64/out"
  problem=""
  for side in native aarch64; do
    if [ $side = native ]; then exe=("${native[@]}"); else exe=("${cross[@]}"); fi
    for step in check check-json run; do
      case $step in
        check) args=(check "$graph") ;;
        check-json) args=(check "$graph" --json) ;;
        run) args=(run "$graph" --device ref --seed 0 --out "$d/$side/out") ;;
      esac
      rc=0
      "${exe[@]}" "${args[@]}" >"$d/$side/$step.txt" 2>"$d/$side/$step.err" || rc=$?
      echo "exit $rc" >>"$d/$side/$step.txt"
    done
  done
  # exit statuses first (with the failing side's message), then check's output, then the arrays
  # (the first differing element says more than the hash line that shows it), then run's output
  for step in check check-json run; do
    [ -z "$problem" ] || break
    a=$(tail -n 1 "$d/native/$step.txt") b=$(tail -n 1 "$d/aarch64/$step.txt")
    if [ "$a" != "$b" ]; then
      message=$(cat "$d"/*/"$step.err" | head -n 1)
      problem="porta ${step/-json/ --json}: status ${a#exit } natively, ${b#exit } on aarch64"
      problem+=" ($message)"
    fi
  done
  for f in check.txt check.err check-json.txt check-json.err npy run.txt run.err; do
    [ -z "$problem" ] || break
    if [ $f = npy ]; then
      files=$(cd "$d/native/out" && ls)
      if [ "$files" != "$(cd "$d/aarch64/out" && ls)" ]; then
        problem="porta run wrote $(cd "$d/aarch64/out" && echo *) where natively ${files//$'\n'/ }"
      fi
      for o in $files; do
        [ -z "$problem" ] || break
        if ! cmp -s "$d/native/out/$o" "$d/aarch64/out/$o"; then
          problem="porta run's $o differs: $(npy_diff "$d/native/out/$o" "$d/aarch64/out/$o")"
        fi
      done
    elif ! cmp -s "$d/native/$f" "$d/aarch64/$f"; then
      a=$(diff "$d/native/$f" "$d/aarch64/$f" | grep -m1 '^<' | cut -c3- || true)
      b=$(diff "$d/native/$f" "$d/aarch64/$f" | grep -m1 '^>' | cut -c3- || true)
      step=${f%.*}
      [ "${f#*.}" = txt ] && stream=stdout || stream=stderr
      problem="porta ${step/-json/ --json}: its $stream differs, first natively '$a',"
      problem+=" on aarch64 '$b' ($d/{native,aarch64}/$f)"
    fi
  done
  # the same failure on both sides is still a failure: every example must check and run
  for step in check check-json run; do
    [ -z "$problem" ] || break
    st=$(tail -n 1 "$d/native/$step.txt")
    if [ "$st" != "exit 0" ]; then
      message=$(head -n 1 "$d/native/$step.err")
      problem="porta ${step/-json/ --json} fails on both (status ${st#exit }): $message"
    fi
  done
  if [ -n "$problem" ]; then
    echo "cross: $name: FAIL: $problem"
    [ -n "$first" ] || first="$name: $problem"
  else
    outputs=$(awk '/fnv64/ {printf "%s%s %s", sep, $1, $NF; sep = ", "}' "$d/native/run.txt")
    echo "cross: $name: check, check --json, run --device ref identical ($outputs)"
  fi
done

if [ -n "$first" ]; then
  echo "cross: failed; the first: $first" >&2
  exit 1
fi
echo "cross: aarch64 build matches native on every example"
