"""Reference values from PyTorch for Ember's optimizer, SimpleNet, classification, batch-norm, pooling,
convolution and CNN tests.

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


def classification():
    # cross_entropy and nll_loss in float64 over their options, each loss with its logits'
    # gradient; softmax and log_softmax over a middle dim.
    torch.manual_seed(7)
    F = torch.nn.functional
    x = torch.randn(6, 5, dtype=torch.float64)
    t = torch.tensor([0, 4, 2, 2, 1, 3])
    w = torch.rand(5, dtype=torch.float64) + 0.5
    q = torch.softmax(torch.randn(6, 5, dtype=torch.float64), 1)
    image = torch.randn(2, 3, 2, 2, dtype=torch.float64)
    pixels = torch.tensor([[[0, 1], [2, 1]], [[2, 2], [0, 1]]])
    out = [("x", x), ("t", t.double()), ("w", w), ("q", q), ("image", image), ("pixels", pixels.double())]
    cases = {
        "mean": lambda x: F.cross_entropy(x, t),
        "sum": lambda x: F.cross_entropy(x, t, reduction="sum"),
        "none": lambda x: F.cross_entropy(x, t, reduction="none"),
        "weighted": lambda x: F.cross_entropy(x, t, weight=w),
        "ignore": lambda x: F.cross_entropy(x, t, weight=w, ignore_index=2),
        "smooth": lambda x: F.cross_entropy(x, t, weight=w, ignore_index=2, label_smoothing=0.15),
        "smooth_sum": lambda x: F.cross_entropy(x, t, reduction="sum", label_smoothing=0.15),
        "smooth_none": lambda x: F.cross_entropy(x, t, reduction="none", ignore_index=4, label_smoothing=0.15),
        "probs": lambda x: F.cross_entropy(x, q, weight=w, label_smoothing=0.1),
        "nll": lambda x: F.nll_loss(F.log_softmax(x, 1), t, weight=w, ignore_index=1),
    }
    for name, fn in cases.items():
        xi = x.clone().requires_grad_()
        loss = fn(xi)
        loss.backward(torch.ones_like(loss))
        out += [(f"{name}.loss", loss), (f"{name}.grad", xi.grad)]
    xi = image.clone().requires_grad_()
    loss = F.cross_entropy(xi, pixels, label_smoothing=0.05)
    loss.backward()
    out += [("spatial.loss", loss), ("spatial.grad", xi.grad)]
    out += [("softmax1", torch.softmax(image, 1)), ("log_softmax2", torch.log_softmax(image, 2))]
    return out


def fashion_cnn():
    """The Fashion-MNIST example's network (examples/fashion_mnist/model.h) for 20 Adam steps, from
    an init and data that tests/fashion_cnn_checks.h computes with the same formulas. Dropout is 0:
    the two frameworks' random masks differ. float32, batch norm in training mode."""
    import math
    import torch.nn.functional as F

    # The example's network as PyTorch's twin, bench/torch_fashion_cnn.py, defines it.
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    from torch_fashion_cnn import FashionCnn

    model = FashionCnn(dropout=0.0)
    with torch.no_grad():
        for k, (name, p) in enumerate(model.named_parameters()):
            # element i of parameter k: sin(0.7 i + 1.3 k) / sqrt(fan_in), fan_in = numel / rows
            fan_in = p.numel() // p.shape[0] if p.dim() > 1 else p.numel()
            i = torch.arange(p.numel(), dtype=torch.float64)
            p.copy_((torch.sin(0.7 * i + 1.3 * k) / math.sqrt(fan_in)).reshape(p.shape))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    batch, losses = 32, []
    n = torch.arange(batch, dtype=torch.float64).reshape(batch, 1, 1, 1)
    pix = torch.arange(28 * 28, dtype=torch.float64).reshape(1, 1, 28, 28)
    for step in range(20):
        # image n of step s, pixel p: sin(0.01 (p + 1)(n + 1) + 0.1 s); label 7 n mod 10
        x = torch.sin(0.01 * (pix + 1) * (n + 1) + 0.1 * step).float()
        y = (7 * torch.arange(batch)) % 10
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return [("losses", torch.tensor(losses, dtype=torch.float64)),
            # Not the running means: a conv bias before batch norm gets a gradient of rounding noise
            # only, which Adam's normalisation turns into +-lr steps that differ between frameworks.
            ("bn1.running_var", model.bn1.running_var), ("bn2.running_var", model.bn2.running_var),
            ("fc2.bias", model.fc2.bias)]


