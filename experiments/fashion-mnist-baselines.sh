#!/usr/bin/env bash
# The from-scratch runs behind docs/results.md, in order. Each writes a run folder under runs/
# (metrics.jsonl, config.json, last.h5, best.h5). About 2.5 hours on 2 cores in all; run it in
# the background: nohup experiments/fashion-mnist-baselines.sh > runs/baselines.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release
M=.build/release/minnow

# The peers' reference recipe (shared/peers/train_ref.py): 3 epochs, SGD Nesterov 0.9, wd 5e-4,
# one-cycle max 0.1, batch 128, no augmentation.
$M train --model student_mbv2 --epochs 3 --seed 0 --out runs/recipe-student_mbv2 --progress lines
$M train --model teacher --epochs 3 --seed 0 --out runs/recipe-teacher --progress lines

# Longer runs with light augmentation (2-pixel random crops, horizontal flips).
$M train --model student_mbv2 --epochs 20 --crop-padding 2 --flip --seed 0 --out runs/long-student_mbv2 --progress lines
$M train --model teacher --epochs 12 --crop-padding 2 --flip --seed 0 --out runs/long-teacher --progress lines
