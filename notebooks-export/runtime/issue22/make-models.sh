#!/bin/bash
# Issue 22's models: the float checkpoints of ../issue20/make-models.sh (its train lines, one epoch
# each; made for issue 20's runtime benchmark, in /work/bench), quantized with 8-bit and with 7-bit weights (PTQ, 512 calibration images,
# integer evaluation of the full test set) and exported with a bit-exactness check on the full test
# set (AVX2 kernels on this CPU). Logs: ptq/.
set -eu
M=${MINNOW:-.build/release/minnow}; FLOAT=${FLOAT:-/work/bench}; OUT=${OUT:-/tmp/rt}
for m in student squeeze teacher; do
  for b in 8 7; do
    $M quantize $FLOAT/$m/best.h5 --weight-bits $b --out $OUT/$m-w$b > $OUT/$m-w$b.ptq.log 2>&1
    $M export $OUT/$m-w$b/quantized.h5 -o $OUT/$m-w$b.mnw --check-images 10000 > $OUT/$m-w$b.export.log 2>&1
  done
done
