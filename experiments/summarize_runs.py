#!/usr/bin/env python3
"""Final-epoch test top-1 of run folders, grouped by condition: a folder named NAME-sS is seed S of
condition NAME. Prints a Markdown table: per-seed accuracies, mean, sample standard deviation
(n - 1), and the spread (max - min). Reads only metrics.jsonl; needs nothing beyond Python 3.

    python3 experiments/summarize_runs.py runs/scratch-s1 runs/scratch-s2 runs/kd-s1 ...
"""
import json
import re
import statistics
import sys
from pathlib import Path


def final_top1(folder: Path) -> float:
    """The test top-1 (%) of the run's last epoch; stops if the run has not finished its recipe."""
    lines = (folder / "metrics.jsonl").read_text().splitlines()
    epochs = json.loads((folder / "config.json").read_text())["training"]["epochs"]
    if len(lines) != epochs:
        raise SystemExit(f"{folder}: {len(lines)} of {epochs} epochs recorded: the run has not finished")
    return 100 * json.loads(lines[-1])["test"]["top1"]


def main(folders):
    groups = {}
    for folder in map(Path, folders):
        match = re.fullmatch(r"(.+)-s(\d+)", folder.name)
        if not match:
            raise SystemExit(f"{folder}: expected a folder named NAME-sSEED")
        groups.setdefault(match[1], []).append((int(match[2]), final_top1(folder)))
    print("| condition | seeds | top-1 per seed | mean ± std | spread (max - min) |")
    print("|---|---|---|---|---|")
    for name, runs in groups.items():
        runs.sort()
        values = [v for _, v in runs]
        std = statistics.stdev(values) if len(values) > 1 else float("nan")
        print(f"| {name} | {', '.join(str(s) for s, _ in runs)} | {', '.join(f'{v:.2f}' for v in values)} "
              f"| {statistics.mean(values):.2f} ± {std:.2f} | {max(values) - min(values):.2f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
