#!/usr/bin/env bash
# The quantization study behind docs/results.md ("Quantization"): the KD student (runs/kd-s1, from
# distillation-seeds.sh) and the teacher (runs/long-teacher, from fashion-mnist-baselines.sh; both
# are trained here when missing) quantized to int8 by post-training quantization (PTQ) and by
# quantization-aware training (QAT: 3 seeds of data order; with the fp32 teacher distilling; with
# 4-bit weights; with LSQ and 4-bit weights), every accuracy evaluated in integer arithmetic; and
# PyTorch's own PTQ of the same checkpoints as the peer row; and the fp32 control (the same
# fine-tuning recipe without quantization). About 2 hours on 2 cores; run it in
# the background: nohup experiments/quantization-study.sh > runs/quantization-study.log 2>&1 &
# A run folder that already has quantization.json is skipped, so the script can be restarted.
set -euo pipefail
cd "$(dirname "$0")/.."
# MINNOW: a minnow binary to use instead of building one (keeps a long study on one build).
[ -n "${MINNOW:-}" ] || swift build -c release --product minnow
M=${MINNOW:-.build/release/minnow}
T=runs/long-teacher/best.h5
S=runs/kd-s1/best.h5
PY=${PEERS_PYTHON:-$HOME/.cache/minnow-peers-venv/bin/python}
[ -f $T ] || $M train --model teacher --epochs 12 --crop-padding 2 --flip --seed 0 --out runs/long-teacher --progress lines
[ -f $S ] || $M distill --teacher $T --student student_mbv2 --loss kd --temperature 4 --alpha 0.9 --epochs 10 --seed 1 --init-seed 1 \
    --out runs/kd-s1 --progress lines

QAT=(--epochs 3 --progress lines)
study() {  # name checkpoint
    local name=$1 checkpoint=$2
    [ -f runs/ptq-$name/quantization.json ] || $M quantize "$checkpoint" --calibrate 512 --out runs/ptq-$name
    [ -f runs/qat-$name-s0/quantization.json ] || $M qat "$checkpoint" "${QAT[@]}" --seed 0 --out runs/qat-$name-s0
    [ -f runs/qat-kd-$name/quantization.json ] || $M qat "$checkpoint" "${QAT[@]}" --teacher $T --out runs/qat-kd-$name
    [ -f runs/qat4-$name/quantization.json ] || $M qat "$checkpoint" "${QAT[@]}" --weight-bits 4 --out runs/qat4-$name
    [ -f runs/ptq-pytorch-$name.json ] || "$PY" experiments/pytorch_ptq.py "$checkpoint" > runs/ptq-pytorch-$name.json
}
study student $S
[ -f runs/ptq4-student/quantization.json ] || $M quantize $S --calibrate 512 --weight-bits 4 --out runs/ptq4-student
[ -f runs/lsq4-student/quantization.json ] || $M qat $S "${QAT[@]}" --method lsq --weight-bits 4 --out runs/lsq4-student
study teacher $T
for seed in 1 2; do
    [ -f runs/qat-student-s$seed/quantization.json ] || $M qat $S "${QAT[@]}" --seed $seed --out runs/qat-student-s$seed
done
for seed in 1 2; do
    [ -f runs/qat-teacher-s$seed/quantization.json ] || $M qat $T "${QAT[@]}" --seed $seed --out runs/qat-teacher-s$seed
done
# The fp32 control: the same 3-epoch fine-tuning recipe as QAT, in float (QAT's gain over the
# checkpoint is partly this extra training).
FT=(--epochs 3 --lr 0.01 --schedule cosine --progress lines)
[ -f runs/ft-student/best.h5 ] || $M train --init-from $S "${FT[@]}" --out runs/ft-student
[ -f runs/ft-teacher/best.h5 ] || $M train --init-from $T "${FT[@]}" --out runs/ft-teacher
python3 experiments/summarize_quantization.py runs
