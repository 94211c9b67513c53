"""PyTorch's quantization-aware training step beside its fp32 step, on the peers' models.

The same measurement as `minnow bench qat`: a training step (forward, cross-entropy, backward,
SGD momentum 0.9, weight decay 5e-4) on a fixed random batch, fp32 and QAT timed in alternating
runs. QAT is PyTorch's own: FX graph mode `prepare_qat_fx` with the default fbgemm QAT qconfig
(per-channel symmetric int8 weights, moving-average min/max activation observers, conv+bn(+relu)
fused into ConvBn QAT modules that fold with batch statistics), run eagerly (no torch.compile).
FX graph mode is used because the peers' models add residuals with `+`, which eager-mode
`prepare_qat` cannot quantize without editing the model.

    ~/.cache/minnow-peers-venv/bin/python Benchmarks/qat_step_pytorch.py --model student_mbv2
Prints one JSON object: {"model", "batch", "threads", "fp32_ms", "qat_ms", "ratio"} (medians).
"""
import argparse
import copy
import json
import os
import statistics
import sys
import time

import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "peers"))
from models import build  # noqa: E402  (the peers' reference models)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="student_mbv2")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    from torch.ao.quantization import get_default_qat_qconfig_mapping
    from torch.ao.quantization.quantize_fx import prepare_qat_fx

    x = torch.randn(args.batch, 1, 28, 28)
    y = torch.arange(args.batch) % 10
    fp32 = build(args.model).train()
    qat = prepare_qat_fx(copy.deepcopy(fp32).train(), get_default_qat_qconfig_mapping("fbgemm"), (x,))
    models = [fp32, qat]
    optimizers = [torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4) for m in models]
    loss = nn.CrossEntropyLoss()

    def step(i):
        optimizers[i].zero_grad(set_to_none=True)
        loss(models[i](x), y).backward()
        optimizers[i].step()

    for i in range(2):
        for _ in range(3):
            step(i)
    samples = [[], []]
    for _ in range(args.repeats):
        for i in range(2):
            t0 = time.perf_counter()
            for _ in range(args.steps):
                step(i)
            samples[i].append((time.perf_counter() - t0) * 1000 / args.steps)
    fp32_ms, qat_ms = statistics.median(samples[0]), statistics.median(samples[1])
    print(json.dumps({"model": args.model, "batch": args.batch, "threads": args.threads, "fp32_ms": fp32_ms, "qat_ms": qat_ms,
                      "ratio": qat_ms / fp32_ms, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
