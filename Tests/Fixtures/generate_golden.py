"""Golden values for Minnow's tensor ops, computed with PyTorch.

Run by hand from the package root (any Python with torch and numpy will do):

    /root/.cache/minnow-peers-venv/bin/python Tests/Fixtures/generate_golden.py

It rewrites Tests/Fixtures/{conv2d,batchnorm,pooling,losses,activations}.json, which are committed.
The Swift tests (Tests/MinnowTensorTests/GoldenTests.swift) and CI read only those JSON files;
neither needs PyTorch. The committed files were made with torch 2.15.0 (CPU) and numpy 2.4.6.

How the values are made:
- Every family reseeds torch (torch.manual_seed), so adding a case to one family leaves the others unchanged.
- Inputs are drawn in float64, rounded to 3 decimals and then to float32, so the stored inputs are
  exactly the values Minnow sees; everything is then computed in float64 from those values and
  rounded to float32 only when written. The goldens are the exact answers for the stored inputs,
  not PyTorch's float32 answers.
- Tensors are stored in Minnow's layouts: NHWC activations, HWIO conv filters [kh, kw, Cin/groups,
  Cout], [N, C] logits, integer labels as floats. The PyTorch calls permute inside the computed
  function, so autograd hands back gradients already in Minnow's layout.
- Non-scalar outputs are differentiated with a random upstream gradient `gy` (stored), i.e. the grads
  are d(sum(y * gy))/d(input); scalar losses are differentiated directly.
- Each case is checked twice before it is written: against an independent numpy implementation
  written directly in Minnow's layouts (catches layout/permutation mistakes), and by re-running
  PyTorch in float32 to confirm the Swift test's tolerances leave a wide margin for float32 rounding.

Keys are "<case>.<tensor>"; see Tests/Fixtures/README.md for the list.
"""

import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
F64 = torch.float64

# The tolerances GoldenTests.swift uses, per family: (rtol, atol).
TOLERANCES = {
    "conv2d": (1e-4, 1e-4),
    "batchnorm": (1e-4, 1e-4),
    "pooling": (1e-4, 1e-5),
    "losses": (1e-4, 1e-5),
    "activations": (1e-4, 1e-5),
}


# ----------------------------------------------------------------------------------------------
# Inputs and writing


def f32_exact(t):
    """Rounds a float64 tensor to float32 and back: the value Minnow will hold."""
    return t.to(torch.float32).to(F64)


def randn(*shape, scale=1.0, shift=0.0):
    """Normal inputs rounded to 3 decimals (short in JSON), exactly representable as float32 values."""
    t = torch.randn(*shape, dtype=F64) * scale + shift
    return f32_exact(torch.round(t * 1000) / 1000)


def uniform_avoiding(shape, low, high, kinks, margin=0.05):
    """Uniform inputs in [low, high) at least `margin` away from every point in `kinks`."""
    t = torch.rand(*shape, dtype=F64) * (high - low) + low
    for _ in range(100):
        bad = torch.zeros(t.shape, dtype=torch.bool)
        for k in kinks:
            bad |= (t - k).abs() < margin
        if not bad.any():
            break
        t[bad] = torch.rand(int(bad.sum()), dtype=F64) * (high - low) + low
    t = torch.round(t * 1000) / 1000
    for k in kinks:
        assert ((t - k).abs() >= margin - 1e-3).all()
    return f32_exact(t)


def distinct(*shape):
    """A random permutation of evenly spaced values (steps of 0.01): no ties, for max pooling."""
    n = math.prod(shape)
    values = (torch.randperm(n).to(F64) - n / 2) * 0.01
    return f32_exact(values.reshape(shape))


def format_float(v):
    v = np.float32(v)
    assert np.isfinite(v), v
    return str(v)  # shortest repr that round-trips through float32; valid JSON


