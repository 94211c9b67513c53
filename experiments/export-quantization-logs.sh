#!/usr/bin/env bash
# Copies the quantization study's reports, logs and recipes from runs/ (not committed) into
# notebooks-export/fashion-mnist/quantization/ (committed), with the summary table.
set -euo pipefail
cd "$(dirname "$0")/.."
D=notebooks-export/fashion-mnist/quantization
mkdir -p $D
for run in runs/*/; do
  name=$(basename $run)
  [ "$name" = earlier-build ] && continue
  [ -f $run/quantization.json ] || continue
  for f in quantization-report.txt quantization.json metrics.jsonl config.json distillation.json; do
    [ -f $run/$f ] && cp $run/$f $D/$name.$f
  done
done
for run in runs/earlier-build/*/; do
  name=$(basename $run)
  for f in quantization-report.txt quantization.json metrics.jsonl config.json; do
    [ -f $run/$f ] && cp $run/$f $D/earlier-build-$name.$f
  done
done
cp runs/ptq-pytorch-*.json $D/
grep -v "elapsed, ETA" runs/quantization-study.log > $D/quantization-study.log || true
grep -v "elapsed, ETA" runs/followup.log > $D/followup.log || true
python3 experiments/summarize_quantization.py runs > $D/summary.md
