#!/usr/bin/env python3
"""PyTorch's own post-training quantization of a Minnow checkpoint: the peer row of the
quantization results (docs/results.md).

The checkpoint's float model is loaded into the peers' PyTorch model (checkpoint_to_pytorch.py),
quantized with `torch.ao`'s FX graph mode PTQ and the fbgemm backend's default qconfig
(per-channel symmetric int8 weights, histogram observers on activations, conv+bn(+relu) fused),
calibrated on --calibrate seeded random training images, converted to int8 and evaluated on the
whole Fashion-MNIST test set beside the float model.

    ~/.cache/minnow-peers-venv/bin/python experiments/pytorch_ptq.py runs/kd-s1/best.h5 [--calibrate 512]
Prints one JSON object: {"checkpoint", "preset", "fp32_top1", "int8_top1", "agreement", "calibration_images", "torch"}.
The calibration images are 512 of the training set drawn with numpy's seed 0, not the same 512
Minnow draws (its generator is its own): the same count from the same distribution.
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from checkpoint_to_pytorch import REPO, load_pytorch  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--peers-dir", default=str(REPO.parent / "shared" / "peers"))
    parser.add_argument("--calibrate", type=int, default=512)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.backends.quantized.engine = "fbgemm"
    preset, model = load_pytorch(args.checkpoint, args.peers_dir)
    import models  # the peers' module, on the path after load_pytorch
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    train_x, _ = models.load_fmnist("train")
    test_x, test_y = models.load_fmnist("test")
    pick = np.random.default_rng(0).permutation(len(train_x))[: args.calibrate]
    calibration = train_x[torch.from_numpy(pick)]
    prepared = prepare_fx(model, get_default_qconfig_mapping("fbgemm"), (calibration[:1],))
    with torch.no_grad():
        for start in range(0, len(calibration), 128):
            prepared(calibration[start:start + 128])
        quantized = convert_fx(prepared)
        _, float_model = load_pytorch(args.checkpoint, args.peers_dir)
        float_classes, int8_classes = [], []
        for start in range(0, len(test_x), 256):
            batch = test_x[start:start + 256]
            float_classes.append(float_model(batch).argmax(1))
            int8_classes.append(quantized(batch).argmax(1))
    float_classes, int8_classes = torch.cat(float_classes), torch.cat(int8_classes)
    print(json.dumps({
        "checkpoint": args.checkpoint, "preset": preset, "calibration_images": args.calibrate, "test_images": len(test_y),
        "fp32_top1": float((float_classes == test_y).float().mean()), "int8_top1": float((int8_classes == test_y).float().mean()),
        "agreement": float((float_classes == int8_classes).float().mean()), "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
