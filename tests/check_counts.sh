#!/bin/sh
# `porta check` on a graph whose every node's counts fit in 64 bits but whose totals do not: the
# nodes' counts are printed exactly and the totals say they are too large (text and JSON).
# usage: check_counts.sh PORTA GRAPH
porta=$1
graph=$2
text=$("$porta" check "$graph") || { echo "porta check failed"; exit 1; }
json=$("$porta" check "$graph" --json) || { echo "porta check --json failed"; exit 1; }
# 2^55 scores x (2 x 64 + 5 + 2 x 64) FLOPs each
case "$text" in
*" 9403516021949595648 "*) ;;
*) echo "a node's FLOP count is not 9403516021949595648: $text"; exit 1 ;;
esac
case "$text" in
*"total: too large to count in 64 bits"*) ;;
*) echo "the text totals do not say they are too large: $text"; exit 1 ;;
esac
case "$json" in
*'"flops":	null'*) ;;
*) echo "the JSON total flops is not null: $json"; exit 1 ;;
esac
