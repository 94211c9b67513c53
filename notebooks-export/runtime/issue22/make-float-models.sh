#!/bin/bash
# The float checkpoints of issue 22 (made for the before/after runtime benchmark of issue 20 with its baseline build 0f31c9b; run in /work/bench). The quantize and export lines are that benchmark's; issue 22 uses make-models.sh instead.
set -x
M=${MINNOW:-.build/release/minnow}  
$M train --model student_mbv2 --epochs 1 --out student --progress none
$M train --model student_squeeze --epochs 1 --out squeeze --progress none
$M train --model teacher --epochs 1 --train-subset 20000 --out teacher --progress none
for m in student squeeze teacher; do
  $M quantize $m/best.h5 --out $m-ptq
  $M export $m-ptq/quantized.h5 -o $m.mnw --check-images 1000
done
