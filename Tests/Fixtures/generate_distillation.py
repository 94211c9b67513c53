"""Golden values for Minnow's distillation losses, computed with PyTorch.

Run by hand from the package root (any Python with torch will do):

    /root/.cache/minnow-peers-venv/bin/python Tests/Fixtures/generate_distillation.py

It rewrites Tests/Fixtures/distillation.json, which is committed; the Swift tests
(Tests/MinnowDistillationTests/GoldenDistillationTests.swift) read only that file. The committed
file was made with torch 2.15.0 (CPU).

Each loss is written as its reference code writes it (the papers' released code where there is
one), in float64, from float32-exact inputs rounded to 3 decimals; the file stores the inputs, the
loss and the gradients of the loss with respect to the student's inputs, in Minnow's layouts (NHWC
feature maps, HWIO filters, [N, C] logits, labels as floats). The float32 PyTorch results are
compared with the float64 goldens to show the Swift tolerance (rtol 1e-4, atol 1e-5) has room.

Cases:
- kd_t4, kd_t1: Hinton KD, alpha * T^2 * KL(batchmean) + (1 - alpha) * CE, at T = 4 (alpha 0.9) and
  T = 1 (alpha 0.5). Tensors: student, teacher, labels, loss, kd (the weighted KL term), ce (the
  weighted CE term), grad_student.
- dkd: mdistiller's dkd_loss (Zhao et al., CVPR 2022) with alpha 1, beta 8, T 4, plus CE. Tensors:
  student, teacher, labels, loss, tckd, nckd (unweighted), grad_student.
- at: attention transfer (szagoruyko/attention-transfer, utils.py): beta / 2 * at_loss, beta 1000.
  Tensors: student, teacher (NHWC), loss, grad_student.
- fitnets: MSE between a 1x1 conv (with bias) of the student map and the teacher map. Tensors:
  student, teacher, filter (HWIO), bias, loss, grad_student, grad_filter, grad_bias.
"""

import json
import os

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
F64 = torch.float64
RTOL, ATOL = 1e-4, 1e-5


def randn(*shape, scale=1.0):
    t = torch.randn(*shape, dtype=F64) * scale
    return (torch.round(t * 1000) / 1000).to(torch.float32).to(F64)


def nchw(x):
    return x.permute(0, 3, 1, 2)


# ---- the losses, as their reference code writes them (NCHW inside, Minnow layouts outside) ----

def kd(student, teacher, labels, temperature, alpha):
    t = temperature
    kl = F.kl_div(F.log_softmax(student / t, dim=1), F.softmax(teacher / t, dim=1), reduction="batchmean") * t * t
    ce = F.cross_entropy(student, labels)
    return alpha * kl + (1 - alpha) * ce, {"kd": alpha * kl, "ce": (1 - alpha) * ce}


def dkd(student, teacher, labels, temperature, alpha, beta):
    # mdistiller/distillers/DKD.py, dkd_loss, with its helpers.
    def gt_mask(logits, target):
        return torch.zeros_like(logits).scatter_(1, target.reshape(-1).unsqueeze(1), 1).bool()

    def other_mask(logits, target):
        return torch.ones_like(logits).scatter_(1, target.reshape(-1).unsqueeze(1), 0).bool()

    def cat_mask(t, mask1, mask2):
        t1 = (t * mask1).sum(dim=1, keepdims=True)
        t2 = (t * mask2).sum(1, keepdims=True)
        return torch.cat([t1, t2], dim=1)

    gt, other = gt_mask(student, labels), other_mask(student, labels)
    pred_student = cat_mask(F.softmax(student / temperature, dim=1), gt, other)
    pred_teacher = cat_mask(F.softmax(teacher / temperature, dim=1), gt, other)
    tckd = F.kl_div(torch.log(pred_student), pred_teacher, reduction="sum") * temperature ** 2 / labels.shape[0]
    pred_teacher_part2 = F.softmax(teacher / temperature - 1000.0 * gt, dim=1)
    log_pred_student_part2 = F.log_softmax(student / temperature - 1000.0 * gt, dim=1)
    nckd = F.kl_div(log_pred_student_part2, pred_teacher_part2, reduction="sum") * temperature ** 2 / labels.shape[0]
    ce = F.cross_entropy(student, labels)
    return ce + alpha * tckd + beta * nckd, {"tckd": tckd, "nckd": nckd}


