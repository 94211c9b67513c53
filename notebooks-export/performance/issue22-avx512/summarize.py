#!/usr/bin/env python3
"""Markdown tables from this folder's logs: training img/s and conv fwd+bwd ratios per build and round."""
import glob, os, re

folder = os.path.dirname(os.path.abspath(__file__))
order = {"old": 0, "new": 1, "newfinal": 2, "avx2before": 3, "avx2": 4, "avx2final": 5}

def rows(path, pattern):
    with open(path) as f:
        return {m.group(1): m.groups() for m in (re.match(pattern, line) for line in f) if m}

def table(kind, title, pattern, cell):
    paths = glob.glob(os.path.join(folder, f"r*-*-{kind}.log"))
    runs = sorted(((os.path.basename(p)[: -len(f"-{kind}.log")], p) for p in paths),
                  key=lambda run: (order[run[0].split("-")[1]], run[0]))
    parsed = [(name, rows(path, pattern)) for name, path in runs]
    print(f"| {title} | " + " | ".join(name for name, _ in parsed) + " |")
    print("|---" * (len(parsed) + 1) + "|")
    for key in parsed[0][1]:
        print(f"| {key} | " + " | ".join(cell(found[key]) if key in found else "–" for _, found in parsed) + " |")
    print()

table("train", "training img/s (Minnow / PyTorch, ratio)",
      r"^(\w+)\s+([\d.]+)\s+[\d.]+-[\d.]+\s+([\d.]+)\s+([\d.]+)$", lambda r: f"{r[1]} / {r[2]}: **{r[3]}**")
table("ops", "conv fwd+bwd ratio to PyTorch (forward ratio)",
      r"^([\d,]+)\s+[\d.]+\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+[\d.]+$", lambda r: f"{r[6]} ({r[3]})")
