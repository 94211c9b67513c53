#!/bin/bash
# Issue 22: the int8 runtime on an AVX2-only CPU against ONNX Runtime and LiteRT (XNNPACK), same run,
# one thread: 8-bit and 7-bit (`quantize --weight-bits 7`) PTQ models of the three reference
# architectures. Models: scripts in this folder's README; the build under test in $MINNOW.
set -u
export MINNOW_PEERS_DIR=${MINNOW_PEERS_DIR:-$PWD/../shared/peers} MINNOW_NUM_THREADS=1
MINNOW=${MINNOW:-.build/release/minnow}; MODELS=${MODELS:-/tmp/rt}
cat /proc/loadavg
for round in 1 2; do
  for pair in student:student_mbv2 squeeze:student_squeeze teacher:teacher; do
    m=${pair%%:*}; preset=${pair##*:}
    for bits in 8 7; do
      echo "== round $round $m $bits-bit weights"
      $MINNOW bench model $MODELS/$m-w$bits.mnw --peer-model $preset | grep -E "machine:|latency p50|ONNX Runtime|LiteRT|int8|fp32" | grep -v "^ *$"
    done
  done
done
cat /proc/loadavg
