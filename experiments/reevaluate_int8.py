#!/usr/bin/env python3
"""Re-evaluates the integer accuracy of every quantized run of the quantization study with
`minnow eval` and records it in the run's quantization.json as int8_top1, keeping the value first
recorded as int8_top1_ties_counted when it differs.

Why: until commit "top-1 as argmax ranks it", top-1 counted a tie between the true class and
another class as correct. Float logits almost never tie; int8 logits do (equal output codes), so
integer accuracies were up to a few hundredths of a point high. The runtime's argmax takes the
lowest index, as numpy and PyTorch do; so does the evaluation now.

    MINNOW=.build/release/minnow python3 experiments/reevaluate_int8.py runs
"""
import json
import os
import subprocess
import sys
from pathlib import Path

minnow = os.environ.get("MINNOW", ".build/release/minnow")
runs = Path(sys.argv[1] if len(sys.argv) > 1 else "runs")
for report in sorted(runs.glob("*/quantization.json")):
    folder = report.parent
    checkpoint = folder / ("quantized.h5" if (folder / "quantized.h5").exists() else "last.h5")
    if not checkpoint.exists():
        continue
    numbers = json.loads(report.read_text())
    result = subprocess.run([minnow, "eval", str(checkpoint), "--json"], capture_output=True, text=True, check=True)
    top1 = json.loads(result.stdout)["top1"]
    old = float(numbers["int8_top1"])
    if abs(old - top1) > 1e-9 and "int8_top1_ties_counted" not in numbers:
        numbers["int8_top1_ties_counted"] = numbers["int8_top1"]
    numbers["int8_top1"] = f"{top1}"
    report.write_text(json.dumps(numbers, indent=2, sort_keys=True) + "\n")
    print(f"{folder.name}: int8 top-1 {100 * top1:.2f}% (recorded before: {100 * old:.2f}%)", flush=True)