class Fixture:
    """Collects named tensors and writes them as {"name": {"shape": [...], "data": [...]}}."""

    def __init__(self, family, seed):
        self.family = family
        self.rtol, self.atol = TOLERANCES[family]
        self.tensors = {}
        self.worst_f32 = 0.0
        torch.manual_seed(seed)

    def put(self, name, t):
        assert name not in self.tensors, name
        if not isinstance(t, torch.Tensor):
            t = torch.tensor(t, dtype=F64)
        self.tensors[name] = t.detach().to(F64).clone()

    def write(self):
        path = os.path.join(HERE, f"{self.family}.json")
        lines = []
        for name, t in self.tensors.items():
            data = ",".join(format_float(v) for v in t.flatten().tolist())
            lines.append(f'{json.dumps(name)}: {{"shape": {list(t.shape)}, "data": [{data}]}}')
        text = "{\n" + ",\n".join(lines) + "\n}\n"
        json.loads(text)  # well-formed
        with open(path, "w") as f:
            f.write(text)
        size = os.path.getsize(path)
        assert size < 200_000, f"{path} is {size} bytes"
        print(f"{self.family}.json: {len(self.tensors)} tensors, {size / 1000:.1f} kB, "
              f"worst float32 PyTorch error = {self.worst_f32:.3f} of the test tolerance")

    def case(self, name, inputs, differentiable, fn, reference=None):
        """Runs fn on `inputs` (dict name -> float64 tensor in Minnow layout) and stores the inputs,
        `y`, extra outputs and `grad_<input>` for every name in `differentiable`.

        fn(leaves) returns (y, extras): extras is a dict of further outputs (e.g. running stats).
        reference(inputs, gy) is an independent numpy implementation returning a dict with "y",
        "grad_<name>" and extra entries to compare against.
        """
        results = {}
        for dtype in (F64, torch.float32):
            leaves = {k: v.to(dtype).clone().requires_grad_(k in differentiable) for k, v in inputs.items()}
            y, extras = fn(leaves)
            if dtype == F64:
                gy = None if y.dim() == 0 else randn(*y.shape)
            wrt = [leaves[k] for k in differentiable]
            grads = torch.autograd.grad(y, wrt, None if gy is None else gy.to(dtype))
            out = {"y": y, **extras, **{f"grad_{k}": g for k, g in zip(differentiable, grads)}}
            results[dtype] = {k: v.detach().to(F64) for k, v in out.items()}

        exact, single = results[F64], results[torch.float32]
        for k in exact:
            err = (single[k] - exact[k]).abs() / (self.atol + self.rtol * exact[k].abs())
            self.worst_f32 = max(self.worst_f32, float(err.max()))
        if reference is not None:
            ref = reference({k: v.numpy() for k, v in inputs.items()}, None if gy is None else gy.numpy())
            for k, v in ref.items():
                np.testing.assert_allclose(exact[k].numpy(), v, rtol=1e-9, atol=1e-9, err_msg=f"{name}.{k}")
            assert set(ref) == set(exact), (name, sorted(ref), sorted(exact))

        for k, v in inputs.items():
            self.put(f"{name}.{k}", v)
        if gy is not None:
            self.put(f"{name}.gy", gy)
        for k, v in exact.items():
            self.put(f"{name}.{k}", v)


def nchw(x):
    return x.permute(0, 3, 1, 2)


def nhwc(x):
    return x.permute(0, 2, 3, 1)


# ----------------------------------------------------------------------------------------------
# conv2d


