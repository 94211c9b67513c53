#!/bin/bash
# Instructions per batch-1 inference under valgrind's callgrind (repeatable on a busy machine; valgrind's
# CPU has AVX2 and no AVX-512 or VNNI, so every runtime picks its AVX2-class kernels). Minnow: the
# difference between `minnow bench model --runs 1100` and `--runs 1000` (`--warmup 0 --batch 1`, one
# thread) over 100; the peers: run_n.py with 150 and 50 runs, over 100. Valgrind 3.19 cannot read the
# debug info of a Swift binary built here: run a copy made with `strip --strip-debug`.
#   MINNOW=path/to/minnow MODELS=/tmp/rt PEERS_OUT=/tmp/peers-out callgrind.sh [minnow|peers]
set -u
export MINNOW_NUM_THREADS=1
here=$(cd "$(dirname "$0")" && pwd)
MINNOW=${MINNOW:-.build/release/minnow}; MODELS=${MODELS:-/tmp/rt}; PEERS_OUT=${PEERS_OUT:-/tmp/peers-out}
ORT_PY=${PEERS_VENV:-$HOME/.cache/minnow-peers-venv}/bin/python
LITERT_PY=${PEERS_LITERT_VENV:-$HOME/.cache/minnow-peers-litert-venv}/bin/python
collected() { grep -E "Collected" "$1" | sed -E 's/.*Collected : ([0-9]+).*/\1/'; }
per_inference() {  # label low high command... (the command takes N last)
  local label=$1 low=$2 high=$3; shift 3
  local a b
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" "$low" > /dev/null 2> /tmp/cg-a.err; a=$(collected /tmp/cg-a.err)
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" "$high" > /dev/null 2> /tmp/cg-b.err; b=$(collected /tmp/cg-b.err)
  echo "$label instructions_per_inference $(( (b - a) / (high - low) ))"
}
if [[ ${1:-minnow} == minnow ]]; then
  strip --strip-debug -o /tmp/minnow-cg "$MINNOW"
  for m in student squeeze teacher; do
    for bits in 8 7; do
      per_inference "minnow $m $bits-bit avx2" 1000 1100 /tmp/minnow-cg bench model "$MODELS/$m-w$bits.mnw" \
        --warmup 0 --batch 1 --no-peer --runs
    done
  done
else
  for m in student_mbv2 student_squeeze teacher; do
    per_inference "onnxruntime $m int8" 50 150 "$ORT_PY" "$here/run_n.py" onnx "$PEERS_OUT/onnx/${m}_int8.onnx"
    per_inference "litert $m int8" 50 150 "$LITERT_PY" "$here/run_n.py" tflite "$PEERS_OUT/tflite/${m}_int8.tflite"
  done
fi
