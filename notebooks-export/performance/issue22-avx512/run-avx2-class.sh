#!/bin/bash
# Issue 22's AVX2 class on an AVX-512 CPU: Minnow built for x86-64-v3 (narrow tiles, no AVX-512
# instruction) against PyTorch held to AVX2 (ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2),
# same run. V3 is that build's `minnow`; OUT the log folder; LABEL names the logs (default avx2).
set -u
export MINNOW_PEERS_DIR=${MINNOW_PEERS_DIR:-$PWD/../shared/peers}
export ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2
V3=${V3:?the x86-64-v3 build\'s minnow}; OUT=${OUT:?log folder}
ROUNDS=${ROUNDS:-2}; LABEL=${LABEL:-avx2}
mkdir -p "$OUT"
for round in $(seq 1 "$ROUNDS"); do
  { cat /proc/loadavg; "$V3" bench train --json "$OUT/r$round-$LABEL-train.json"; } > "$OUT/r$round-$LABEL-train.log" 2>&1
  { cat /proc/loadavg; "$V3" bench ops --json "$OUT/r$round-$LABEL-ops.json"; } > "$OUT/r$round-$LABEL-ops.log" 2>&1
done
