#!/usr/bin/env bash
# The 3-seed distillation study behind docs/results.md ("Distillation: 3 seeds"): the student_mbv2
# preset (148,186 parameters) trained 10 epochs from scratch, with Hinton KD, with KD + attention
# transfer, and with decoupled KD, for seeds 1-3 (each seed sets the data order and the student's
# initialization). The teacher is runs/long-teacher/best.h5 (fashion-mnist-baselines.sh trains it;
# this script does too when it is missing, about 17 minutes). About 1.5 hours on 2 cores; run it in
# the background: nohup experiments/distillation-seeds.sh > runs/distillation-seeds.log 2>&1 &
# A run folder that already has best.h5 is skipped, so the script can be restarted after a stop.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product minnow
M=.build/release/minnow
T=runs/long-teacher/best.h5
[ -f $T ] || $M train --model teacher --epochs 12 --crop-padding 2 --flip --seed 0 --out runs/long-teacher --progress lines

KD=(--teacher $T --student student_mbv2 --loss kd --temperature 4 --alpha 0.9 --epochs 10)
for S in 1 2 3; do
  [ -f runs/scratch-s$S/best.h5 ] || $M train --model student_mbv2 --epochs 10 --seed $S --init-seed $S --out runs/scratch-s$S --progress lines
  [ -f runs/kd-s$S/best.h5 ] || $M distill "${KD[@]}" --seed $S --init-seed $S --out runs/kd-s$S --progress lines
  [ -f runs/kd-at-s$S/best.h5 ] || $M distill "${KD[@]}" --attention features.3:layers.3 --seed $S --init-seed $S --out runs/kd-at-s$S --progress lines
done
for S in 1 2 3; do
  [ -f runs/dkd-s$S/best.h5 ] || $M distill --teacher $T --student student_mbv2 --loss dkd --temperature 4 --epochs 10 --seed $S --init-seed $S --out runs/dkd-s$S --progress lines
done
# mean ± std of the final-epoch test top-1 of each condition
python3 experiments/summarize_runs.py runs/scratch-s{1,2,3} runs/kd-s{1,2,3} runs/kd-at-s{1,2,3} runs/dkd-s{1,2,3}
