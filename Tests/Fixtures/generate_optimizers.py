"""Golden values for Minnow's optimizers and learning-rate schedules, from PyTorch.

Run by hand (CI does not need PyTorch):
    /root/.cache/minnow-peers-venv/bin/python Tests/Fixtures/generate_optimizers.py
Writes Tests/Fixtures/optimizers.json in the Fixture format ({"name": {"shape": [...], "data": [...]}}).

Optimizers: a parameter of shape [3, 4] and five fixed gradients; after each step the parameter
and the optimizer's state are stored: SGD's momentum buffer (`<name>.momentum<step>`, none for
plain SGD), Adam's first and second moments (`<name>.exp_avg<step>`, `<name>.exp_avg_sq<step>`)
and its step count (`<name>.count<step>`). Schedules: lr (and momentum) at every step.
Made with torch 2.13.0 (CPU).
"""
import json
import os

import torch

STEPS = 5
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optimizers.json")


def entry(t):
    t = torch.as_tensor(t, dtype=torch.float32)
    return {"shape": list(t.shape), "data": [float(v) for v in t.flatten()]}


def main():
    torch.manual_seed(0)
    p0 = torch.randn(3, 4)
    grads = [torch.randn(3, 4) for _ in range(STEPS)]
    fixture = {"param": entry(p0)}
    for i, g in enumerate(grads):
        fixture[f"grad{i + 1}"] = entry(g)
    configs = {
        "sgd": lambda ps: torch.optim.SGD(ps, lr=0.1),
        "sgd_momentum": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=5e-4),
        "sgd_nesterov": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4),
        "adam": lambda ps: torch.optim.Adam(ps, lr=0.01, weight_decay=1e-2),
        "adamw": lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=1e-2),
    }
    for name, make in configs.items():
        p = torch.nn.Parameter(p0.clone())
        opt = make([p])
        for i, g in enumerate(grads):
            p.grad = g.clone()
            opt.step()
            fixture[f"{name}.step{i + 1}"] = entry(p.detach())
            state = opt.state[p]
            for key in ("momentum_buffer", "exp_avg", "exp_avg_sq"):
                if state.get(key) is not None:
                    slot = "momentum" if key == "momentum_buffer" else key
                    fixture[f"{name}.{slot}{i + 1}"] = entry(state[key])
            if "step" in state:
                fixture[f"{name}.count{i + 1}"] = entry([float(state["step"])])

    # Gradient clipping by global norm over two tensors.
    a, b = torch.nn.Parameter(torch.zeros(3, 4)), torch.nn.Parameter(torch.zeros(5))
    a.grad, b.grad = grads[0].clone() * 3, torch.arange(5.0)
    norm = torch.nn.utils.clip_grad_norm_([a, b], max_norm=1.0)
    fixture["clip.a_before"] = entry(grads[0] * 3)
    fixture["clip.b_before"] = entry(torch.arange(5.0))
    fixture["clip.a_after"] = entry(a.grad)
    fixture["clip.b_after"] = entry(b.grad)
    fixture["clip.norm"] = entry([norm.item()])

    # Schedules, stepped once per optimizer step; values used at steps 0..total-1.
    total = 25
    def trace(make_sched, momentum=False):
        p = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([p], lr=0.1, momentum=0.9)
        sched = make_sched(opt)
        lrs, moms = [], []
        for _ in range(total):
            lrs.append(opt.param_groups[0]["lr"])
            moms.append(opt.param_groups[0]["momentum"])
            opt.step()
            sched.step()
        return lrs, moms
    lrs, moms = trace(lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=total))
    fixture["onecycle.lr"] = entry(lrs)
    fixture["onecycle.momentum"] = entry(moms)
    lrs, _ = trace(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=7, gamma=0.5))
    fixture["step.lr"] = entry(lrs)
    lrs, _ = trace(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=total, eta_min=0.001))
    fixture["cosine.lr"] = entry(lrs)
    with open(OUT, "w") as f:
        json.dump(fixture, f)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
