#!/usr/bin/env python3
"""Test top-1 per epoch of run folders (or exported *.metrics.jsonl files) as an SVG line chart,
one line per run, one colour per condition (a name NAME-sS is seed S of condition NAME); values
below --ymin are drawn at the axis. Needs only Python 3: the SVG is written by hand, so the chart
can be regenerated anywhere.

    python3 experiments/plot_runs.py --out docs/distill-seeds.svg --ymin 90 runs/scratch-s1 runs/kd-s1 ...
"""
import argparse
import json
import re
from pathlib import Path

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 720, 420, 60, 170, 30, 50


def load(path: Path):
    """(condition, seed, [test top-1 % per epoch]) of a run folder or a NAME-sS.metrics.jsonl file."""
    file = path / "metrics.jsonl" if path.is_dir() else path
    name = path.name if path.is_dir() else path.name.removesuffix(".metrics.jsonl")
    match = re.fullmatch(r"(.+)-s(\d+)", name)
    if not match:
        raise SystemExit(f"{path}: expected a name NAME-sSEED")
    values = [100 * json.loads(line)["test"]["top1"] for line in file.read_text().splitlines() if line.strip()]
    return match[1], int(match[2]), values


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--ymin", type=float, default=None, help="lower end of the accuracy axis (%%)")
    parser.add_argument("--title", default="Fashion-MNIST test top-1 per epoch")
    args = parser.parse_args()
    runs = [load(path) for path in args.runs]
    conditions = list(dict.fromkeys(condition for condition, _, _ in runs))
    epochs = max(len(values) for _, _, values in runs)
    ymax = max(max(values) for _, _, values in runs)
    ymin = args.ymin if args.ymin is not None else min(min(values) for _, _, values in runs)
    ymax = ymin + max(1, -(-(ymax - ymin) // 1))  # whole percent above the best value
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(epoch):
        return LEFT + (epoch - 1) * plot_w / max(epochs - 1, 1)

    def y(value):
        return TOP + (ymax - max(value, ymin)) * plot_h / (ymax - ymin)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" font-size="12">',
           f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
           f'<text x="{LEFT}" y="18" font-size="14">{args.title}</text>']
    for tick in range(int(ymin), int(ymax) + 1):
        out.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick}%</text>')
    for epoch in range(1, epochs + 1):
        out.append(f'<text x="{x(epoch):.1f}" y="{TOP + plot_h + 18}" text-anchor="middle">{epoch}</text>')
    out.append(f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 10}" text-anchor="middle">epoch</text>')
    for condition, seed, values in runs:
        colour = COLOURS[conditions.index(condition) % len(COLOURS)]
        points = " ".join(f"{x(e + 1):.1f},{y(v):.1f}" for e, v in enumerate(values))
        out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="1.5" opacity="0.8">'
                   f'<title>{condition} seed {seed}: final {values[-1]:.2f}%</title></polyline>')
    for index, condition in enumerate(conditions):
        finals = [values[-1] for c, _, values in runs if c == condition]
        colour = COLOURS[index % len(COLOURS)]
        top = TOP + 10 + index * 22
        out.append(f'<line x1="{WIDTH - RIGHT + 15}" x2="{WIDTH - RIGHT + 35}" y1="{top}" y2="{top}" stroke="{colour}" stroke-width="3"/>')
        out.append(f'<text x="{WIDTH - RIGHT + 40}" y="{top + 4}">{condition} ({sum(finals) / len(finals):.2f}%)</text>')
    out.append("</svg>")
    args.out.write_text("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