def conv_reference(stride, padding, dilation, groups):
    """Direct NHWC x HWIO convolution in numpy, with its gradients."""
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation

    def run(inputs, gy):
        x, w = inputs["x"], inputs["w"]
        n, h, wd, cin = x.shape
        kh, kw, cg, cout = w.shape
        og = cout // groups
        assert cg * groups == cin
        ho = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
        wo = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
        xp = np.pad(x, ((0, 0), (ph, ph), (pw, pw), (0, 0)))
        y = np.zeros((n, ho, wo, cout))
        gxp = np.zeros_like(xp)
        gw = np.zeros_like(w)
        for i in range(ho):
            for j in range(wo):
                for a in range(kh):
                    for c in range(kw):
                        r, s = i * sh + a * dh, j * sw + c * dw
                        for g in range(groups):
                            ci, co = slice(g * cg, (g + 1) * cg), slice(g * og, (g + 1) * og)
                            patch, wg, gyo = xp[:, r, s, ci], w[a, c, :, co], gy[:, i, j, co]
                            y[:, i, j, co] += patch @ wg
                            gw[a, c, :, co] += patch.T @ gyo
                            gxp[:, r, s, ci] += gyo @ wg.T
        out = {"grad_x": gxp[:, ph:ph + h, pw:pw + wd], "grad_w": gw}
        if "b" in inputs:
            y += inputs["b"]
            out["grad_b"] = gy.sum(axis=(0, 1, 2))
        out["y"] = y
        return out

    return run


def generate_conv2d():
    fx = Fixture("conv2d", seed=1)
    # name, input NHWC, filter HWIO, bias?, stride, padding, dilation, groups
    cases = [
        ("conv3x3_s1_p1", (2, 6, 6, 3), (3, 3, 3, 8), True, (1, 1), (1, 1), (1, 1), 1),
        ("conv3x3_s1_p1_nobias", (2, 5, 5, 4), (3, 3, 4, 4), False, (1, 1), (1, 1), (1, 1), 1),
        ("conv3x3_s2_p1", (2, 7, 8, 4), (3, 3, 4, 6), True, (2, 2), (1, 1), (1, 1), 1),
        ("conv3x3_valid", (2, 6, 5, 3), (3, 3, 3, 4), False, (1, 1), (0, 0), (1, 1), 1),
        ("conv1x1_s1", (2, 5, 5, 6), (1, 1, 6, 4), True, (1, 1), (0, 0), (1, 1), 1),
        ("conv1x1_s2", (2, 6, 7, 4), (1, 1, 4, 6), False, (2, 2), (0, 0), (1, 1), 1),
        ("depthwise3x3_s1_p1", (2, 6, 6, 4), (3, 3, 1, 4), True, (1, 1), (1, 1), (1, 1), 4),
        ("depthwise3x3_s2_p1", (2, 7, 6, 6), (3, 3, 1, 6), False, (2, 2), (1, 1), (1, 1), 6),
        ("depthwise3x3_multiplier2", (2, 5, 5, 3), (3, 3, 1, 6), True, (1, 1), (1, 1), (1, 1), 3),
        ("grouped3x3_g2", (2, 6, 6, 4), (3, 3, 2, 6), True, (1, 1), (1, 1), (1, 1), 2),
        ("dilated3x3_d2", (2, 8, 8, 3), (3, 3, 3, 4), True, (1, 1), (2, 2), (2, 2), 1),
        ("kernel3x1_s2x1", (2, 7, 5, 3), (3, 1, 3, 5), True, (2, 1), (1, 0), (1, 1), 1),
        ("conv7x7_s2_p3", (2, 8, 8, 3), (7, 7, 3, 4), True, (2, 2), (3, 3), (1, 1), 1),
    ]
    for name, xs, ws, has_bias, stride, padding, dilation, groups in cases:
        fan_in = ws[0] * ws[1] * ws[2]
        inputs = {"x": randn(*xs), "w": randn(*ws, scale=1 / math.sqrt(fan_in))}
        if has_bias:
            inputs["b"] = randn(ws[3], scale=0.5)

        def fn(t, stride=stride, padding=padding, dilation=dilation, groups=groups):
            y = F.conv2d(nchw(t["x"]), t["w"].permute(3, 2, 0, 1), t.get("b"),
                         stride=stride, padding=padding, dilation=dilation, groups=groups)
            return nhwc(y), {}

        fx.put(f"{name}.config", [*stride, *padding, *dilation, groups])
        fx.case(name, inputs, list(inputs), fn, conv_reference(stride, padding, dilation, groups))
    fx.write()


