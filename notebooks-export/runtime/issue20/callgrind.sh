#!/bin/bash
# Instructions per inference under valgrind's callgrind (repeatable whatever the load): the
# difference between `minnow run --limit 200` and `--limit 100`, divided by 100, for the build
# before the runtime refactor (0f31c9b) and after; fastest kernels (AVX2 under valgrind) and reference.
cd /work/bench
for m in student squeeze teacher; do
  for k in fastest reference; do
    for build in before after; do
      counts=()
      for n in 100 200; do
        valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out /tmp/minnow-$build-s run $m.mnw --limit $n --kernels $k > /dev/null 2> /tmp/cg.err
        counts+=($(grep -E "Collected" /tmp/cg.err | sed -E 's/.*Collected : ([0-9]+).*/\1/'))
      done
      echo "$m $k $build instructions_per_inference $(( (counts[1] - counts[0]) / 100 ))"
    done
  done
done
