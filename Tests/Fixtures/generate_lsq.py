"""Golden values for Minnow's learned-step-size fake quantization (LSQ), from PyTorch.

Run by hand (CI does not need PyTorch):
    /root/.cache/minnow-peers-venv/bin/python Tests/Fixtures/generate_lsq.py
Writes Tests/Fixtures/lsq.json in the Fixture format ({"name": {"shape": [...], "data": [...]}}).

Cases:
- per tensor: `torch._fake_quantize_learnable_per_tensor_affine(x, scale, zero_point, qmin, qmax,
  grad_factor)`; keys <case>.x, .gy, .config = [scale, zero_point, qmin, qmax, grad_factor], .y,
  .grad_x, .grad_scale.
- per channel: `torch._fake_quantize_learnable_per_channel_affine(x, scale, zero_point, axis, qmin,
  qmax, grad_factor)`; keys <case>.x, .gy, .scale, .zero_point, .config = [axis, qmin, qmax,
  grad_factor], .y, .grad_x, .grad_scale.
int8 ([-128, 127]) and int4 ([-8, 7]) ranges; inputs span beyond the clamping range.
Zero points are >= 0: PyTorch's backward reads the zero point as int(zero_point + 0.5) (truncated
toward zero), which is zero_point + 1 for a negative one (-128 becomes -127), so its step gradient
for clamped values is off by one code there; Minnow uses the zero point itself.
Made with torch 2.13.0 (CPU).
"""
import json
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lsq.json")


def entry(t):
    t = torch.as_tensor(t, dtype=torch.float32)
    return {"shape": list(t.shape), "data": [float(v) for v in t.flatten()]}


def main():
    g = torch.Generator().manual_seed(0)
    fixture = {}
    for name, shape, scale, zero_point, qmin, qmax, factor in [
        ("tensor_int8", [2, 4, 4, 3], 0.05, 0, -128, 127, 0.01),
        ("tensor_asymmetric", [64], 0.02, 37, -128, 127, 0.1),
        ("tensor_int4", [3, 7], 0.3, 0, -8, 7, 1.0),
    ]:
        span = (qmax - qmin) * scale * 0.75
        x = ((torch.rand(shape, generator=g) * 2 - 1) * span + (-(zero_point - (qmin + qmax) / 2) * scale)).float().requires_grad_()
        s = torch.tensor([float(np.float32(scale))], requires_grad=True)
        z = torch.tensor([float(zero_point)])
        gy = torch.randn(shape, generator=g)
        y = torch._fake_quantize_learnable_per_tensor_affine(x, s, z, qmin, qmax, factor)
        y.backward(gy)
        fixture[f"{name}.x"] = entry(x.detach())
        fixture[f"{name}.gy"] = entry(gy)
        fixture[f"{name}.config"] = entry([float(s.detach()[0]), zero_point, qmin, qmax, factor])
        fixture[f"{name}.y"] = entry(y.detach())
        fixture[f"{name}.grad_x"] = entry(x.grad)
        fixture[f"{name}.grad_scale"] = entry(s.grad)
    for name, shape, axis, qmin, qmax, factor in [("channel_hwio", [3, 3, 2, 5], 3, -128, 127, 0.05),
                                                  ("channel_int4", [3, 3, 4, 6], 3, -8, 7, 0.2)]:
        channels = shape[axis]
        s = torch.tensor([float(np.float32(0.01 + 0.02 * c)) for c in range(channels)], requires_grad=True)
        z = torch.zeros(channels)
        view = [1] * len(shape)
        view[axis] = channels
        x = ((torch.rand(shape, generator=g) * 2 - 1) * (qmax * 1.3) * s.detach().reshape(view)).float().requires_grad_()
        gy = torch.randn(shape, generator=g)
        y = torch._fake_quantize_learnable_per_channel_affine(x, s, z, axis, qmin, qmax, factor)
        y.backward(gy)
        fixture[f"{name}.x"] = entry(x.detach())
        fixture[f"{name}.gy"] = entry(gy)
        fixture[f"{name}.scale"] = entry(s.detach())
        fixture[f"{name}.zero_point"] = entry(z)
        fixture[f"{name}.config"] = entry([axis, qmin, qmax, factor])
        fixture[f"{name}.y"] = entry(y.detach())
        fixture[f"{name}.grad_x"] = entry(x.grad)
        fixture[f"{name}.grad_scale"] = entry(s.grad)
    with open(OUT, "w") as f:
        json.dump(fixture, f)


if __name__ == "__main__":
    main()