# ----------------------------------------------------------------------------------------------
# batch norm


def batchnorm_reference(training, momentum=0.1, eps=1e-5):
    def run(inputs, gy):
        x, scale, offset = inputs["x"], inputs["scale"], inputs["offset"]
        axes = tuple(range(x.ndim - 1))
        m = x.size // x.shape[-1]
        if training:
            mean, var = x.mean(axis=axes), x.var(axis=axes)
        else:
            mean, var = inputs["running_mean"], inputs["running_var"]
        inv = 1 / np.sqrt(var + eps)
        xhat = (x - mean) * inv
        out = {"y": xhat * scale + offset, "grad_scale": (gy * xhat).sum(axis=axes),
               "grad_offset": gy.sum(axis=axes)}
        g = gy * scale
        if training:
            out["grad_x"] = inv * (g - g.mean(axis=axes) - xhat * (g * xhat).mean(axis=axes))
            out["running_mean_after"] = (1 - momentum) * inputs["running_mean"] + momentum * mean
            out["running_var_after"] = (1 - momentum) * inputs["running_var"] + momentum * var * m / (m - 1)
        else:
            out["grad_x"] = g * inv
        return out

    return run


def generate_batchnorm():
    fx = Fixture("batchnorm", seed=2)
    for name, shape in [("bn2d", (2, 4, 4, 3)), ("bn1d", (8, 5))]:
        c = shape[-1]
        for mode in ("train", "eval"):
            training = mode == "train"
            inputs = {
                "x": randn(*shape, scale=1.5, shift=0.7),
                "scale": randn(c, scale=0.5, shift=1.0),
                "offset": randn(c, scale=0.5),
                "running_mean": randn(c, scale=0.5),
                "running_var": f32_exact(torch.round((torch.rand(c, dtype=F64) * 1.5 + 0.5) * 1000) / 1000),
            }

            def fn(t, training=training):
                rm, rv = t["running_mean"].detach().clone(), t["running_var"].detach().clone()
                x = t["x"] if t["x"].dim() == 2 else nchw(t["x"])
                y = F.batch_norm(x, rm, rv, t["scale"], t["offset"], training=training, momentum=0.1, eps=1e-5)
                y = y if y.dim() == 2 else nhwc(y)
                return y, ({"running_mean_after": rm, "running_var_after": rv} if training else {})

            fx.case(f"{name}_{mode}", inputs, ["x", "scale", "offset"], fn, batchnorm_reference(training))
    fx.write()


# ----------------------------------------------------------------------------------------------
# pooling


def pool_reference(kind, kernel, stride, padding):
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding

    def run(inputs, gy):
        x = inputs["x"]
        n, h, w, c = x.shape
        ho, wo = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
        fill = -np.inf if kind == "max" else 0.0
        xp = np.pad(x, ((0, 0), (ph, ph), (pw, pw), (0, 0)), constant_values=fill)
        y = np.zeros((n, ho, wo, c))
        gxp = np.zeros_like(xp)
        for i in range(ho):
            for j in range(wo):
                window = xp[:, i * sh:i * sh + kh, j * sw:j * sw + kw, :]
                if kind == "max":
                    y[:, i, j] = window.max(axis=(1, 2))
                    flat = window.reshape(n, kh * kw, c).argmax(axis=1)
                    for b in range(n):
                        for ch in range(c):
                            a, d = divmod(flat[b, ch], kw)
                            gxp[b, i * sh + a, j * sw + d, ch] += gy[b, i, j, ch]
                else:  # count_include_pad: always divide by kh * kw
                    y[:, i, j] = window.sum(axis=(1, 2)) / (kh * kw)
                    gxp[:, i * sh:i * sh + kh, j * sw:j * sw + kw, :] += gy[:, i, j][:, None, None, :] / (kh * kw)
        return {"y": y, "grad_x": gxp[:, ph:ph + h, pw:pw + w]}

    return run


