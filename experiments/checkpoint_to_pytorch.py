#!/usr/bin/env python3
"""Load a Minnow checkpoint into the equivalent PyTorch model and check that both give the same logits.

Supports the peers' reference models (shared/peers/models.py): `teacher` (ResNet-14),
`student_mbv2` (MobileNetV2 at width 0.5) and `student_squeeze` (SqueezeNet 1.1 layout). Layouts
are converted as docs/checkpoint-format.md describes: HWIO conv filters to OIHW, [in, out] linear
weights to [out, in], BatchNorm scale/offset/runningMean/runningVariance to
weight/bias/running_mean/running_var; every PyTorch tensor must be filled exactly once.

Both models then see the same seeded random images in evaluation mode (NHWC for Minnow, through
`minnow predict`; NCHW for PyTorch), and the largest logit difference is reported.

    python experiments/checkpoint_to_pytorch.py runs/mbv2/best.h5 [--peers-dir ../shared/peers]
        [--minnow .build/release/minnow] [--images 64] [--save mbv2.pt]

Exits with status 1 when the difference exceeds --tolerance (1e-4). Needs torch, h5py and numpy.
"""
import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import h5py
import numpy as np

REPO = Path(__file__).resolve().parent.parent


def read_checkpoint(path):
    """The model config and every parameter and buffer, by dotted Minnow path."""
    tensors = {}
    with h5py.File(path, "r") as f:
        version = int(f.attrs["format_version"])
        if f.attrs["format"].decode() != "minnow.checkpoint" or version > 2:
            sys.exit(f"{path}: not a Minnow checkpoint of format version 1 or 2 (found {version})")
        if "quantization" in f:
            sys.exit(f"{path}: a quantized checkpoint; convert the float checkpoint it came from")
        config = json.loads(f["config"][()].decode())
        for section in ("model", "buffers"):
            def collect(name, obj):
                if isinstance(obj, h5py.Dataset):
                    tensors[name.replace("/", ".")] = np.asarray(obj[()], dtype=np.float32)
            f[section].visititems(collect)
    return config, tensors


def preset_of(config):
    """The peers' model a Minnow config is, or None."""
    if config["inputShape"] != [28, 28, 1]:
        return None
    presets = {
        ("resnet", 1.0): "teacher" if config["depth"] == 14 else None,
        ("mobilenet_v2", 0.5): "student_mbv2",
        ("squeezenet", 1.0): "student_squeeze",
    }
    return presets.get((config["architecture"], config["width"]))


def torch_module(preset, path, has):
    """The PyTorch module path of the Minnow module at `path` (`has(p)` tells whether Minnow has a module p)."""
    if preset == "teacher":
        return {"stem.conv": "stem.0", "stem.bn": "stem.1"}.get(path, path)
    if preset == "student_mbv2":
        match = re.fullmatch(r"features\.(\d+)\.(conv|bn|expand\.conv|expand\.bn|depthwise\.conv|depthwise\.bn|project|projectBN)", path)
        if not match:
            return path
        index, part = match.groups()
        if part in ("conv", "bn"):  # the stem and head ConvBNActivation
            return f"features.{index}.{0 if part == 'conv' else 1}"
        k = 1 if has(f"features.{index}.expand.conv") else 0
        position = {"expand.conv": "0.0", "expand.bn": "0.1", "depthwise.conv": f"{k}.0", "depthwise.bn": f"{k}.1",
                    "project": f"{k + 1}", "projectBN": f"{k + 2}"}[part]
        return f"features.{index}.conv.{position}"
    if preset == "student_squeeze":
        if path in ("features.0.conv", "features.0.bn"):
            return "features.0" if path.endswith("conv") else "features.1"
        if path == "classifier":
            return "classifier.1"
        match = re.fullmatch(r"features\.(\d+)\.(squeeze|expand1x1|expand3x3)\.(conv|bn)", path)
        index, branch, part = match.groups()
        branch = {"squeeze": "squeeze", "expand1x1": "expand1", "expand3x3": "expand3"}[branch]
        return f"features.{int(index) + 2}.{branch}.{0 if part == 'conv' else 1}"
    raise ValueError(preset)