def batch_norm():
    # batch_norm in float64: three training steps (outputs, running statistics, the last step's
    # gradients for a fixed upstream gradient), evaluation, a cumulative average (momentum=None),
    # BatchNorm2d with other eps and momentum, and BatchNorm1d without affine on [N, C].
    torch.manual_seed(11)
    F = torch.nn.functional
    f64 = torch.float64
    xs = [torch.randn(4, 3, 5, dtype=f64) * 2 + 1 for _ in range(3)]
    w = torch.rand(3, dtype=f64) + 0.5
    b = torch.randn(3, dtype=f64)
    rm0 = torch.randn(3, dtype=f64) * 0.1
    rv0 = torch.rand(3, dtype=f64) + 0.5
    g = torch.randn(4, 3, 5, dtype=f64)
    out = [(f"x{i}", x) for i, x in enumerate(xs)]
    out += [("w", w), ("b", b), ("rm0", rm0), ("rv0", rv0), ("g", g)]

    rm, rv = rm0.clone(), rv0.clone()
    for i, x in enumerate(xs):
        xi, wi, bi = x.clone().requires_grad_(), w.clone().requires_grad_(), b.clone().requires_grad_()
        y = F.batch_norm(xi, rm, rv, wi, bi, training=True, momentum=0.1, eps=1e-5)
        out += [(f"train.out{i}", y), (f"train.running_mean{i}", rm.clone()), (f"train.running_var{i}", rv.clone())]
    y.backward(g)
    out += [("train.grad_input", xi.grad), ("train.grad_weight", wi.grad), ("train.grad_bias", bi.grad)]

    xi, wi, bi = xs[0].clone().requires_grad_(), w.clone().requires_grad_(), b.clone().requires_grad_()
    y = F.batch_norm(xi, rm0, rv0, wi, bi, training=False, eps=1e-5)
    y.backward(g)
    out += [("eval.out", y), ("eval.grad_input", xi.grad), ("eval.grad_weight", wi.grad), ("eval.grad_bias", bi.grad)]

    m = torch.nn.BatchNorm1d(3, momentum=None, dtype=f64)
    for x in xs:
        m(x)
    out += [("cma.running_mean", m.running_mean), ("cma.running_var", m.running_var),
            ("cma.num_batches_tracked", m.num_batches_tracked)]

    image = torch.randn(2, 3, 4, 4, dtype=f64) * 3 - 2
    g2 = torch.randn(2, 3, 4, 4, dtype=f64)
    m = torch.nn.BatchNorm2d(3, eps=1e-3, momentum=0.3, dtype=f64)
    with torch.no_grad():
        m.weight.copy_(w)
        m.bias.copy_(b)
    xi = image.clone().requires_grad_()
    y = m(xi)
    y.backward(g2)
    out += [("image", image), ("g2", g2), ("image.out", y), ("image.grad_input", xi.grad),
            ("image.grad_weight", m.weight.grad), ("image.grad_bias", m.bias.grad),
            ("image.running_mean", m.running_mean), ("image.running_var", m.running_var)]
    m.eval()
    out += [("image.eval_out", m(image))]

    features = torch.randn(6, 4, dtype=f64)
    g3 = torch.randn(6, 4, dtype=f64)
    m = torch.nn.BatchNorm1d(4, affine=False, dtype=f64)
    xi = features.clone().requires_grad_()
    y = m(xi)
    y.backward(g3)
    out += [("features", features), ("g3", g3), ("features.out", y), ("features.grad_input", xi.grad),
            ("features.running_mean", m.running_mean), ("features.running_var", m.running_var)]
    return out


