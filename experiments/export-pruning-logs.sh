#!/usr/bin/env bash
# Copies the pruning study's reports, settings, logs and recipes from runs/ (not committed) into
# notebooks-export/fashion-mnist/pruning/ (committed), with the summary tables.
set -euo pipefail
cd "$(dirname "$0")/.."
D=notebooks-export/fashion-mnist/pruning
mkdir -p $D
for run in runs/prune*/; do
  name=$(basename $run)
  for f in pruning-report.txt pruning-report.json pruning.json metrics.jsonl config.json; do
    [ -f $run/$f ] && cp $run/$f $D/$name.$f
  done
done
for peer in runs/tp-*.json; do cp $peer $D/; done
python3 experiments/summarize_pruning.py runs > $D/summary.md
for pair in "prune50-student tp-student-50" "prune50-teacher tp-teacher-50"; do
  set -- $pair
  { echo; python3 experiments/summarize_pruning.py --channels runs/$1 runs/$2.json; } >> $D/summary.md
done
echo "exported to $D"
