#!/usr/bin/env python3
"""Torch-Pruning (DepGraph, Fang et al. 2023) on the PyTorch port of a Minnow checkpoint: the peer
row of the pruning results (docs/results.md).

The checkpoint's float model is loaded into the peers' PyTorch model (checkpoint_to_pytorch.py) and
pruned with the settings Minnow's study uses: L1 filter-norm group importance
(GroupMagnitudeImportance(p=1), Torch-Pruning's default group reduction and normalizer), global
ranking, channel counts rounded to multiples of 8, the first convolution and the classifier
ignored; the pruning ratio rises in steps of 1% until the conv+linear MACs are at most --target-macs
of the unpruned model's. Then it is fine-tuned with Minnow's recipe (3 epochs, SGD with Nesterov
momentum 0.9, lr 0.01 with a per-step cosine schedule, weight decay 5e-4, batches of 128, dropout
on), optionally with Hinton KD from --teacher (T=4, alpha=0.9), and evaluated on the whole
Fashion-MNIST test set after each epoch.

    ~/.cache/minnow-peers-venv/bin/python experiments/torch_pruning_peer.py runs/kd-s1/best.h5 --target-macs 0.5
Prints one JSON object: the MACs and parameters before and after, the output channels of every
convolution and linear layer in execution order (before and after), the test top-1 before
pruning, after pruning and after each fine-tuning epoch.
"""
import argparse
import json
import math
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch_pruning as tp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from checkpoint_to_pytorch import REPO, load_pytorch  # noqa: E402


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        correct = sum(int((model(x[i:i + 500]).argmax(1) == y[i:i + 500]).sum()) for i in range(0, len(x), 500))
    return correct / len(x)


def weighted_layers(model):
    """(name, out channels) of every Conv2d and Linear in execution order."""
    order = []
    hooks = [m.register_forward_hook(lambda m, i, o, n=n: order.append((n, m.out_channels if isinstance(m, nn.Conv2d) else m.out_features)))
             for n, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 1, 28, 28))
    for h in hooks:
        h.remove()
    return order


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--target-macs", type=float, default=0.5)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--teacher", help="a Minnow checkpoint of the teacher: fine-tune with KD from it")
    parser.add_argument("--peers-dir", default=str(REPO.parent / "shared" / "peers"))
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    preset, model = load_pytorch(args.checkpoint, args.peers_dir)
    import models  # the peers' module, on the path after load_pytorch

    train_x, train_y = models.load_fmnist("train")
    test_x, test_y = models.load_fmnist("test")
    before_layers = weighted_layers(model)
    base_macs, base_params = models.count_macs(model), sum(p.numel() for p in model.parameters())
    top1_before = accuracy(model, test_x, test_y)

    convs = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    ignored = [convs[0], convs[-1]]
    steps = 95
    pruner = tp.pruner.MetaPruner(model, torch.zeros(1, 1, 28, 28), importance=tp.importance.GroupMagnitudeImportance(p=1),
                                  global_pruning=True, pruning_ratio=0.95, iterative_steps=steps, round_to=8, ignored_layers=ignored)
    for _ in range(steps):
        if models.count_macs(model) <= args.target_macs * base_macs:
            break
        pruner.step()
    macs, params = models.count_macs(model), sum(p.numel() for p in model.parameters())
    top1_pruned = accuracy(model, test_x, test_y)

    teacher = load_pytorch(args.teacher, args.peers_dir)[1] if args.teacher else None
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4)
    per_epoch = len(train_x) // 128
    total = per_epoch * args.epochs
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 0.5 * (1 + math.cos(math.pi * step / max(total, 1))))
    generator = torch.Generator().manual_seed(0)
    epochs = []
    for epoch in range(args.epochs):
        start = time.time()
        model.train()
        order = torch.randperm(len(train_x), generator=generator)
        for step in range(per_epoch):
            index = order[step * 128:(step + 1) * 128]
            x, y = train_x[index], train_y[index]
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            if teacher is not None:
                with torch.no_grad():
                    soft = F.softmax(teacher(x) / 4, 1)
                kd = F.kl_div(F.log_softmax(logits / 4, 1), soft, reduction="batchmean") * 16
                loss = 0.9 * kd + 0.1 * loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
        epochs.append({"epoch": epoch + 1, "test_top1": accuracy(model, test_x, test_y), "seconds": time.time() - start})
        print(json.dumps(epochs[-1]), file=sys.stderr)
    print(json.dumps({
        "checkpoint": args.checkpoint, "preset": preset, "target_macs": args.target_macs, "teacher": args.teacher,
        "macs_before": base_macs, "macs_after": macs, "params_before": base_params, "params_after": params,
        "layers_before": before_layers, "layers_after": weighted_layers(model),
        "top1_before": top1_before, "top1_pruned": top1_pruned, "epochs": epochs,
        "torch": torch.__version__, "torch_pruning": tp.__version__,
    }))


if __name__ == "__main__":
    main()