def convert(preset, tensors):
    """A PyTorch state dict (without num_batches_tracked) from Minnow's tensors."""
    modules = {name.rsplit(".", 1)[0] for name in tensors}
    state = {}
    for name, value in tensors.items():
        module, leaf = name.rsplit(".", 1)
        target = torch_module(preset, module, lambda p: p in modules)
        if leaf == "filter":
            state[f"{target}.weight"] = value.transpose(3, 2, 0, 1)  # HWIO -> OIHW
        elif leaf == "weight":
            state[f"{target}.weight"] = value.T  # [in, out] -> [out, in]
        else:
            torch_leaf = {"bias": "bias", "scale": "weight", "offset": "bias",
                          "runningMean": "running_mean", "runningVariance": "running_var"}[leaf]
            state[f"{target}.{torch_leaf}"] = value
    return state


def load_pytorch(checkpoint, peers_dir):
    """The peers' PyTorch model of a Minnow checkpoint, with its weights, in evaluation mode: (preset, model)."""
    import torch
    sys.path.insert(0, peers_dir)
    import models

    config, tensors = read_checkpoint(checkpoint)
    preset = preset_of(config)
    if preset is None:
        sys.exit(f"{checkpoint}: {config['architecture']} at width {config['width']} is none of the peers' models")
    model = models.build(preset)
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in convert(preset, tensors).items()}
    expected = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    missing, extra = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    if missing or extra:
        sys.exit(f"name mapping incomplete: PyTorch tensors not filled {missing}, Minnow tensors unused {extra}")
    for name, value in state.items():
        if tuple(value.shape) != tuple(expected[name].shape):
            sys.exit(f"{name}: PyTorch shape {tuple(expected[name].shape)}, converted Minnow shape {tuple(value.shape)}")
    state.update({k: v for k, v in model.state_dict().items() if k.endswith("num_batches_tracked")})
    model.load_state_dict(state, strict=True)
    return preset, model.eval()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--peers-dir", default=str(REPO.parent / "shared" / "peers"),
                        help="folder with the peers' models.py (default: ../shared/peers from the repository)")
    parser.add_argument("--minnow", default=str(REPO / ".build" / "release" / "minnow"), help="the minnow command")
    parser.add_argument("--images", type=int, default=64, help="random images to compare on")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("--save", help="also save the PyTorch state dict here (torch.save)")
    args = parser.parse_args()

    import torch
    preset, model = load_pytorch(args.checkpoint, args.peers_dir)

    images = np.random.default_rng(args.seed).standard_normal((args.images, 28, 28, 1)).astype(np.float32)
    with tempfile.TemporaryDirectory() as folder:
        inputs, outputs = Path(folder) / "images.npy", Path(folder) / "logits.npy"
        np.save(inputs, images)
        subprocess.run([args.minnow, "predict", args.checkpoint, "--input", str(inputs), "--output", str(outputs)],
                       check=True, stdout=subprocess.DEVNULL)
        minnow_logits = np.load(outputs)
    with torch.no_grad():
        torch_logits = model(torch.from_numpy(images.transpose(0, 3, 1, 2).copy())).numpy()

    difference = float(np.abs(minnow_logits - torch_logits).max())
    agreement = float((minnow_logits.argmax(1) == torch_logits.argmax(1)).mean())
    print(f"{args.checkpoint}: {preset}, {sum(v.numel() for v in model.parameters())} parameters; "
          f"{args.images} images: max |logit difference| {difference:.3g} (largest |logit| "
          f"{float(np.abs(torch_logits).max()):.3g}), same top-1 class for {agreement:.0%}")
    if args.save:
        torch.save(model.state_dict(), args.save)
        print(f"PyTorch state dict saved to {args.save}")
    if difference > args.tolerance:
        sys.exit(f"difference {difference:.3g} exceeds the tolerance {args.tolerance:g}")


if __name__ == "__main__":
    main()