def pool():
    # max_pool2d, avg_pool2d and adaptive_avg_pool2d in float64 over their options: each output,
    # the input's gradient for a fixed upstream gradient gy, and max pooling's indices.
    torch.manual_seed(11)
    F = torch.nn.functional
    x = torch.randn(2, 3, 6, 9, dtype=torch.float64)
    out = [("x", x)]
    max_cases = {
        "max_k3s2p1": lambda x: F.max_pool2d(x, 3, 2, 1, return_indices=True),
        "max_overlap": lambda x: F.max_pool2d(x, 3, 1, return_indices=True),
        "max_dilated": lambda x: F.max_pool2d(x, (2, 3), (1, 2), 1, 2, return_indices=True),
        "max_ceil": lambda x: F.max_pool2d(x, 2, 2, 1, ceil_mode=True, return_indices=True),
    }
    cases = {
        "avg_k3s2p1": lambda x: F.avg_pool2d(x, 3, 2, 1),
        "avg_no_pad_count": lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
        "avg_ceil": lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True),
        "avg_ceil_no_pad_count": lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
        "avg_divisor": lambda x: F.avg_pool2d(x, (3, 2), (2, 1), (1, 0), divisor_override=5),
        "adaptive_4x4": lambda x: F.adaptive_avg_pool2d(x, 4),
        "adaptive_8x11": lambda x: F.adaptive_avg_pool2d(x, (8, 11)),
        "unbatched_max": lambda x: F.max_pool2d(x[1], 3, 2, 1),
        "max1d": lambda x: F.max_pool1d(x.reshape(2, 18, 9), 3, 2, 1),
        "avg1d": lambda x: F.avg_pool1d(x.reshape(2, 18, 9), 3, 2, 1, ceil_mode=True),
    }
    for name, fn in max_cases.items():
        xi = x.clone().requires_grad_()
        y, indices = fn(xi)
        gy = torch.randn_like(y)
        y.backward(gy)
        out += [(f"{name}.out", y), (f"{name}.gy", gy), (f"{name}.grad", xi.grad), (f"{name}.indices", indices.double())]
    for name, fn in cases.items():
        xi = x.clone().requires_grad_()
        y = fn(xi)
        gy = torch.randn_like(y)
        y.backward(gy)
        out += [(f"{name}.out", y), (f"{name}.gy", gy), (f"{name}.grad", xi.grad)]
    return out


def conv():
    # conv2d and conv1d in float64 over their options: for each case its input x, weight w, bias b
    # (when it has one), upstream gradient g, output and the three gradients for g.
    torch.manual_seed(11)
    F = torch.nn.functional
    d = torch.float64
    cases = {
        "grouped": ((2, 4, 7, 6), (6, 2, 3, 2), True,
                    lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2)),
        "same": ((2, 3, 6, 5), (4, 3, 4, 3), True, lambda x, w, b: F.conv2d(x, w, b, padding="same", dilation=(1, 2))),
        "depthwise": ((1, 4, 5, 5), (8, 1, 3, 3), False, lambda x, w, b: F.conv2d(x, w, None, stride=2, padding=1, groups=4)),
        "unbatched": ((3, 5, 5), (2, 3, 3, 3), True, lambda x, w, b: F.conv2d(x, w, b, padding="valid")),
        "conv1d": ((3, 4, 9), (6, 2, 3), True, lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=2, dilation=2, groups=2)),
        "conv1d_same": ((2, 3, 8), (2, 3, 4), True, lambda x, w, b: F.conv1d(x, w, b, padding="same")),
    }
    out = []
    for name, (xs, ws, has_bias, fn) in cases.items():
        x = torch.randn(*xs, dtype=d, requires_grad=True)
        w = torch.randn(*ws, dtype=d, requires_grad=True)
        b = torch.randn(ws[0], dtype=d, requires_grad=True) if has_bias else None
        y = fn(x, w, b)
        g = torch.randn_like(y)
        y.backward(g)
        out += [(f"{name}.x", x), (f"{name}.w", w), (f"{name}.g", g), (f"{name}.out", y), (f"{name}.gx", x.grad),
                (f"{name}.gw", w.grad)]
        if has_bias:
            out += [(f"{name}.b", b), (f"{name}.gb", b.grad)]
    return out


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "tests/data")
    folder.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    dump(folder / "optimizers.txt", optimizer_cases(), "Linear(3,2) regression, 25 steps per optimizer")
    dump(folder / "simple_net.txt", simple_net(), "SimpleNet: Linear(10,2), MSELoss, Adam lr 0.01, 1000 steps")
    dump(folder / "classification.txt", classification(), "cross_entropy / nll_loss / softmax in float64")
    dump(folder / "fashion_cnn.txt", fashion_cnn(), "examples/fashion_mnist's CNN, 20 Adam steps, float32")
    dump(folder / "batch_norm.txt", batch_norm(), "batch_norm / BatchNorm1d / BatchNorm2d in float64")
    dump(folder / "pool.txt", pool(), "max_pool2d / avg_pool2d / adaptive_avg_pool2d in float64")
    dump(folder / "conv.txt", conv(), "conv2d / conv1d: output and gradients in float64")
    print("wrote", folder / "optimizers.txt", folder / "simple_net.txt", folder / "classification.txt",
          folder / "fashion_cnn.txt", folder / "batch_norm.txt", folder / "pool.txt", folder / "conv.txt")
