#!/bin/bash
# Issue 22, Winograd F(2x2, 3x3) for the dense 3x3 layers: the build before it (OLD) and after it
# (NEW) alternate, each with PyTorch in the same run (training and ops); then the AVX2 class, the
# x86-64-v3 build (V3) against PyTorch held to AVX2. ROUNDS rounds (default 2); logs and JSON in OUT.
set -u
export MINNOW_PEERS_DIR=${MINNOW_PEERS_DIR:-$PWD/../shared/peers}
OLD=${OLD:?the earlier build\'s minnow}; NEW=${NEW:?this build\'s minnow}; V3=${V3:?the x86-64-v3 build\'s minnow}
OUT=${OUT:?log folder}; ROUNDS=${ROUNDS:-2}
mkdir -p "$OUT"
bench() {  # label binary [environment...]
  local label=$1 binary=$2; shift 2
  { cat /proc/loadavg; env "$@" "$binary" bench train --json "$OUT/$label-train.json"; } > "$OUT/$label-train.log" 2>&1
  { cat /proc/loadavg; env "$@" "$binary" bench ops --json "$OUT/$label-ops.json"; } > "$OUT/$label-ops.log" 2>&1
}
for round in $(seq 1 "$ROUNDS"); do
  bench "r$round-old" "$OLD"
  bench "r$round-new" "$NEW"
  bench "r$round-avx2" "$V3" ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2
done
