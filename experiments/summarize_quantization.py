#!/usr/bin/env python3
"""The quantization study's table from its run folders: every runs/<name>/quantization.json
(minnow quantize / minnow qat) and runs/ptq-pytorch-<model>.json (experiments/pytorch_ptq.py).

    python3 experiments/summarize_quantization.py runs
Prints a Markdown table: model, method, fp32 / fake-quant / int8 top-1, agreement; then the
mean and sample standard deviation of the int8 top-1 over the QAT seeds of each model.
"""
import json
import statistics
import sys
from pathlib import Path


def main():
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "runs")
    print("| run | method | fp32 | fake-quant | int8 (integer) | int8 vs fp32 agreement |")
    print("|---|---|---|---|---|---|")
    seeds = {}
    for path in sorted(root.glob("*/quantization.json")):
        numbers = json.loads(path.read_text())
        pct = lambda key: f"{float(numbers[key]) * 100:.2f}%"
        print(f"| {path.parent.name} | {numbers.get('method', '?')} {numbers.get('weight_bits', '8')}-bit weights | {pct('fp32_top1')} | "
              f"{pct('fake_quant_top1')} | {pct('int8_top1')} | {pct('int8_agreement_with_fp32')} |")
        name = path.parent.name
        if name.startswith("qat-") and name.rsplit("-s", 1)[-1].isdigit() and not name.startswith("qat-kd"):
            seeds.setdefault(name.rsplit("-s", 1)[0], []).append(float(numbers["int8_top1"]) * 100)
    for path in sorted(root.glob("ptq-pytorch-*.json")):
        numbers = json.loads(path.read_text())
        print(f"| {path.stem} | PyTorch PTQ (fbgemm) | {numbers['fp32_top1'] * 100:.2f}% | - | {numbers['int8_top1'] * 100:.2f}% | "
              f"{numbers['agreement'] * 100:.2f}% |")
    for name, values in sorted(seeds.items()):
        spread = statistics.stdev(values) if len(values) > 1 else 0.0
        print(f"\n{name}: int8 top-1 over {len(values)} seeds {', '.join(f'{v:.2f}' for v in values)}: "
              f"{statistics.mean(values):.2f} ± {spread:.2f}")


if __name__ == "__main__":
    main()
