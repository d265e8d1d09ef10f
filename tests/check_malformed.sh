#!/bin/sh
# Runs the `porta` command on every malformed graph: exit status 1, the expected message on stderr.
# usage: check_malformed.sh PORTA MALFORMED_DIR
porta=$1
dir=$2
count=0
failures=0
for file in "$dir"/*.pg; do
    count=$((count + 1))
    expect=$(head -n 1 "$file" | sed 's/^# expect: //')
    where=${expect%%: *}
    what=${expect#*: }
    message=$("$porta" check "$file" 2>&1 >/dev/null)
    status=$?
    if [ "$status" -ne 1 ]; then
        echo "$file: exit status $status, expected 1"
        failures=$((failures + 1))
        continue
    fi
    case "$message" in
    "$file:$where:"*) ;;
    *) echo "$file: message does not start with $file:$where: -- $message"; failures=$((failures + 1)); continue ;;
    esac
    case "$message" in
    *"$what"*) ;;
    *) echo "$file: message lacks '$what' -- $message"; failures=$((failures + 1)) ;;
    esac
done
if [ "$count" -lt 45 ]; then
    echo "$dir: only $count files"
    exit 1
fi
"$porta" check >/dev/null 2>&1
if [ $? -ne 2 ]; then echo "porta check without FILE: expected exit status 2"; failures=$((failures + 1)); fi
"$porta" check --help >/dev/null 2>&1 || { echo "porta check --help failed"; failures=$((failures + 1)); }
echo "$count files, $failures failures"
[ "$failures" -eq 0 ]
