#!/usr/bin/env bash
# A whole training epoch on full Fashion-MNIST (60,000 images, the real data loader, the full-size
# teacher-logits cache), plain `minnow train` vs `minnow distill --loss kd` on cached logits, for the
# student_mbv2 preset: the "distillation epoch <= 1.2x a plain epoch" check of docs/distillation.md.
# The two alternate, REPEATS times each (default 3), with the same seed; a first distill run fills the
# cache and is not counted. Prints each epoch's train seconds (metrics.jsonl trainSeconds: the loop
# only, without evaluation and without the cache fill) and the ratio of the medians.
#   Benchmarks/distill-epoch.sh runs/long-teacher/best.h5 [REPEATS]
# Needs an idle machine (check /proc/loadavg).
set -euo pipefail
cd "$(dirname "$0")/.."
TEACHER=${1:?usage: Benchmarks/distill-epoch.sh TEACHER.h5 [REPEATS]}
REPEATS=${2:-3}
swift build -c release --product minnow
M=.build/release/minnow
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
echo "loadavg before: $(cat /proc/loadavg)"
seconds() { python3 -c "import json,sys; print(json.loads(open(sys.argv[1]).readline())['trainSeconds'])" "$1/metrics.jsonl"; }
KD=(distill --teacher "$TEACHER" --student student_mbv2 --loss kd --temperature 4 --alpha 0.9 --epochs 1 --seed 1
    --teacher-cache-dir "$OUT/cache" --progress none)
"$M" "${KD[@]}" --out "$OUT/fill" > /dev/null
plain=(); kd=()
for r in $(seq "$REPEATS"); do
  "$M" train --model student_mbv2 --epochs 1 --seed 1 --progress none --out "$OUT/plain-$r" > /dev/null
  plain+=("$(seconds "$OUT/plain-$r")")
  "$M" "${KD[@]}" --out "$OUT/kd-$r" > /dev/null
  kd+=("$(seconds "$OUT/kd-$r")")
  echo "repeat $r: plain ${plain[-1]} s, cached KD ${kd[-1]} s"
done
python3 - "${plain[*]}" "${kd[*]}" <<'PY'
import statistics, sys
plain, kd = ([float(x) for x in arg.split()] for arg in sys.argv[1:])
p, k = statistics.median(plain), statistics.median(kd)
print(f"median epoch: plain {p:.1f} s, cached KD {k:.1f} s, ratio {k / p:.3f}")
PY
echo "loadavg after: $(cat /proc/loadavg)"
