#!/usr/bin/env bash
# Makes Examples/models/zoo/: one small exported .mnw model per zoo architecture (the three
# presets, cnn, mobilenet_v1) and 4-bit-weight variants of the student and the teacher, for the
# ARM bit-exactness check (scripts/arm-run.sh --zoo). Each is trained one epoch on 2,048
# Fashion-MNIST images (its accuracy does not matter: its arithmetic does), quantized with 128
# calibration images, and exported. Deterministic for a given Minnow (seed 0, one thread).
#   scripts/make-zoo-models.sh [MINNOW]      (default .build/release/minnow)
set -euo pipefail
cd "$(dirname "$0")/.."
minnow=${1:-.build/release/minnow}
out=Examples/models/zoo
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
export MINNOW_NUM_THREADS=1
make() {  # name, weight bits, then the model options of minnow train
    local name=$1 bits=$2
    shift 2
    "$minnow" train "$@" --epochs 1 --train-subset 2048 --seed 0 --progress none --out "$work/$name" >/dev/null
    "$minnow" quantize "$work/$name/last.h5" --calibrate 128 --weight-bits "$bits" --out "$work/$name-q" >/dev/null
    "$minnow" export "$work/$name-q/quantized.h5" -o "$out/$name.mnw" >/dev/null
    echo "$out/$name.mnw: $(stat -c %s "$out/$name.mnw") bytes"
}
make teacher 8 --model teacher
make student_mbv2 8 --model student_mbv2
make student_squeeze 8 --model student_squeeze
make cnn 8 --model cnn
make mobilenet_v1 8 --model mobilenet_v1 --width 0.5
make student_mbv2-4bit 4 --model student_mbv2
make teacher-4bit 4 --model teacher
