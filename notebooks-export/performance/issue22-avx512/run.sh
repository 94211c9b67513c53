#!/bin/bash
# Issue 22's AVX-512 check: the build before the AVX2 work (0f31c9b) and the current one, same
# machine, same run, alternating, each with PyTorch (training, ops) and ONNX Runtime / LiteRT
# (int8 runtime) beside it. OLD and NEW are the two release builds' `minnow`; OUT the log folder;
# ZOO a folder with version-3 zoo files both builds read (git show c79063b:Examples/models/zoo/M.mnw).
set -u
export MINNOW_PEERS_DIR=${MINNOW_PEERS_DIR:-$PWD/../shared/peers}
OLD=${OLD:?the old build\'s minnow}; NEW=${NEW:?the new build\'s minnow}; OUT=${OUT:?log folder}; ZOO=${ZOO:?zoo folder}
ROUNDS=${ROUNDS:-2}
mkdir -p "$OUT"
for round in $(seq 1 "$ROUNDS"); do
  for build in old new; do
    bin=$OLD; [ $build = new ] && bin=$NEW
    { cat /proc/loadavg; "$bin" bench train --json "$OUT/r$round-$build-train.json"; } > "$OUT/r$round-$build-train.log" 2>&1
    { cat /proc/loadavg; "$bin" bench ops --json "$OUT/r$round-$build-ops.json"; } > "$OUT/r$round-$build-ops.log" 2>&1
    for m in student_mbv2 student_squeeze teacher; do
      { cat /proc/loadavg; MINNOW_NUM_THREADS=1 "$bin" bench model "$ZOO/$m.mnw" --peer-model $m; } > "$OUT/r$round-$build-model-$m.log" 2>&1
    done
  done
done
