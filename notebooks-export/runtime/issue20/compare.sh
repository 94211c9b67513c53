#!/bin/bash
# Same-run before/after of the runtime refactor (issue 20): build 0f31c9b (/tmp/minnow-before) and
# the working tree's (/tmp/minnow-after), alternating, one thread, 3 rounds, every model, the
# fastest kernels on this CPU and the reference ones.
cd /work/bench
export MINNOW_NUM_THREADS=1
for round in 1 2 3; do
  for m in student squeeze teacher; do
    for build in before after; do
      for k in fastest reference; do
        runs=2000; [ $k = reference ] && runs=1000
        p50=$(/tmp/minnow-$build bench model $m.mnw --runs $runs --kernels $k | grep "latency p50" | sed -E 's/.*\| *([0-9.]+) \/.*/\1/')
        echo "round $round $m $k $build p50_ms $p50"
      done
    done
  done
done
