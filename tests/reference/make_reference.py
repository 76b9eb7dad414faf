"""Reference trajectories from PyTorch for Ember's optimizer and SimpleNet tests.

Run on a machine with PyTorch (the data in tests/data/ was made with the torch version written in
each file's header):  python3 tests/reference/make_reference.py tests/data

Each output file is plain text, one tensor per line:  name ndim d0 .. d{ndim-1} v0 v1 ...
float32 values are printed with 9 significant digits, which round-trips exactly.
"""
import sys
from pathlib import Path

import torch


def dump(path, tensors, header):
    with open(path, "w") as f:
        f.write(f"# {header}; torch {torch.__version__}\n")
        for name, t in tensors:
            t = t.detach().to(torch.float64).cpu().reshape(list(t.shape))
            dims = " ".join(str(d) for d in t.shape)
            vals = " ".join(f"{v:.17g}" for v in t.flatten().tolist())
            f.write(f"{name} {t.dim()} {dims} {vals}\n".replace("  ", " "))


def optimizer_cases():
    # A small regression: Linear(3, 2) weights and bias, fixed inputs, MSE loss, 25 steps.
    torch.manual_seed(1234)
    w0 = torch.randn(2, 3)
    b0 = torch.randn(2)
    x = torch.randn(8, 3)
    y = torch.randn(8, 2)
    out = [("w0", w0), ("b0", b0), ("x", x), ("y", y)]
    cases = {
        "adam": lambda p: torch.optim.Adam(p, lr=0.05, foreach=False),
        "adam_wd": lambda p: torch.optim.Adam(p, lr=0.05, weight_decay=0.1, foreach=False),
        "adam_amsgrad": lambda p: torch.optim.Adam(p, lr=0.05, betas=(0.8, 0.95), amsgrad=True, foreach=False),
        "adam_maximize": lambda p: torch.optim.Adam(p, lr=0.01, maximize=True, foreach=False),
        "adamw": lambda p: torch.optim.AdamW(p, lr=0.05, weight_decay=0.1, foreach=False),
        "sgd": lambda p: torch.optim.SGD(p, lr=0.05, foreach=False),
        "sgd_momentum": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01, foreach=False),
        "sgd_nesterov": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, foreach=False),
    }
    for name, make in cases.items():
        w = w0.clone().requires_grad_()
        b = b0.clone().requires_grad_()
        opt = make([w, b])
        for _ in range(25):
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(x @ w.t() + b, y)
            loss.backward()
            opt.step()
        out += [(f"{name}.w", w), (f"{name}.b", b)]
    return out


def simple_net():
    torch.manual_seed(0)
    model = torch.nn.Linear(10, 2)
    x = torch.randn(100, 10)
    y = torch.randn(100, 2)
    # Clones: the parameters are trained in place below.
    out = [("w0", model.weight.detach().clone()), ("b0", model.bias.detach().clone()), ("x", x), ("y", y)]
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    crit = torch.nn.MSELoss()
    losses = []
    for i in range(1000):
        opt.zero_grad()
        loss = crit(model(x), y)
        loss.backward()
        opt.step()
        if (i + 1) % 100 == 0:
            losses.append(loss.item())
    out += [("losses", torch.tensor(losses, dtype=torch.float64)), ("w1000", model.weight), ("b1000", model.bias)]
    return out


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "tests/data")
    folder.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    dump(folder / "optimizers.txt", optimizer_cases(), "Linear(3,2) regression, 25 steps per optimizer")
    dump(folder / "simple_net.txt", simple_net(), "SimpleNet: Linear(10,2), MSELoss, Adam lr 0.01, 1000 steps")
    print("wrote", folder / "optimizers.txt", folder / "simple_net.txt")
