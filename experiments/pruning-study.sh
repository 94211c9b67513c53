#!/usr/bin/env bash
# The pruning study behind docs/results.md ("Structured pruning"): the KD student (runs/kd-s1) and
# the teacher (runs/long-teacher) pruned one-shot by L1 filter norm (global ranking, channel counts
# multiples of 8, first convolution and classifier excluded) to 70%, 50% and 30% of their MACs,
# then fine-tuned 3 epochs (SGD + Nesterov, lr 0.01 cosine: the recipe of the fp32 control
# runs/ft-*), without and with the unpruned teacher distilling (Hinton KD, T=4, alpha=0.9); then
# the schedules (iterative, AGP) and criteria (taylor, bn) at 50% on the student.
# Two lanes (student, teacher) run side by side, one thread each; about 45 minutes on 2 cores:
#   nohup experiments/pruning-study.sh > runs/pruning-study.log 2>&1 &
# A run folder that already has pruning-report.json is skipped, so the script can be restarted.
set -euo pipefail
cd "$(dirname "$0")/.."
# MINNOW: a minnow binary to use instead of building one (keeps a long study on one build).
[ -n "${MINNOW:-}" ] || swift build -c release --product minnow
M=${MINNOW:-.build/release/minnow}
T=runs/long-teacher/best.h5
S=runs/kd-s1/best.h5
for f in $T $S; do [ -f $f ] || { echo "missing $f: run experiments/quantization-study.sh's first steps" >&2; exit 1; }; done
FT=(--epochs 3 --progress lines)

prune() {  # out checkpoint options...
    local out=$1 checkpoint=$2
    shift 2
    [ -f runs/$out/pruning-report.json ] || MINNOW_NUM_THREADS=1 $M prune "$checkpoint" "${FT[@]}" "$@" --out runs/$out
}
lane() {  # name checkpoint
    local name=$1 checkpoint=$2
    for macs in 50 70 30; do
        prune prune$macs-$name $checkpoint --target-macs 0.$macs
        prune prune$macs-kd-$name $checkpoint --target-macs 0.$macs --teacher $T
    done
}
lane student $S > runs/pruning-student.log 2>&1 &
lane teacher $T > runs/pruning-teacher.log 2>&1 &
wait
prune prune50-agp-kd-student $S --target-macs 0.5 --teacher $T --prune-schedule agp --prune-steps 8 --prune-every 0.125 > runs/pruning-extra.log 2>&1 &
prune prune50-taylor-kd-student $S --target-macs 0.5 --teacher $T --criterion taylor >> runs/pruning-extra2.log 2>&1 &
wait
echo "pruning study done"