def attention(student, teacher, beta):
    # szagoruyko/attention-transfer, utils.py: at(x) and at_loss(x, y); the total is beta / 2 * sum.
    def at(x):
        return F.normalize(x.pow(2).mean(1).view(x.size(0), -1))

    def at_loss(x, y):
        return (at(x) - at(y)).pow(2).mean()

    return beta / 2 * at_loss(nchw(student), nchw(teacher)), {}


def fitnets(student, teacher, filter, bias):
    weight = filter.permute(3, 2, 0, 1)  # HWIO -> OIHW
    return F.mse_loss(F.conv2d(nchw(student), weight, bias), nchw(teacher)), {}


# ---- cases ----

def run(name, inputs, differentiable, fn, out, worst):
    """Stores inputs, loss, extra terms and grads (float64), and checks the float32 margin."""
    results = {}
    for dtype in (F64, torch.float32):
        leaves = {k: (v.to(dtype) if v.is_floating_point() else v).clone() for k, v in inputs.items()}
        for k in differentiable:
            leaves[k].requires_grad_(True)
        loss, extras = fn(leaves)
        grads = torch.autograd.grad(loss, [leaves[k] for k in differentiable])
        results[dtype] = {"loss": loss, **extras, **{f"grad_{k}": g for k, g in zip(differentiable, grads)}}
    for k, v in inputs.items():
        out[f"{name}.{k}"] = v.to(F64)
    for k, v in results[F64].items():
        expected, actual = v.detach(), results[torch.float32][k].detach().to(F64)
        out[f"{name}.{k}"] = expected
        worst[0] = max(worst[0], ((actual - expected).abs() / (ATOL + RTOL * expected.abs())).max().item())


def main():
    torch.manual_seed(5)
    out, worst = {}, [0.0]
    for name, t, alpha in (("kd_t4", 4.0, 0.9), ("kd_t1", 1.0, 0.5)):
        inputs = {"student": randn(6, 10, scale=2), "teacher": randn(6, 10, scale=3), "labels": torch.randint(0, 10, (6,))}
        run(name, inputs, ["student"], lambda x, t=t, a=alpha: kd(x["student"], x["teacher"], x["labels"], t, a), out, worst)
    inputs = {"student": randn(6, 10, scale=2), "teacher": randn(6, 10, scale=3), "labels": torch.randint(0, 10, (6,))}
    run("dkd", inputs, ["student"], lambda x: dkd(x["student"], x["teacher"], x["labels"], 4.0, 1.0, 8.0), out, worst)
    inputs = {"student": randn(2, 4, 4, 3), "teacher": randn(2, 4, 4, 5)}
    run("at", inputs, ["student"], lambda x: attention(x["student"], x["teacher"], 1000.0), out, worst)
    inputs = {"student": randn(2, 4, 4, 3), "teacher": randn(2, 4, 4, 5), "filter": randn(1, 1, 3, 5, scale=0.5),
              "bias": randn(5, scale=0.1)}
    run("fitnets", inputs, ["student", "filter", "bias"],
        lambda x: fitnets(x["student"], x["teacher"], x["filter"], x["bias"]), out, worst)

    path = os.path.join(HERE, "distillation.json")
    lines = [f'{json.dumps(k)}: {{"shape": {list(v.shape)}, "data": [{",".join(str(np.float32(x)) for x in v.flatten().tolist())}]}}'
             for k, v in out.items()]
    with open(path, "w") as f:
        f.write("{\n" + ",\n".join(lines) + "\n}\n")
    json.load(open(path))
    print(f"distillation.json: {len(out)} tensors, {os.path.getsize(path) / 1000:.1f} kB, "
          f"worst float32 PyTorch error = {worst[0]:.3f} of the test tolerance")


if __name__ == "__main__":
    main()
