"""Golden values for Minnow's fake quantization, from PyTorch.

Run by hand (CI does not need PyTorch):
    /root/.cache/minnow-peers-venv/bin/python Tests/Fixtures/generate_fake_quant.py
Writes Tests/Fixtures/fake_quant.json in the Fixture format ({"name": {"shape": [...], "data": [...]}}).

Cases (int8, quant range [-128, 127]):
- per tensor: `torch.fake_quantize_per_tensor_affine(x, scale, zero_point, -128, 127)`;
  keys <case>.x, .gy (upstream gradient), .config = [scale, zero_point], .y, .grad_x.
- per channel: `torch.fake_quantize_per_channel_affine(x, scale, zero_point, axis, -128, 127)`;
  keys <case>.x, .gy, .scale, .zero_point, .axis (= [axis]), .y, .grad_x. Axes are given in Minnow's
  layouts: the last axis of an NHWC activation, axis 3 (outputs) of an HWIO filter.
Inputs span beyond the clamping range, and include values whose scaled form is an exact tie
(k + 0.5), so rounding half to even and the straight-through mask are both exercised.
Scales are float32 values (PyTorch's CPU kernel computes in float32: `x * (1.0f / scale)`, `nearbyint`).
Made with torch 2.13.0 (CPU).
"""
import json
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake_quant.json")


def entry(t):
    t = torch.as_tensor(t, dtype=torch.float32)
    return {"shape": list(t.shape), "data": [float(v) for v in t.flatten()]}


def f32(value):
    return float(np.float32(value))


def inputs(shape, scale, zero_point, generator):
    # Mostly uniform over a range 1.5x wider than the representable one; a quarter exact ties.
    low, high = (-128 - zero_point) * scale * 1.5, (127 - zero_point) * scale * 1.5
    x = torch.rand(shape, generator=generator) * (high - low) + low
    ties = (torch.randint(-140, 140, shape, generator=generator).float() + 0.5) * scale
    pick = torch.rand(shape, generator=generator) < 0.25
    return torch.where(pick, ties, x).float()


def main():
    generator = torch.Generator().manual_seed(0)
    fixture = {}
    for name, shape, scale, zero_point in [
        ("tensor_a", [2, 4, 4, 3], 0.05, 0),
        ("tensor_b", [64], 0.0235294122248888, -128),
        ("tensor_c", [3, 7], 1.7, 31),
    ]:
        scale = f32(scale)
        x = inputs(shape, scale, zero_point, generator).requires_grad_()
        gy = torch.randn(shape, generator=generator)
        y = torch.fake_quantize_per_tensor_affine(x, scale, zero_point, -128, 127)
        y.backward(gy)
        fixture[f"{name}.x"] = entry(x.detach())
        fixture[f"{name}.gy"] = entry(gy)
        fixture[f"{name}.config"] = entry([scale, zero_point])
        fixture[f"{name}.y"] = entry(y.detach())
        fixture[f"{name}.grad_x"] = entry(x.grad)
    for name, shape, axis in [("channel_nhwc", [2, 3, 3, 4], 3), ("channel_hwio", [3, 3, 2, 5], 3), ("channel_rows", [6, 5], 0)]:
        channels = shape[axis]
        scale = torch.tensor([f32(0.01 + 0.03 * c) for c in range(channels)], dtype=torch.float32)
        zero_point = torch.tensor([(-1) ** c * 7 * c for c in range(channels)], dtype=torch.int32)
        view = [1] * len(shape)
        view[axis] = channels
        low = ((-128 - zero_point) * scale * 1.5).reshape(view)
        high = ((127 - zero_point) * scale * 1.5).reshape(view)
        x = torch.rand(shape, generator=generator) * (high - low) + low
        ties = (torch.randint(-140, 140, shape, generator=generator).float() + 0.5) * scale.reshape(view)
        x = torch.where(torch.rand(shape, generator=generator) < 0.25, ties, x).float().requires_grad_()
        gy = torch.randn(shape, generator=generator)
        y = torch.fake_quantize_per_channel_affine(x, scale, zero_point, axis, -128, 127)
        y.backward(gy)
        fixture[f"{name}.x"] = entry(x.detach())
        fixture[f"{name}.gy"] = entry(gy)
        fixture[f"{name}.scale"] = entry(scale)
        fixture[f"{name}.zero_point"] = entry(zero_point.float())
        fixture[f"{name}.axis"] = entry([axis])
        fixture[f"{name}.y"] = entry(y.detach())
        fixture[f"{name}.grad_x"] = entry(x.grad)
    with open(OUT, "w") as f:
        json.dump(fixture, f)
    print("wrote", OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
