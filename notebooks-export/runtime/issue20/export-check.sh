#!/bin/bash
# Bit-exactness of the refactored runtime (issue 20) on all 10,000 test images: each model's file
# exported by the new build, checked on the fastest kernels this CPU has and on the reference ones.
cd /work/bench
for m in student squeeze teacher; do
  for k in fastest reference; do
    echo "== $m $k"
    /tmp/minnow-after export $m-ptq/quantized.h5 -o $m-after.mnw --check-images 10000 --kernels $k 2>&1 | grep -E "check on|bytes ="
  done
  cmp $m.mnw $m-after.mnw && echo "$m: the new build writes the same file, byte for byte"
done
