#!/usr/bin/env python3
"""The pruning table of docs/results.md from the run folders of experiments/pruning-study.sh and the
Torch-Pruning peer's JSON (experiments/torch_pruning_peer.py), as Markdown.

    python3 experiments/summarize_pruning.py runs
    python3 experiments/summarize_pruning.py --channels runs/prune50-student runs/tp-student-50.json   # channels per layer, beside the peer's
"""
import json
import sys
from pathlib import Path


def row(folder):
    report = json.loads((folder / "pruning-report.json").read_text())
    before, after = report["before"], report["after"]
    settings = report["settings"]
    teacher = (folder / "distillation.json").exists() or "kd" in folder.name.split("-")
    return (f"| {folder.name} | {settings['criterion']} | {settings['schedule']['kind']} | {'yes' if teacher else 'no'} "
            f"| {100 * after['macs'] / before['macs']:.1f}% ({after['macs']:,}) | {100 * after['parameters'] / before['parameters']:.1f}% "
            f"| {100 * report['top1Before']:.2f} | {100 * report['top1After']:.2f} | {100 * (report['top1After'] - report['top1Before']):+.2f} |")


def main():
    runs = Path(sys.argv[1] if len(sys.argv) > 1 else "runs")
    print("| run | criterion | schedule | teacher KD | MACs kept | params kept | top-1 before | top-1 after 3 epochs | change |")
    print("|---|---|---|---|---|---|---|---|---|")
    for folder in sorted(runs.glob("prune*"), key=lambda p: (("teacher" in p.name), p.name)):
        if (folder / "pruning-report.json").exists():
            print(row(folder))
    for peer in sorted(runs.glob("tp-*.json")):
        text = peer.read_text().strip()
        if not text:
            continue
        r = json.loads(text)
        final = r["epochs"][-1]["test_top1"] if r["epochs"] else float("nan")
        print(f"| {peer.stem} (Torch-Pruning {r['torch_pruning']}) | l1 (group) | oneshot | {'yes' if r['teacher'] else 'no'} "
              f"| {100 * r['macs_after'] / r['macs_before']:.1f}% ({r['macs_after']:,}) | {100 * r['params_after'] / r['params_before']:.1f}% "
              f"| {100 * r['top1_before']:.2f} | {100 * final:.2f} | {100 * (final - r['top1_before']):+.2f} |")


if __name__ == "__main__" and (len(sys.argv) < 2 or sys.argv[1] != "--channels"):
    main()


def channels(minnow_run, peer_json):
    """Output channels per convolution/linear layer, execution order: before, Minnow's, Torch-Pruning's."""
    report = json.loads((Path(minnow_run) / "pruning-report.json").read_text())
    peer = json.loads(Path(peer_json).read_text())
    print(f"| layer (Minnow path / PyTorch name) | before | Minnow ({Path(minnow_run).name}) | Torch-Pruning |")
    print("|---|---|---|---|")
    for row, (name, before), (_, after) in zip(report["rows"], peer["layers_before"], peer["layers_after"]):
        mine = row["after"]["outputs"] if row.get("after") else "-"
        assert row["before"]["outputs"] == before, (row["layer"], name)
        print(f"| {row['layer']} / {name} | {before} | {mine} | {after} |")


if __name__ == "__main__" and len(sys.argv) == 4 and sys.argv[1] == "--channels":
    channels(sys.argv[2], sys.argv[3])