def generate_pooling():
    fx = Fixture("pooling", seed=3)
    # name, input NHWC, kernel, stride, padding
    cases = [
        ("maxpool2x2_s2", (2, 6, 8, 3), (2, 2), (2, 2), (0, 0)),
        ("maxpool3x3_s2_p1", (2, 7, 7, 3), (3, 3), (2, 2), (1, 1)),
        ("avgpool2x2_s2", (2, 7, 6, 3), (2, 2), (2, 2), (0, 0)),
        ("avgpool3x3_s1_p1", (2, 5, 5, 3), (3, 3), (1, 1), (1, 1)),
    ]
    for name, shape, kernel, stride, padding in cases:
        kind = name[:3]
        x = distinct(*shape) if kind == "max" else randn(*shape)

        def fn(t, kind=kind, kernel=kernel, stride=stride, padding=padding):
            pool = F.max_pool2d if kind == "max" else F.avg_pool2d
            return nhwc(pool(nchw(t["x"]), kernel, stride, padding)), {}

        fx.put(f"{name}.config", [*kernel, *stride, *padding])
        fx.case(name, {"x": x}, ["x"], fn, pool_reference(kind, kernel, stride, padding))

    def global_reference(inputs, gy):
        x = inputs["x"]
        hw = x.shape[1] * x.shape[2]
        return {"y": x.mean(axis=(1, 2)), "grad_x": np.broadcast_to(gy[:, None, None, :] / hw, x.shape)}

    fx.case("global_avgpool", {"x": randn(2, 4, 5, 6)}, ["x"],
            lambda t: (F.adaptive_avg_pool2d(nchw(t["x"]), 1).flatten(1), {}), global_reference)
    fx.write()


# ----------------------------------------------------------------------------------------------
# losses


def np_log_softmax(z, axis=-1):
    z = z - z.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def generate_losses():
    fx = Fixture("losses", seed=4)
    n, c = 6, 5

    for name, smoothing, scale in [("cross_entropy", 0.0, 1.5), ("cross_entropy_smoothed", 0.1, 1.5),
                                   ("cross_entropy_large_logits", 0.0, 40.0)]:
        logits = randn(n, c, scale=scale, shift=50.0 if scale > 10 else 0.0)
        labels = torch.randint(0, c, (n,))

        def ce_reference(inputs, gy, labels=labels.numpy(), smoothing=smoothing):
            z = inputs["logits"]
            logp = np_log_softmax(z)
            target = (1 - smoothing) * np.eye(c)[labels] + smoothing / c
            return {"y": -(target * logp).sum() / n, "grad_logits": (np.exp(logp) - target) / n}

        fx.put(f"{name}.labels", labels.to(F64))
        fx.put(f"{name}.label_smoothing", torch.tensor(smoothing, dtype=F64))
        fx.case(name, {"logits": logits}, ["logits"],
                lambda t, labels=labels, smoothing=smoothing: (
                    F.cross_entropy(t["logits"], labels, label_smoothing=smoothing), {}),
                ce_reference)

    for temperature in (1.0, 4.0):
        name = f"kd_T{int(temperature)}"
        inputs = {"student": randn(n, c, scale=2.0), "teacher": randn(n, c, scale=3.0)}

        def kd(t, T=temperature):
            loss = F.kl_div(F.log_softmax(t["student"] / T, 1), F.softmax(t["teacher"] / T, 1),
                            reduction="batchmean") * T * T
            return loss, {}

        def kd_reference(inputs, gy, T=temperature):
            ls, lt = np_log_softmax(inputs["student"] / T), np_log_softmax(inputs["teacher"] / T)
            pt = np.exp(lt)
            return {"y": T * T * (pt * (lt - ls)).sum() / n, "grad_student": T * (np.exp(ls) - pt) / n}

        fx.put(f"{name}.temperature", torch.tensor(temperature, dtype=F64))
        fx.case(name, inputs, ["student"], kd, kd_reference)

    def mse_reference(inputs, gy):
        d = inputs["prediction"] - inputs["target"]
        return {"y": (d * d).mean(), "grad_prediction": 2 * d / d.size, "grad_target": -2 * d / d.size}

    fx.case("mse", {"prediction": randn(4, 3), "target": randn(4, 3)}, ["prediction", "target"],
            lambda t: (F.mse_loss(t["prediction"], t["target"]), {}), mse_reference)
    fx.write()


