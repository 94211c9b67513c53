#!/usr/bin/env bash
# Training throughput of two Minnow builds against PyTorch, alternating, so that a change is
# measured for speed regressions on the same machine in the same minutes:
#
#   Benchmarks/compare-builds.sh BEFORE/minnow AFTER/minnow [ROUNDS] [LOG]
#
# Each round runs `minnow bench train` (the three presets, PyTorch beside it; BENCH_ARGS adds
# arguments, e.g. "--models student_mbv2 --repeats 5") with both builds, before first in odd
# rounds and after first in even ones, so that neither gains from its place in the order. Prints each run's table and, at the end, the median of each
# model's Minnow/PyTorch ratio per build. Build both in release mode; check /proc/loadavg first.
set -euo pipefail
before=${1:?usage: compare-builds.sh BEFORE/minnow AFTER/minnow [ROUNDS] [LOG]}
after=${2:?usage: compare-builds.sh BEFORE/minnow AFTER/minnow [ROUNDS] [LOG]}
rounds=${3:-3}
log=${4:-$(mktemp)}
cd "$(dirname "$0")/.."
export OPENBLAS_NUM_THREADS=1
# The peers' scripts (minnow bench reads MINNOW_PEERS_DIR or --peers-dir).
export MINNOW_PEERS_DIR=${MINNOW_PEERS_DIR:-$PWD/../shared/peers}
echo "load before: $(cat /proc/loadavg)" | tee "$log"
for round in $(seq 1 "$rounds"); do
    order="before after"
    (( round % 2 == 0 )) && order="after before"
    for build in $order; do
        binary=$([[ $build == before ]] && echo "$before" || echo "$after")
        echo "== round $round, build $build ($binary)" | tee -a "$log"
        # shellcheck disable=SC2086
        "$binary" bench train ${BENCH_ARGS:-} 2>&1 | tee -a "$log"
    done
done
echo "load after: $(cat /proc/loadavg)" | tee -a "$log"
# Rows of the tables: "model  minnow  min-max  torch  ratio"; collect the ratios per build and model.
awk '/^== round/ { build = $5 }
     /^(teacher|student_mbv2|student_squeeze) / { ratios[build " " $1] = ratios[build " " $1] " " $5 }
     END { for (key in ratios) print key ":" ratios[key] }' "$log" | sort | while IFS=: read -r key values; do
    median=$(tr ' ' '\n' <<<"$values" | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
    echo "median ratio, $key:$values -> $median"
done