# ----------------------------------------------------------------------------------------------
# activations and softmax


def generate_activations():
    fx = Fixture("activations", seed=5)
    shape = (4, 6)

    def sigmoid(x):
        return 1 / (1 + np.exp(-x))

    # name, input, torch function, numpy (value, derivative)
    cases = [
        ("relu", uniform_avoiding(shape, -3, 3, [0]), F.relu,
         lambda x: (np.maximum(x, 0), (x > 0) * 1.0)),
        ("relu6", uniform_avoiding(shape, -3, 9, [0, 6]), F.relu6,
         lambda x: (np.clip(x, 0, 6), ((x > 0) & (x < 6)) * 1.0)),
        ("leaky_relu", uniform_avoiding(shape, -3, 3, [0]), lambda x: F.leaky_relu(x, 0.01),
         lambda x: (np.where(x > 0, x, 0.01 * x), np.where(x > 0, 1.0, 0.01))),
        ("hardswish", uniform_avoiding(shape, -5, 5, [-3, 3]), F.hardswish,
         lambda x: (x * np.clip(x + 3, 0, 6) / 6, np.where(x < -3, 0.0, np.where(x > 3, 1.0, (2 * x + 3) / 6)))),
        ("sigmoid", randn(*shape, scale=2.0), torch.sigmoid,
         lambda x: (sigmoid(x), sigmoid(x) * (1 - sigmoid(x)))),
        ("tanh", randn(*shape, scale=1.5), torch.tanh,
         lambda x: (np.tanh(x), 1 - np.tanh(x) ** 2)),
        ("silu", randn(*shape, scale=3.0), F.silu,
         lambda x: (x * sigmoid(x), sigmoid(x) * (1 + x * (1 - sigmoid(x))))),
    ]
    for name, x, torch_fn, np_fn in cases:
        def reference(inputs, gy, np_fn=np_fn):
            value, derivative = np_fn(inputs["x"])
            return {"y": value, "grad_x": gy * derivative}

        fx.case(name, {"x": x}, ["x"], lambda t, torch_fn=torch_fn: (torch_fn(t["x"]), {}), reference)
    fx.put("leaky_relu.slope", torch.tensor(0.01, dtype=F64))

    # softmax / log-softmax: name, input, axis
    for name, x, axis in [("softmax", randn(4, 6, scale=2.0), -1),
                          ("softmax_axis1", randn(2, 3, 4, scale=2.0), 1),
                          ("softmax_large", randn(3, 5, scale=30.0, shift=60.0), -1)]:
        for log in (False, True):
            case = name.replace("softmax", "log_softmax") if log else name

            def fn(t, axis=axis, log=log):
                return (F.log_softmax if log else F.softmax)(t["x"], axis), {}

            def reference(inputs, gy, axis=axis, log=log):
                ls = np_log_softmax(inputs["x"], axis)
                p = np.exp(ls)
                if log:
                    return {"y": ls, "grad_x": gy - p * gy.sum(axis=axis, keepdims=True)}
                return {"y": p, "grad_x": p * (gy - (gy * p).sum(axis=axis, keepdims=True))}

            fx.put(f"{case}.axis", torch.tensor(float(axis), dtype=F64))
            fx.case(case, {"x": x}, ["x"], fn, reference)
    fx.write()


if __name__ == "__main__":
    print(f"torch {torch.__version__}, numpy {np.__version__}")
    generate_conv2d()
    generate_batchnorm()
    generate_pooling()
    generate_losses()
    generate_activations()
